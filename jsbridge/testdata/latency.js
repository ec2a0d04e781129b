// The cross-tab path of one change, timed stage by stage, for
// BenchmarkLatencyOneKey (latency_bench_test.go): two stores in one page on
// one channel, the sender a and the receiver b, each synced by an instance
// of tabsync or by the few lines a developer would write over a plain
// BroadcastChannel (plain). Nothing of tabsync is changed to take the
// times: its steps are seen from outside, by wrapping what it calls while a
// run is on, and everything is put back after.
//
// run(n) makes n changes of a.count, one at a time, each after the
// receiver has applied the previous one and an idle task, and resolves
// with each stage in milliseconds, the mean of its fastest 90% (see
// typical):
//
//   total        a.setState until b's store has the value
//   toFlush      setState until tabsync's end-of-task microtask starts
//   goSend       the microtask's start until helpers.encode is called: the
//                watcher's record, the call into Go, the engine's
//                LocalChange, the message packed, the call out of Go
//   encode       helpers.encode
//   post         channel.postMessage
//   delivery     postMessage's return until the receiver's listener starts
//                (for tabsync: until helpers.decode is called)
//   decode       helpers.decode
//   goReceive    decode's return until b.setState is called: the call into
//                Go, unpack, the engine's Deliver, the patch, the call out
//   apply        b.setState until b's subscriber has the value
//   sendTail     postMessage's return until the microtask returns (the
//                rest of Go's callback); with both stores in one page it
//                delays the delivery, with two tabs it does not
globalThis.__tabsyncLatency = {
  make(kind, a, b, channelName) {
    const h = globalThis.__tabsyncHelpers;
    const stamps = { t: [] };
    let i = 0;
    let waiting = null;
    // b's subscriber: the change has arrived.
    b.subscribe((state) => {
      if (state.count === i && waiting !== null) {
        stamps.t[8] = performance.now();
        const w = waiting;
        waiting = null;
        w();
      }
    });
    if (kind === 'plain') {
      const ca = new BroadcastChannel(channelName);
      const cb = new BroadcastChannel(channelName);
      a.subscribe((state, prev) => {
        const out = {};
        let n = 0;
        for (const k in state) {
          if (state[k] !== prev[k]) { out[k] = state[k]; n++; }
        }
        if (n) ca.postMessage(out);
      });
      cb.addEventListener('message', (e) => {
        stamps.t[5] = performance.now();
        b.setState(e.data);
      });
      stamps.close = () => { ca.close(); cb.close(); };
    } else {
      stamps.close = () => {};
    }
    const wrap = (obj, name, before, after) => {
      const f = obj[name];
      obj[name] = function (...args) {
        if (before >= 0) stamps.t[before] = performance.now();
        try {
          return f.apply(this, args);
        } finally {
          if (after >= 0) stamps.t[after] = performance.now();
        }
      };
      return () => { obj[name] = f; };
    };
    const run = async (n) => {
      const undo = [];
      if (kind !== 'plain') {
        const q = globalThis.queueMicrotask;
        globalThis.queueMicrotask = (fn) => q(() => {
          stamps.t[1] = performance.now();
          try {
            fn();
          } finally {
            stamps.t[9] = performance.now();
          }
        });
        undo.push(() => { globalThis.queueMicrotask = q; });
        undo.push(wrap(h, 'encode', 2, -1));
        undo.push(wrap(h, 'decode', 5, 6));
      }
      undo.push(wrap(BroadcastChannel.prototype, 'postMessage', 3, 4));
      undo.push(wrap(b, 'setState', 7, -1));
      const rows = [];
      try {
        for (let k = 0; k < n; k++) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          stamps.t = [];
          i++;
          const arrived = new Promise((resolve) => { waiting = resolve; });
          stamps.t[0] = performance.now();
          a.setState({ count: i });
          await arrived;
          rows.push(stamps.t.slice());
        }
      } finally {
        for (const u of undo.reverse()) u();
      }
      // The mean of the fastest 90%: the page's clock ticks in 100 µs
      // steps (it is not cross-origin isolated), finer than that only on
      // average, and the slowest tenth is the collector's and the
      // machine's, not the path's.
      const typical = (f) => {
        const xs = rows.map(f).filter((x) => Number.isFinite(x)).sort((x, y) => x - y);
        const kept = xs.slice(0, Math.max(1, Math.floor(xs.length * 0.9)));
        return xs.length === 0 ? -1 : kept.reduce((s, x) => s + x, 0) / kept.length;
      };
      const t = (r, j) => r[j];
      const out = {
        total: typical((r) => t(r, 8) - t(r, 0)),
        delivery: typical((r) => t(r, 5) - t(r, 4)),
        post: typical((r) => t(r, 4) - t(r, 3)),
        apply: typical((r) => t(r, 8) - t(r, 7)),
      };
      if (kind !== 'plain') {
        out.toFlush = typical((r) => t(r, 1) - t(r, 0));
        out.goSend = typical((r) => t(r, 2) - t(r, 1));
        out.encode = typical((r) => t(r, 3) - t(r, 2));
        out.decode = typical((r) => t(r, 6) - t(r, 5));
        out.goReceive = typical((r) => t(r, 7) - t(r, 6));
        out.sendTail = typical((r) => t(r, 9) - t(r, 4));
      }
      return out;
    };
    return { run, close: () => stamps.close() };
  },
};
