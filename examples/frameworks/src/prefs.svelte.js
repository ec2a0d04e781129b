// A Svelte 5 $state object, synced by syncState from tabsync/svelte.
export const prefs = $state({ theme: 'light' });
