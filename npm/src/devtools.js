// DevTools for any store (config.devtools): loaded by index.js only when
// asked for. Each tab shows in the Redux DevTools extension, when present,
// as its own instance named `tabsync <channel> <last 6 of tab id>`, with one
// action per sent message (`tabsync/sent`) and per applied remote update
// (`tabsync/applied`, with keys and source tab). performance.measure
// entries, on the Timings track of a Chrome DevTools Performance recording:
//   tabsync:send     from a local change to its message on the channel
//   tabsync:receive  from a message's arrival to its apply (decode, resolve)
//   tabsync:apply    the store's setState with the remote values
// Messages are seen through channel, a second BroadcastChannel on the same
// name made before the instance's (index.js), which gets this tab's messages
// as well as the others', and each before the instance does.

export function attach(store, config, tabId, channel) {
  const short = tabId.slice(-6);
  const perf = typeof performance !== 'undefined' && performance.measure ? performance : null;
  const now = () => (perf ? perf.now() : 0);
  const measure = (name, start, detail) => {
    if (perf) perf.measure(name, { start, end: now(), detail });
  };
  const ext = globalThis.__REDUX_DEVTOOLS_EXTENSION__;
  let dev = null;
  try {
    dev = ext && typeof ext.connect === 'function' ? ext.connect({ name: `tabsync ${config.channelName} ${short}` }) : null;
    if (dev) dev.init(store.getState());
  } catch (err) {
    console.error('tabsync: Redux DevTools connect failed', err);
    dev = null;
  }
  const send = (action) => {
    if (dev) {
      try {
        dev.send(action, store.getState());
      } catch {
        // the extension's own trouble, not the app's
      }
    }
  };

  let changedAt = null; // the first local change not yet seen sent
  let receivedAt = null; // the last message from another tab not yet applied
  let applyAt = 0;
  if (channel) {
    channel.onmessage = ({ data }) => {
      if (!data || typeof data !== 'object') return;
      const state = data.payload && data.payload.state;
      const keys = state && typeof state === 'object' ? Object.keys(state) : [];
      if (data.tabId === tabId) {
        if (changedAt !== null && keys.length > 0) {
          measure('tabsync:send', changedAt, { type: data.type, keys });
          changedAt = null;
        }
        send({ type: 'tabsync/sent', message: data.type, keys });
      } else if (keys.length > 0) {
        receivedAt = now();
      }
    };
  }

  return (event, arg) => {
    switch (event) {
      case 'change':
        if (changedAt === null) changedAt = now();
        break;
      case 'apply':
        applyAt = now();
        break;
      case 'applied':
        measure('tabsync:apply', applyAt, { keys: Object.keys(arg || {}) });
        if (receivedAt !== null) {
          measure('tabsync:receive', receivedAt, { keys: Object.keys(arg || {}) });
          receivedAt = null;
        }
        break;
      case 'remote':
        send({ type: 'tabsync/applied', keys: arg[0], source: arg[1] });
        break;
      case 'close':
        if (dev && typeof dev.unsubscribe === 'function') dev.unsubscribe();
        dev = null;
        break;
    }
  };
}
