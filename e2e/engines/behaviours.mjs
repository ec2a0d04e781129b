// The behaviours every engine must show, each described once. A behaviour is
// an async function of a Session (session.mjs): it opens tabs of the test
// page (e2e/testdata/page.html, with the packed package at /tabsync/),
// drives them through the helpers page.js puts on window, and asserts with
// node:assert. engines.test.mjs runs every behaviour in every engine.
//
// What an engine measures on the way (ready time, latency, handover, timer
// throttling in a hidden tab) goes to session.record; the run's report
// (README, Browser support) is made from those numbers.
import assert from 'node:assert/strict';
import { sleep } from './lib/engines.mjs';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (x, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

// timer10 is a JavaScript expression: the milliseconds one setTimeout(fn,
// 10) takes to fire in the page.
const timer10 = 'new Promise((resolve) => { const t0 = performance.now(); setTimeout(() => resolve(performance.now() - t0), 10) })';

// FIREFOX_THROTTLE_AFTER_MS: Firefox starts clamping a hidden tab's timers
// 30 s after the tab loaded (dom.timeout.throttling_delay), plus a margin.
const FIREFOX_THROTTLE_AFTER_MS = 31_000;

// readDB is a JavaScript expression that reads tabsync's database name
// directly, not through tabsync: it resolves with { key: value } of the
// stored records, or null when the database does not exist.
const readDB = (name) => `(async (name) => {
  const req = (r) => new Promise((res, rej) => { r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
  if (!(await indexedDB.databases()).some((d) => d.name === name)) return null;
  const db = await req(indexedDB.open(name));
  try {
    const all = await req(db.transaction(['state'], 'readonly').objectStore('state').getAll());
    return Object.fromEntries(all.map((r) => [r.key, r.value]));
  } finally {
    db.close();
  }
})(${JSON.stringify(name)})`;

export const behaviours = {
  // A change made in one tab shows in the others, both ways.
  async 'a change syncs to the other tabs'(s) {
    const ch = s.channel();
    const [a, b, c] = await s.openSynced(3, ch, '');
    await a.eval('set({n: 1, list: [1, 2], user: {name: "ann"}})');
    for (const p of [b, c]) await p.waitFor('store.getState().n === 1');
    assert.deepEqual(await c.eval('state()'), { n: 1, list: [1, 2], user: { name: 'ann' } });
    await c.eval('set({n: 2})');
    for (const p of [a, b]) await p.waitFor('store.getState().n === 2');
  },

  // syncKeys and excludeKeys decide what a tab sends and what it takes.
  async 'selective keys: syncKeys and excludeKeys'(s) {
    const ch = s.channel();
    const [sender, only, except] = await s.openTabs(3);
    await sender.setup(ch, 'syncKeys: ["a", "b", "c"], excludeKeys: ["c"]');
    await only.setup(ch, 'syncKeys: ["a"]');
    await except.setup(ch, 'excludeKeys: ["b"]');
    await sender.eval('set({a: 1, b: 1, c: 1, d: 1})');
    await only.waitFor('store.getState().a === 1');
    await except.waitFor('store.getState().a === 1');
    assert.deepEqual(await only.eval('state()'), { a: 1 }, 'syncKeys [a] takes only a');
    assert.deepEqual(await except.eval('state()'), { a: 1 }, 'b is excluded here; c and d never left the sender');
    assert.deepEqual(await only.eval('calls.remote.map((r) => r.keys)'), [['a']], 'onRemoteUpdate names the keys applied');
  },

  // A burst of 30 changes, 5 ms apart, under a 300 ms throttle, arrives with
  // its final value in fewer messages than changes.
  async "a throttled burst ends with its final value"(s) {
    const ch = s.channel();
    const [a, b] = await s.openTabs(2);
    await a.setup(ch, 'throttleMs: 300');
    await b.setup(ch, '');
    await a.front(); // the user types in the tab they look at
    const last = await a.eval('burst("n", 30, 5)');
    await b.waitFor(`store.getState().n === ${last}`);
    await sleep(400); // past the throttle window: nothing later may arrive
    assert.equal(await b.eval('store.getState().n'), 29);
    const updates = await b.eval('calls.remote.length');
    assert.ok(updates < 30, `the burst travelled in ${updates} updates, not change by change`);
  },

  // Concurrent writes (neither writer had seen the other's) end with one
  // value in every tab: the later write under last-write-wins, the earlier
  // under first-write-wins; three rounds each, on a key of their own. Tab b
  // is stopped while both write (a tab frozen, or offline), so neither
  // write can reach the other tab first; start() then sends b's and asks
  // for the others'. No timer is involved, so a hidden tab's clamped timers
  // change nothing here.
  async 'concurrent writes converge (last-write-wins, first-write-wins)'(s) {
    for (const [strategy, winner] of [['last-write-wins', 'b'], ['first-write-wins', 'a']]) {
      const ch = s.channel();
      const [a, b, c] = await s.openSynced(3, ch, `conflictStrategy: "${strategy}"`);
      for (let round = 1; round <= 3; round++) {
        const key = `x${round}`;
        await b.eval('(sync.stop(), true)');
        const at = await a.eval(`set({${key}: "a${round}"})`);
        await c.waitFor(`store.getState().${key} === "a${round}"`);
        await b.eval(`(setAfter(${at}, {${key}: "b${round}"}), sync.start(), true)`);
        for (const p of [a, b, c]) await p.waitFor(`store.getState().${key} === "${winner}${round}"`);
      }
      const conflicts = (await Promise.all([a, b, c].map((p) => p.eval('stats().conflicts')))).reduce((x, y) => x + y);
      assert.ok(conflicts >= 3, `${strategy}: ${conflicts} conflicts decided in 3 rounds`);
      for (const p of [a, b, c]) assert.deepEqual(await p.eval('calls.errors'), []);
      await s.releaseTabs();
    }
  },

  // A tab opened later gets the state of the open tabs, answered by at most
  // two of them.
  async "a new tab gets the open tabs' state"(s) {
    const ch = s.channel();
    const open = await s.openSynced(4, ch, '');
    await open[0].eval(`watch(${JSON.stringify(ch)})`);
    await open[2].eval('set({n: 5, list: [1, 2, 3]})');
    for (const p of open) await p.waitFor('store.getState().n === 5');
    const [late] = await s.openTabs(1);
    const t0 = Date.now();
    const id = await late.setup(ch, '');
    await late.waitFor('store.getState().n === 5');
    s.record('newTabStateMs', Date.now() - t0);
    assert.deepEqual(await late.eval('state()'), { n: 5, list: [1, 2, 3] });
    await sleep(600); // a second answerer waits 60 ms for the first
    const answers = await open[0].eval(`wire.filter((m) => m.type === "STATE_RESPONSE" && m.payload.to === ${JSON.stringify(id)}).length`);
    assert.ok(answers >= 1 && answers <= 2, `${answers} tabs answered the new tab`);
  },

  // One leader among the tabs; when it closes, another takes over at once:
  // the closed tab's Web Lock is released on close, well before the
  // heartbeat timeout (5 × 1000 ms) would replace it.
  async 'leader election and handover after a close'(s) {
    const ch = s.channel();
    const config = 'enableLeaderElection: true';
    const tabs = await s.openSynced(3, ch, config);
    const leaders = async (ps) => (await Promise.all(ps.map((p) => p.eval('sync.isLeader()')))).filter(Boolean).length;
    await tabs[0].waitFor('sync.isLeader()', 10_000);
    assert.equal(await leaders(tabs), 1, 'one leader');
    assert.equal(await tabs[0].eval("lib.isSupported().webLocks"), true);

    const handovers = [];
    for (let trial = 0; trial < 5; trial++) {
      const states = await Promise.all(tabs.map((p) => p.eval('sync.isLeader()')));
      const i = states.indexOf(true);
      assert.notEqual(i, -1, 'a leader before each close');
      const [leader] = tabs.splice(i, 1);
      const closedAt = Date.now();
      await leader.close();
      await s.waitUntil(async () => (await leaders(tabs)) === 1, 10_000, 'one new leader');
      // When the new leader became leader, as its onSyncStateChange saw it
      // (page.js notes the time on the clock all tabs share).
      const at = await Promise.all(tabs.map((p) => p.eval('calls.stateAt[calls.states.lastIndexOf("leader")] ?? 0')));
      handovers.push(Math.max(...at) - closedAt);
      tabs.push((await s.openSynced(1, ch, config))[0]);
    }
    s.record('handoverMs', median(handovers));
    s.record('handoverMaxMs', Math.max(...handovers));
    assert.ok(Math.max(...handovers) < 2500, `handovers ${handovers} ms: the lock was not released on close`);
    assert.equal(await leaders(tabs), 1);
  },

  // The synced keys are kept in IndexedDB: a reload, or a new tab after all
  // were closed, restores them before ready resolves. The database is read
  // directly too, so an engine that loses writes is seen.
  async 'persistence across a reload and after every tab closed'(s) {
    const ch = s.channel();
    const db = `db-${ch}`;
    const config = `throttleMs: 0, persist: {dbName: ${JSON.stringify(db)}}`;
    const [a] = await s.openTabs(1);
    await a.setup(ch, config, '{n: 0, user: null}');
    await a.eval('set({n: 5, user: {name: "ann", tags: ["x"]}})');
    await a.waitFor(`${readDB(db)}.then((d) => d && d.n === 5)`);
    await a.reload();
    await a.waitFor('window.pageReady === true');
    await a.setup(ch, config, '{n: 0, user: null}');
    assert.deepEqual(await a.eval('state()'), { n: 5, user: { name: 'ann', tags: ['x'] } }, 'restored on reload');

    await a.eval('set({n: 6})');
    await a.waitFor(`${readDB(db)}.then((d) => d && d.n === 6)`);
    await a.close();
    const [b] = await s.openTabs(1, { fresh: true });
    await b.setup(ch, config, '{n: 0, user: null}');
    assert.equal(await b.eval('store.getState().n'), 6, 'restored in a new tab after every tab closed');
    assert.deepEqual(await b.eval('calls.errors'), []);
  },

  // stop() takes effect at once and sends nothing more; start() resumes and
  // sends what changed meanwhile.
  async 'stop() and start()'(s) {
    const ch = s.channel();
    const [a, b] = await s.openSynced(2, ch, '');
    await b.eval(`watch(${JSON.stringify(ch)})`);
    await a.eval('set({n: 1})');
    await b.waitFor('store.getState().n === 1');
    assert.equal(await a.eval('(sync.stop(), sync.isActive())'), false, 'inactive right after stop()');
    const id = await a.eval('sync.getTabId()');
    const fromA = `wire.filter((m) => m.tabId === ${JSON.stringify(id)})`;
    await b.waitFor(`${fromA}.some((m) => m.type === "TAB_PING" && m.payload.leaving)`);
    const before = await b.eval(`${fromA}.length`);
    await a.eval('(set({n: 2}), set({n: 3, m: 3}), sync.requestState(), sync.broadcastState(), true)');
    await b.eval('set({other: 1})');
    await sleep(600);
    assert.equal(await b.eval(`${fromA}.length`), before, 'a stopped tab sends nothing');
    assert.equal(await b.eval('store.getState().n'), 1);
    assert.equal(await a.eval('store.getState().other'), undefined, 'a stopped tab takes nothing');
    assert.equal(await a.eval('(sync.start(), sync.isActive())'), true);
    await b.waitFor('store.getState().n === 3 && store.getState().m === 3');
    await a.waitFor('store.getState().other === 1');
    assert.deepEqual(await a.eval('calls.states'), ['connected', 'disconnected', 'connected']);
  },

  // Malformed and hostile messages on the channel change nothing, pollute
  // nothing, are counted by reason and do not stop syncing.
  async 'hostile messages are dropped'(s) {
    const ch = s.channel();
    const [victim, other] = await s.openTabs(2);
    await victim.setup(ch, '', '{n: 0, name: "kept"}');
    await other.setup(ch, '');
    await victim.eval('set({n: 1})');
    await other.waitFor('store.getState().n === 1');
    const id = await victim.eval('sync.getTabId()');
    // Each message below is dropped for the reason it is counted under.
    const want = { invalid: 10, unknownType: 1, protocolVersion: 1, ownId: 1, oversized: 1 };
    const r = await victim.eval(`hit(${JSON.stringify(ch)}, () => [
      null, 42, "STATE_UPDATE", [1, 2], {},
      {type: "STATE_UPDATE"},
      {type: "STATE_UPDATE", tabId: "evil", v: 1, seq: 1, payload: {state: {n: 666}}},
      {type: "STATE_UPDATE", tabId: "evil", v: 1, seq: 2, payload: {state: {n: 666}, meta: {n: "not a version"}}},
      {type: "STATE_UPDATE", tabId: "evil", v: 1, seq: 3, payload: {state: JSON.parse('{"__proto__": {"polluted": true}}'),
        meta: JSON.parse('{"__proto__": "' + (Date.now() + 1e6) + '.0.evil||1"}')}},
      {type: "HEARTBEAT", tabId: "evil", v: 1, seq: 4, payload: {term: 1.5, leader: "evil"}},
      {type: "EVIL", tabId: "evil", v: 1, seq: 5, payload: {}},
      {type: "TAB_PING", tabId: "evil", v: 99, seq: 6, payload: {started: 1}},
      {type: "TAB_PING", tabId: ${JSON.stringify(id)}, v: 1, seq: 7, payload: {started: 1}},
      {type: "STATE_UPDATE", tabId: "evil", v: 1, seq: 8, payload: {state: {n: "x".repeat(3 << 20)}, meta: {}}},
    ], ${JSON.stringify(want)}, 5000)`);
    assert.equal(r.refused, 0, 'every message was posted');
    assert.equal(r.after.applied, r.before.applied, 'nothing was applied');
    for (const [reason, n] of Object.entries(want)) {
      assert.equal(r.after.droppedByReason[reason] - r.before.droppedByReason[reason], n, `droppedByReason.${reason}`);
    }
    assert.equal(r.stateAfter, r.stateBefore, 'the state is unchanged');
    assert.equal(r.clean, true, 'no prototype was polluted');
    await other.eval('set({n: 2})');
    await victim.waitFor('store.getState().n === 2');
  },

  // A hidden tab (one in the background, or a minimized window). Firefox
  // clamps the timers of such a tab to about one a second; Chromium and
  // WebKit (measured here) do not. BroadcastChannel messages are not
  // delayed in any: a hidden tab takes changes at once, answers a new tab at
  // once, its own changes go out (the throttle's final value after the
  // clamped timer), and as leader it keeps the lease. What was measured is
  // recorded.
  async 'a hidden tab: timer throttling'(s) {
    const ch = s.channel();
    const [h, v] = await s.openTabs(2);
    await h.setup(ch, 'enableLeaderElection: true');
    await h.waitFor('sync.isLeader()', 10_000);
    await v.setup(ch, 'enableLeaderElection: true');
    await h.hide();
    await v.front();
    assert.equal(await h.eval('document.visibilityState'), 'hidden');
    assert.equal(await v.eval('document.visibilityState'), 'visible');
    // One setTimeout(fn, 10) in the hidden tab, three times.
    const periods = [];
    for (let i = 0; i < 3; i++) {
      periods.push(await h.eval(timer10));
    }
    const period = median(periods);
    s.record('hiddenTimerMs', round(period, 0));

    const t0 = Date.now();
    await v.eval('set({n: 1})');
    await h.waitFor('store.getState().n === 1');
    s.record('toHiddenMs', Date.now() - t0);

    const t1 = Date.now();
    // m: 2 is set a task after m: 1 (a MessageChannel hop, which no engine
    // throttles): writes of one task travel together, so within one task
    // both would go out on the leading edge and no timer would be measured.
    await h.eval(`(async () => {
      set({m: 1});
      await new Promise((r) => { const c = new MessageChannel(); c.port1.onmessage = r; c.port2.postMessage(0) });
      set({m: 2});
      return true;
    })()`);
    await v.waitFor('store.getState().m >= 1'); // the throttle's leading edge
    s.record('fromHiddenFirstMs', Date.now() - t1);
    await v.waitFor('store.getState().m === 2', 30_000); // after the throttle's timer
    s.record('fromHiddenFinalMs', Date.now() - t1);

    // A new tab asks for the state; the hidden leader answers. A listener
    // on the channel in the new tab times the request and the answer.
    const [late] = await s.openTabs(1, { fresh: true });
    await late.eval(`(() => {
      window.asked = window.answered = 0;
      const l = (window.listener = new BroadcastChannel(${JSON.stringify(ch)}));
      l.onmessage = ({ data: m }) => {
        if (m.type === 'STATE_REQUEST' && !asked) asked = performance.now();
        if (m.type === 'STATE_RESPONSE' && asked && !answered) answered = performance.now();
      };
      return true;
    })()`);
    await late.setup(ch, 'enableLeaderElection: true');
    await late.waitFor('store.getState().n === 1 && store.getState().m === 2', 10_000);
    const answerMs = round(await late.eval('(listener.close(), answered - asked)'), 0);
    s.record('hiddenAnswersNewTabMs', answerMs);
    assert.ok(answerMs < 800, `the hidden leader answered the new tab after ${answerMs} ms, not at once`);

    await sleep(2000);
    assert.equal(await h.eval('sync.isLeader()'), true, 'the hidden leader keeps the lock');
    assert.equal(await v.eval('sync.isLeader()'), false);

    // Heartbeat mode, with heartbeats four times as often as Firefox lets a
    // hidden tab's timer fire: the late heartbeats make the others ask, the
    // hidden leader answers from its message handler, and stays the leader.
    const hb = 'enableLeaderElection: true, leaderElection: "heartbeat", leaderHeartbeatMs: 250';
    const ch2 = s.channel();
    await h.setup(ch2, hb);
    await h.waitFor('sync.isLeader()', 10_000);
    await v.setup(ch2, hb);
    await late.setup(ch2, hb);
    await v.front();
    assert.equal(await h.eval('document.visibilityState'), 'hidden');
    await sleep(3000);
    assert.equal(await h.eval('sync.isLeader()'), true, 'the hidden heartbeat leader stays the leader');
    for (const p of [v, late]) {
      assert.ok(!(await p.eval('calls.states')).includes('leader'), 'no other tab took over meanwhile');
    }
  },

  // Tables across devices (createTableSync, tabsync-server; TABLES.md):
  // two devices, each a profile of the engine with its own storage,
  // BroadcastChannel and Web Locks and two tabs of tables.html, against a
  // tabsync-server the behaviour starts on 127.0.0.1. One tab of each
  // device holds the connection, the other reaches the server through it.
  // In Chromium and Firefox a device is a window of its own, its tab opened
  // last in front and the first one hidden, as on a user's screen: the tab
  // that holds the connection is then a hidden one, whose timers Firefox
  // clamps (see the hidden tab above) once it has been loaded for 30 s, so
  // in Firefox the second half waits for that; in WebKit every tab is a
  // visible window. A set and a delete go from one device to the other
  // with the other device's origins ('server' in the tab holding the
  // connection, 'server-tab' in the other) and one opId everywhere; the
  // time from set() in A's front tab to the event in each tab of B is
  // measured over 20 sets; a write made while the server is down is kept,
  // pending, and arrives once on B after the server is back.
  async 'tables across two devices'(s) {
    const server = await s.tablesServer();
    const url = `/tables.html?server=${encodeURIComponent(server.url)}&db=${s.channel()}&tables=scores,lat`;
    const [a1, a2] = await (await s.device()).openTabs(2, url);
    const [b1, b2] = await (await s.device()).openTabs(2, url);
    const loaded = Date.now(); // every tab loaded before this
    const A = [a1, a2];
    const B = [b1, b2];
    for (const p of [...A, ...B]) await p.waitFor(`window.db && db.status === 'online'`, 20_000);
    // events(p, key) is what p's idb-sync-update events said of key.
    const events = (p, key) => p.eval(`events.filter((e) => e.table === 'scores' && e.op.key === ${JSON.stringify(key)})
      .map((e) => ({ operation: e.op.operation, value: e.op.value, origin: e.origin, opId: e.meta.opId, version: e.meta.tableVersion }))`);
    // seenOnce asserts that key's change reached every tab of from (the
    // writing device) and to once, with their origins and one opId, and
    // returns the events of to.
    const seenOnce = async (key, from, to, operation) => {
      const fromEvs = (await Promise.all(from.map((p) => events(p, key)))).flat();
      const toEvs = (await Promise.all(to.map((p) => events(p, key)))).flat();
      assert.deepEqual(fromEvs.map((e) => e.origin).sort(), ['local', 'local-tab'], `${key}: the writing device's origins`);
      assert.deepEqual(toEvs.map((e) => e.origin).sort(), ['server', 'server-tab'], `${key}: the other device's origins, once each`);
      assert.equal(new Set([...fromEvs, ...toEvs].map((e) => e.opId)).size, 1, `${key}: one opId in every tab`);
      for (const e of toEvs) {
        assert.equal(e.operation, operation);
        assert.ok(e.version > 0, `${key}: the server's tableVersion, not ${e.version}`);
      }
      return toEvs;
    };

    // A set in A's front tab reaches both tabs of B.
    await a2.front();
    await a2.eval(`db.set('scores', 'p1', {name: 'p1', score: 1500}).then(() => true)`);
    for (const p of B) await p.waitFor(`events.some((e) => e.op.key === 'p1')`, 15_000);
    const [set] = await seenOnce('p1', A, B, 'set');
    assert.deepEqual(set.value, { name: 'p1', score: 1500 });
    assert.deepEqual(await b1.eval(`db.get('scores', 'p1')`), { name: 'p1', score: 1500 });

    // A delete in B's front tab reaches both tabs of A.
    await b2.eval(`db.delete('scores', 'p1').then(() => true)`);
    for (const p of A) await p.waitFor(`events.some((e) => e.op.key === 'p1' && e.op.operation === 'delete')`, 15_000);
    for (const p of A) await p.waitFor('db.pending === 0', 15_000);
    for (const p of B) await p.waitFor('db.pending === 0', 15_000);
    const deletes = async (ps) => (await Promise.all(ps.map((p) => events(p, 'p1')))).flat().filter((e) => e.operation === 'delete');
    assert.deepEqual((await deletes(B)).map((e) => e.origin).sort(), ['local', 'local-tab']);
    assert.deepEqual((await deletes(A)).map((e) => e.origin).sort(), ['server', 'server-tab']);
    assert.deepEqual(await a1.eval(`db.getAll('scores')`), {});

    // From here on the hidden tabs' timers are clamped in Firefox, as a
    // user's background tab's are; how long one 10 ms timer took in them is
    // recorded (none is hidden in WebKit).
    if (s.browser.name === 'firefox') await sleep(loaded + FIREFOX_THROTTLE_AFTER_MS - Date.now());
    const hidden = [];
    for (const p of [...A, ...B]) if (await p.eval('document.hidden')) hidden.push(p);
    s.record('tablesHiddenTabs', hidden.length);
    if (hidden.length) s.record('tablesHiddenTimerMs', round(Math.max(...(await Promise.all(hidden.map((p) => p.eval(timer10))))), 0));

    // 20 sets from A's front tab, 100 ms apart; each value carries the time
    // of its set() call and each tab of B notes when its event fired (the
    // processes share the machine's clock).
    for (const p of B) {
      await p.eval(`(window.lat = [], addEventListener('idb-sync-update', (e) => {
        if (e.detail.table === 'lat') lat.push({ ms: Date.now() - e.detail.op.value.t, origin: e.detail.origin, hidden: document.hidden });
      }), true)`);
    }
    await a2.eval(`(async () => {
      for (let i = 0; i < 20; i++) {
        await db.set('lat', 'k' + i, { i, t: Date.now() });
        await new Promise((r) => setTimeout(r, 100));
      }
      return true;
    })()`);
    for (const p of B) await p.waitFor('lat.length === 20', 30_000);
    const samples = (await Promise.all(B.map((p) => p.eval('lat')))).flat();
    for (const origin of ['server', 'server-tab']) {
      const of = samples.filter((x) => x.origin === origin);
      assert.equal(of.length, 20, `20 events of origin ${origin}`);
      const key = origin === 'server' ? 'tablesConnectedTab' : 'tablesOtherTab';
      const mid = round(median(of.map((x) => x.ms)), 0);
      s.record(`${key}Ms`, mid);
      // A timer of a hidden tab on the path would add a second in Firefox.
      assert.ok(mid < 500, `set() to the ${origin} event: median ${mid} ms, not at once`);
      s.record(`${key}MaxMs`, Math.max(...of.map((x) => x.ms)));
      s.record(`${key}Hidden`, of[0].hidden);
      s.record(`${key}Samples`, of.map((x) => x.ms));
    }

    // The server goes down; a write made meanwhile is kept and pending,
    // and reaches B once when the server is back.
    // The browsers report the connections refused meanwhile on the console.
    const refused = new RegExp(`WebSocket connection to '${server.url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}' failed`);
    for (const p of [...A, ...B]) p.expect(refused);
    await server.stop();
    for (const p of A) await p.waitFor(`db.status === 'offline'`, 20_000);
    await a2.eval(`db.set('scores', 'offline', {score: 7}).then(() => true)`);
    for (const p of A) await p.waitFor('db.pending === 1', 5_000);
    assert.deepEqual(await a1.eval(`db.get('scores', 'offline')`), { score: 7 });
    await server.start();
    const restarted = Date.now();
    for (const p of B) await p.waitFor(`events.some((e) => e.op.key === 'offline')`, 40_000);
    s.record('tablesAfterRestartMs', Date.now() - restarted);
    for (const p of [...A, ...B]) await p.waitFor(`db.status === 'online' && db.pending === 0`, 40_000);
    await sleep(500); // nothing may arrive twice
    await seenOnce('offline', A, B, 'set');
    for (const p of [...A, ...B]) {
      const errors = await p.eval('errors.map((e) => e.phase + ": " + e.message)');
      const outage = (e) => e.startsWith('connect: ') || /^server: .*shuttingDown/.test(e);
      assert.ok(errors.every(outage), `onError reported only the outage (the server shutting down, the connection lost): ${JSON.stringify(errors)}`);
    }
  },

  // The numbers of the Browser support table: the time from
  // createBroadcastSync to ready in a fresh tab, and from the tab's
  // navigation to ready, and the round trip of a change to another tab and
  // back, next to a plain BroadcastChannel's. The loader fetches and
  // compiles the module while the page imports the entry, so by the time
  // the page calls createBroadcastSync that work is mostly done: the first
  // figure is what the call itself waits for (Go started), the second the
  // whole cost to a user, with the driver's call after the page's load
  // included (an upper bound).
  async 'measure: ready time and change latency'(s) {
    const ready = [];
    const fromNavigation = [];
    for (let i = 0; i < 3; i++) {
      const [p] = await s.openTabs(1, { fresh: true });
      const [call, nav] = await p.eval(`(async () => { const t0 = performance.now(); await setup({channelName: ${JSON.stringify(s.channel())}}, {}); const t1 = performance.now(); return [t1 - t0, t1] })()`);
      ready.push(call);
      fromNavigation.push(nav);
      await p.close();
    }
    s.record('readyMs', round(median(ready), 0));
    s.record('navigationToReadyMs', round(median(fromNavigation), 0));

    const ch = s.channel();
    const [a, b] = await s.openSynced(2, ch, 'throttleMs: 0');
    await a.front(); // b, which echoes, is in the background (Chromium, Firefox)
    await b.eval(`(latency.echo(${JSON.stringify(`${ch}-raw`)}), true)`);
    const rtt = await a.eval(`latency.measure(40, ${JSON.stringify(`${ch}-raw`)}, 5000)`);
    s.record('latencyRttMs', round(median(rtt.sync)));
    s.record('broadcastChannelRttMs', round(median(rtt.raw)));
  },
};

// The demos, as `make demo` serves them but with the packed package: they
// open in two tabs, sync, and log no error.
export const demos = {
  async 'the plain demo opens without a console error'(s) {
    const tabs = [await s.openDemo('/plain/'), await s.openDemo('/plain/')];
    for (const p of tabs) await p.waitFor('globalThis.__tabsync !== undefined', 20_000);
    await s.noErrors(tabs);
  },

  async 'the React demo opens without a console error'(s) {
    const tabs = [await s.openDemo('/react/'), await s.openDemo('/react/')];
    for (const p of tabs) await p.waitFor('document.getElementById("tab-count")?.textContent === "2"', 20_000);
    await tabs[0].eval('(document.getElementById("inc").click(), true)');
    await tabs[1].waitFor('document.getElementById("counter-value").textContent === "1"');
    await s.noErrors(tabs);
  },
};
