// The tabsync package as a user gets it: `npm pack` of npm/ (its prepack
// builds from npm/dist, which `make build` made), unpacked as npm install
// would. The suite serves the unpacked files, never npm/dist or the sources.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const here = dirname(dirname(fileURLToPath(import.meta.url))); // e2e/engines
export const repo = resolve(here, '..', '..');
export const modules = join(here, 'node_modules');

// pack packs npm/ into a temporary directory and unpacks the tarball there.
// It resolves with { dir, dist, tarball, cleanup }: dir is the package's
// root (package.json, dist/), as node_modules/tabsync would hold it.
export function pack() {
  const npmDir = join(repo, 'npm');
  if (!existsSync(join(npmDir, 'dist', 'tabsync.wasm'))) {
    throw new Error('npm/dist/tabsync.wasm is missing: run `make build` first');
  }
  const tmp = mkdtempSync(join(tmpdir(), 'tabsync-pack-'));
  execFileSync('npm', ['pack', '--silent', '--pack-destination', tmp], { cwd: npmDir, stdio: ['ignore', 'ignore', 'pipe'] });
  const tarball = readdirSync(tmp).find((f) => /^tabsync-.*\.tgz$/.test(f));
  if (!tarball) throw new Error(`npm pack made no tabsync-*.tgz in ${tmp}`);
  execFileSync('tar', ['-xzf', join(tmp, tarball), '-C', tmp]);
  const dir = join(tmp, 'package');
  return { dir, dist: join(dir, 'dist'), tarball: join(tmp, tarball), cleanup: () => rmSync(tmp, { recursive: true, force: true }) };
}

// bundleReactDemo bundles examples/react against the packed package, with
// React and zustand from this suite's node_modules, into outDir/app.js (where
// the demo's own build puts it).
export async function bundleReactDemo(pkgDir, outDir) {
  const esbuild = await import('esbuild');
  await esbuild.build({
    entryPoints: [join(repo, 'examples', 'react', 'src', 'main.jsx')],
    bundle: true,
    format: 'esm',
    jsx: 'automatic',
    logLevel: 'warning',
    alias: {
      react: join(modules, 'react'),
      'react-dom': join(modules, 'react-dom'),
      zustand: join(modules, 'zustand'),
      'tabsync/react': join(pkgDir, 'dist', 'react.mjs'),
      tabsync: join(pkgDir, 'dist', 'tabsync.mjs'),
    },
    define: { 'process.env.NODE_ENV': '"development"' },
    outfile: join(outDir, 'app.js'),
  });
}
