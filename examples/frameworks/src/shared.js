// What every framework demo shares: the sync config, read from the address,
// and the panel under the app (tab id, tabs, Stop/Start and Destroy), plain
// DOM so that it works the same beside every framework.
//
// The address can set: ch (channel name; default tabsync-demo-<framework>),
// strategy (conflictStrategy), throttle (ms), persist=0, devtools (1 or
// auto), debug.
export function syncConfig(framework, more = {}) {
  const q = new URLSearchParams(location.search);
  const devtools = q.get('devtools');
  return {
    channelName: q.get('ch') || `tabsync-demo-${framework}`,
    excludeKeys: ['draft'],
    persist: q.get('persist') !== '0',
    conflictStrategy: q.get('strategy') || 'last-write-wins',
    throttleMs: q.has('throttle') ? Number(q.get('throttle')) : 100,
    devtools: devtools === 'auto' ? 'auto' : devtools !== null,
    debug: q.has('debug'),
    ...more,
  };
}

/** The state every demo syncs but draft, the todo input, which stays in its tab. */
export const initialState = () => ({ count: 0, todos: [], draft: '' });
export const newTodo = (text) => ({ text: text.trim() || 'todo', done: false });

/** The sync panel for one or more instances (the first one is shown). */
export function syncPanel(...instances) {
  const [sync] = instances;
  window.sync = sync;
  window.syncs = instances;
  const el = document.getElementById('sync');
  el.innerHTML = `<p>Tab <code id="tab-id"></code> · <span id="tab-count">1</span> tab(s) ·
    <span id="active"></span></p>
    <p><button id="toggle-sync">Stop sync</button> <button id="destroy">Destroy</button></p>`;
  el.querySelector('#tab-id').textContent = sync.getTabId().slice(-6);
  let destroyed = false;
  const show = () => {
    el.querySelector('#tab-count').textContent = String(sync.getConnectedTabs());
    el.querySelector('#active').textContent = destroyed ? 'destroyed' : sync.isActive() ? 'syncing' : 'stopped';
    el.querySelector('#toggle-sync').textContent = sync.isActive() ? 'Stop sync' : 'Start sync';
  };
  el.querySelector('#toggle-sync').onclick = () => {
    // Decided once: the first instance's stop() would start the others.
    const stop = sync.isActive();
    for (const s of instances) stop ? s.stop() : s.start();
    show();
  };
  el.querySelector('#destroy').onclick = () => {
    for (const s of instances) s.destroy();
    destroyed = true;
    show();
  };
  setInterval(show, 200);
  show();
}
