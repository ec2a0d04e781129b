// Svelte 5: a writable synced by syncWritable and a $state object synced by
// syncState (tabsync/svelte), on channels <channel> and <channel>-prefs.
import { mount } from 'svelte';
import { writable } from 'svelte/store';
import { syncState, syncWritable } from 'tabsync/svelte';
import App from './App.svelte';
import { prefs } from './prefs.svelte.js';
import { initialState, syncConfig, syncPanel } from './shared.js';

const demo = writable(initialState());
const config = syncConfig('svelte');
const sync = syncWritable(demo, config);
const prefsSync = syncState(prefs, { ...config, channelName: `${config.channelName}-prefs` });
window.demo = demo;
window.prefs = prefs;

mount(App, { target: document.getElementById('app'), props: { demo, prefs } });
syncPanel(sync, prefsSync);
