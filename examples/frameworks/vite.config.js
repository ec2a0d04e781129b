// One Vite build for the six framework demos, a page each (see README.md).
// tabsync is linked from ../../npm (file:), whose own node_modules hold the
// same frameworks for its tests: dedupe makes every import of a framework,
// the package's included, resolve here, so each page has one copy of it.
import { resolve } from 'node:path';
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const pages = ['redux', 'pinia', 'vue', 'svelte', 'valtio', 'jotai'];

export default defineConfig({
  base: './',
  plugins: [svelte()],
  resolve: {
    dedupe: ['vue', 'pinia', 'svelte', 'redux', '@reduxjs/toolkit', 'valtio', 'jotai', 'react', 'react-dom'],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
    reportCompressedSize: false,
    rollupOptions: {
      // jotai's 'use client' directives mean nothing outside React Server Components.
      onwarn(warning, warn) {
        if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
      },
      input: Object.fromEntries(pages.map((p) => [p, resolve(import.meta.dirname, `${p}.html`)])),
    },
  },
});
