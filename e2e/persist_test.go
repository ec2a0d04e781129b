//go:build e2e && !(js && wasm)

package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPersist checks persistence in IndexedDB in real tabs of one Chromium
// against the built npm package: reloads and closed tabs restore the last
// state, concurrent writers leave the converged state stored, a migration
// runs once, excluded keys are never stored, and a database deleted under
// a running tab is reported while syncing goes on. The database is read
// directly from a page, not through tabsync.
func TestPersist(t *testing.T) {
	s := newSuite(t)
	t.Run("ReloadRestores", s.testReloadRestores)
	t.Run("CloseAllTabsThenOpenOneRestores", s.testCloseAllTabsThenOpenOneRestores)
	t.Run("ClosingInsideAThrottleWindowLosesNothing", s.testClosingInsideAThrottleWindow)
	t.Run("AKilledWritersChangeIsStoredByTheOthers", s.testKilledWriter)
	t.Run("ConcurrentWritersLeaveTheConvergedState", s.testConcurrentWritersLeaveTheConvergedState)
	t.Run("MigrationRunsOnce", s.testMigrationRunsOnce)
	t.Run("ExcludedKeysAreNotStored", s.testExcludedKeysAreNotStored)
	t.Run("DeletedDatabaseIsReportedAndSyncingGoesOn", s.testDeletedDatabase)
	t.Run("AbortedTransactionIsReportedAndSyncingGoesOn", s.testAbortedTransaction)
}

// readDBJS is a JavaScript function of a database name that resolves to
// { version, schema, records: { key: { value, version } } }, or null when
// the database does not exist.
const readDBJS = `(async (name) => {
  const req = (r) => new Promise((res, rej) => { r.onsuccess = () => res(r.result); r.onerror = () => rej(r.error); });
  if (!(await indexedDB.databases()).some((d) => d.name === name)) return null;
  const db = await req(indexedDB.open(name));
  try {
    const tx = db.transaction(['state', 'meta'], 'readonly');
    const all = await req(tx.objectStore('state').getAll());
    const schema = await req(tx.objectStore('meta').get('schema'));
    const records = {};
    for (const r of all) records[r.key] = { value: r.value, version: r.version };
    return { version: db.version, schema, records };
  } finally {
    db.close();
  }
})`

type storedDB struct {
	Version int `json:"version"`
	Schema  int `json:"schema"`
	Records map[string]struct {
		Value   any    `json:"value"`
		Version string `json:"version"`
	} `json:"records"`
}

// readDB reads the database name from page p.
func readDB(t *testing.T, p *testPage, name string) storedDB {
	t.Helper()
	var d *storedDB
	p.Eval(t, readDBJS+`(`+quote(name)+`)`, &d)
	require.NotNil(t, d, "the database %s does not exist", name)
	return *d
}

// storedValues returns the stored values by key.
func (d storedDB) values() map[string]any {
	out := map[string]any{}
	for k, r := range d.Records {
		out[k] = r.Value
	}
	return out
}

// waitStored waits until the database holds a record for key whose value
// satisfies the JavaScript condition on v.
func waitStored(t *testing.T, p *testPage, name, key, cond string) {
	t.Helper()
	waitStoredWithin(t, p, name, key, cond, wait)
}

// abortPuts makes the page's next IndexedDB put (once) or every put abort
// its transaction: a real abort of a real transaction, as a
// QuotaExceededError causes.
func abortPuts(t *testing.T, p *testPage, once bool) {
	t.Helper()
	p.Eval(t, fmt.Sprintf(`(() => {
		const put = IDBObjectStore.prototype.put;
		IDBObjectStore.prototype.put = function (...args) {
			if (%t) IDBObjectStore.prototype.put = put;
			const r = put.apply(this, args);
			this.transaction.abort();
			return r;
		};
		return true;
	})()`, once), nil)
}

// waitStoredWithin is waitStored with its own timeout.
func waitStoredWithin(t *testing.T, p *testPage, name, key, cond string, timeout time.Duration) {
	t.Helper()
	p.WaitFor(t, readDBJS+`(`+quote(name)+`).then((d) => { const r = d && d.records[`+quote(key)+`]; if (!r) return false; const v = r.value; return `+cond+`; })`, timeout)
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

func dbFor(t *testing.T) string { return "db-" + channelFor(t) }

func persistConfig(db, more string) string {
	return `throttleMs: 0, persist: {dbName: ` + quote(db) + more + `}`
}

// A reload restores the last state before the page syncs again.
func (s *suite) testReloadRestores(t *testing.T) {
	ch, db := channelFor(t), dbFor(t)
	a := s.open(t, "")
	a.setup(t, ch, persistConfig(db, ""), `{n: 0, user: null}`)
	a.set(t, `{n: 5, user: {name: 'ann', tags: ['x']}}`)
	waitStored(t, a, db, "n", "v === 5")

	a.Eval(t, `window.beforeReload = true, setTimeout(() => location.reload(), 0), true`, nil)
	a.WaitFor(t, `window.pageReady === true && window.beforeReload === undefined`, LoadTimeout)
	a.setup(t, ch, persistConfig(db, ""), `{n: 0, user: null}`)
	assert.Equal(t, map[string]any{"n": 5.0, "user": map[string]any{"name": "ann", "tags": []any{"x"}}}, a.state(t),
		"the restored state is in the store once ready resolves")
	assert.Empty(t, a.calls(t).Errors)
}

// Every tab closed, a new one restores the last state.
func (s *suite) testCloseAllTabsThenOpenOneRestores(t *testing.T) {
	ch, db := channelFor(t), dbFor(t)
	a, b := s.open(t, ""), s.open(t, "")
	a.setup(t, ch, persistConfig(db, ""), `{n: 0, m: 0}`)
	b.setup(t, ch, persistConfig(db, ""), `{n: 0, m: 0}`)
	a.set(t, `{n: 1}`)
	b.waitFor(t, `store.getState().n === 1`)
	b.set(t, `{m: 2}`)
	a.waitFor(t, `store.getState().m === 2`)
	waitStored(t, a, db, "m", "v === 2")
	a.Close(t)
	b.Close(t)

	c := s.open(t, "")
	c.setup(t, ch, persistConfig(db, ""), `{n: 0, m: 0}`)
	assert.Equal(t, map[string]any{"n": 1.0, "m": 2.0}, c.state(t))
	assert.Empty(t, c.calls(t).Errors)
}

// A change still inside the throttle window when its tab closes is sent
// and stored all the same: by the tabs that stay (they store a leaving
// tab's writes), or, by the last tab, at once as it is unloaded.
func (s *suite) testClosingInsideAThrottleWindow(t *testing.T) {
	ch, db := channelFor(t), dbFor(t)
	cfg := `throttleMs: 5000, persist: {dbName: ` + quote(db) + `}`
	a, b := s.open(t, ""), s.open(t, "")
	a.setup(t, ch, cfg, `{n: 0}`)
	b.setup(t, ch, cfg, `{n: 0}`)
	a.set(t, `{n: 1}`) // the leading edge goes at once
	waitStored(t, b, db, "n", "v === 1")
	a.set(t, `{n: 2}`) // waits for the end of the window
	a.Close(t)
	b.waitFor(t, `store.getState().n === 2`)
	waitStored(t, b, db, "n", "v === 2")

	b.set(t, `{n: 3}`)
	waitStored(t, b, db, "n", "v === 3")
	b.set(t, `{n: 4}`)
	b.Close(t) // the last tab

	c := s.open(t, "")
	c.setup(t, ch, cfg, `{n: 0}`)
	assert.Equal(t, map[string]any{"n": 4.0}, c.state(t))
}

// A tab killed right after a change, before its own transaction
// committed (here its writes never commit: every transaction it starts
// aborts), loses nothing: the tab that received the change stores it once
// it counts the dead tab out (after the peer timeout, 16 s by default).
func (s *suite) testKilledWriter(t *testing.T) {
	ch, db := channelFor(t), dbFor(t)
	a, b := s.open(t, ""), s.open(t, "")
	a.setup(t, ch, persistConfig(db, ""), `{n: 0}`)
	b.setup(t, ch, persistConfig(db, ""), `{n: 0}`)
	a.set(t, `{n: 1}`)
	waitStored(t, b, db, "n", "v === 1")

	abortPuts(t, a, false)
	a.set(t, `{n: 2}`)
	b.waitFor(t, `store.getState().n === 2`)
	a.waitFor(t, `calls.errors.some((e) => e.phase === 'persist')`)
	a.Crash(t)
	assert.Equal(t, 1.0, readDB(t, b, db).values()["n"], "the writer's own transaction never committed")

	waitStoredWithin(t, b, db, "n", "v === 2", 60*time.Second)
}

// Two tabs writing the same keys at once: once they have converged, the
// database holds the converged state, whatever order their transactions
// landed in.
func (s *suite) testConcurrentWritersLeaveTheConvergedState(t *testing.T) {
	ch, db := channelFor(t), dbFor(t)
	a, b := s.open(t, ""), s.open(t, "")
	a.setup(t, ch, persistConfig(db, ""), `{x: '', y: ''}`)
	b.setup(t, ch, persistConfig(db, ""), `{x: '', y: ''}`)
	kick := func(p *testPage, name string) {
		p.Eval(t, `window.writing = (async () => {
			for (let i = 0; i < 40; i++) {
				store.setState({x: '`+name+`' + i, y: '`+name+`' + (39 - i)});
				await new Promise((r) => setTimeout(r, i % 3));
			}
		})(), true`, nil)
	}
	kick(a, "a")
	kick(b, "b")
	a.waitFor(t, `writing.then(() => true)`)
	b.waitFor(t, `writing.then(() => true)`)

	var converged map[string]any
	deadline := time.Now().Add(wait)
	for {
		sa, sb := a.state(t), b.state(t)
		if fmt.Sprint(sa) == fmt.Sprint(sb) {
			converged = sa
			break
		}
		require.True(t, time.Now().Before(deadline), "the tabs did not converge: %v, %v", sa, sb)
		time.Sleep(50 * time.Millisecond)
	}
	cond := func(key string) string { return "v === " + quote(converged[key].(string)) }
	waitStored(t, a, db, "x", cond("x"))
	waitStored(t, a, db, "y", cond("y"))
	assert.Equal(t, converged, readDB(t, b, db).values())
}

// persist.version going from 1 to 2 runs migrate once, even with two tabs
// of the new app starting at once.
func (s *suite) testMigrationRunsOnce(t *testing.T) {
	ch, db := channelFor(t), dbFor(t)
	old := s.open(t, "")
	old.setup(t, ch, persistConfig(db, ", version: 1"), `{count: 0, theme: 'light'}`)
	old.set(t, `{count: 7, theme: 'dark'}`)
	waitStored(t, old, db, "theme", "v === 'dark'")
	waitStored(t, old, db, "count", "v === 7")
	old.Close(t)

	counter := "migrations-" + ch
	v2 := persistConfig(db, `, version: 2, migrate(state, from) {
		localStorage[`+quote(counter)+`] = Number(localStorage[`+quote(counter)+`] || 0) + 1;
		return {counter: {value: state.count, from}, theme: state.theme};
	}`)
	x, y := s.open(t, ""), s.open(t, "")
	for _, p := range []*testPage{x, y} {
		p.Eval(t, `window.started = setup({channelName: `+quote(ch)+`, `+v2+`}, {counter: {value: 0}, theme: ''}), true`, nil)
	}
	for _, p := range []*testPage{x, y} {
		p.waitFor(t, `started.then(() => true)`)
		assert.Equal(t, map[string]any{"counter": map[string]any{"value": 7.0, "from": 1.0}, "theme": "dark"}, p.state(t))
		assert.Empty(t, p.calls(t).Errors)
	}
	var runs string
	x.Eval(t, `localStorage[`+quote(counter)+`]`, &runs)
	assert.Equal(t, "1", runs, "migrate ran once")
	d := readDB(t, x, db)
	assert.Equal(t, 2, d.Version)
	assert.Equal(t, 2, d.Schema)
	assert.Equal(t, map[string]any{"counter": map[string]any{"value": 7.0, "from": 1.0}, "theme": "dark"}, d.values())
}

// excludeKeys and function values never reach the database.
func (s *suite) testExcludedKeysAreNotStored(t *testing.T) {
	ch, db := channelFor(t), dbFor(t)
	a := s.open(t, "")
	a.setup(t, ch, `excludeKeys: ['token'], `+persistConfig(db, ""), `{n: 0, token: '', inc() {}}`)
	a.set(t, `{n: 1, token: 'secret', inc() { return 1; }, later: () => 2}`)
	waitStored(t, a, db, "n", "v === 1")
	d := readDB(t, a, db)
	assert.Equal(t, map[string]any{"n": 1.0}, d.values())
}

// Deleting the database under a running tab (as "clear site data" or a
// script would) is reported with phase persist; syncing goes on and the
// tab stores its state again.
func (s *suite) testDeletedDatabase(t *testing.T) {
	ch, db := channelFor(t), dbFor(t)
	a, b := s.open(t, ""), s.open(t, "")
	a.setup(t, ch, persistConfig(db, ""), `{n: 0, m: 0}`)
	b.setup(t, ch, `throttleMs: 0`, `{n: 0, m: 0}`)
	a.set(t, `{n: 1, m: 1}`)
	waitStored(t, a, db, "n", "v === 1")

	b.Eval(t, `new Promise((res, rej) => {
		const r = indexedDB.deleteDatabase(`+quote(db)+`);
		r.onsuccess = () => res(true);
		r.onerror = () => rej(r.error);
	})`, nil)
	a.waitFor(t, `calls.errors.some((e) => e.phase === 'persist' && e.message.includes('was deleted'))`)

	a.set(t, `{n: 2}`)
	b.waitFor(t, `store.getState().n === 2`)
	waitStored(t, b, db, "n", "v === 2")
	assert.Equal(t, map[string]any{"n": 2.0, "m": 1.0}, readDB(t, b, db).values(), "the whole state is stored again")
	for _, e := range a.calls(t).Errors {
		assert.Equal(t, "persist", e.Phase, e.Message)
	}
}

// A transaction that aborts (as one does on a QuotaExceededError; the
// page makes the next one abort itself, since lowering the quota with
// Storage.overrideQuotaForOrigin had no effect on this Chromium's browser
// context) is reported with phase persist; syncing goes on, the state in
// memory stays, and the keys are written with the next change.
func (s *suite) testAbortedTransaction(t *testing.T) {
	ch, db := channelFor(t), dbFor(t)
	a, b := s.open(t, ""), s.open(t, "")
	a.setup(t, ch, persistConfig(db, ""), `{n: 0, m: 0}`)
	b.setup(t, ch, `throttleMs: 0`, `{n: 0, m: 0}`)
	a.set(t, `{n: 1}`)
	waitStored(t, a, db, "n", "v === 1")

	abortPuts(t, a, true)
	a.set(t, `{n: 2, m: 2}`)
	a.waitFor(t, `calls.errors.some((e) => e.phase === 'persist' && e.message.includes('failed'))`)
	b.waitFor(t, `store.getState().n === 2 && store.getState().m === 2`)
	var n int
	a.Eval(t, `store.getState().n`, &n)
	assert.Equal(t, 2, n, "the state in memory is untouched")
	assert.Equal(t, 1.0, readDB(t, a, db).values()["n"], "the aborted transaction stored nothing")

	a.set(t, `{n: 3}`)
	waitStored(t, a, db, "n", "v === 3")
	waitStored(t, a, db, "m", "v === 2")
}

// TestMeasureRestore logs how long setup() (createBroadcastSync, start,
// ready) takes in a new tab, its wasm already loaded, with about 1 KB,
// 100 KB and 1 MB of stored state, next to the same setup without
// persistence. Logged, not asserted.
func TestMeasureRestore(t *testing.T) {
	s := newSuite(t)
	for _, size := range []int{1 << 10, 100 << 10, 1 << 20} {
		ch := channelFor(t) + fmt.Sprint(size)
		db := "db-" + ch
		w := s.open(t, "")
		w.setup(t, ch, persistConfig(db, ""), `{}`)
		// 10 keys, each an object holding a string of size/10/2 UTF-16 units.
		w.Eval(t, fmt.Sprintf(`store.setState(Object.fromEntries(Array.from({length: 10}, (_, i) => ['k' + i, {text: 'x'.repeat(%d)}]))), true`, size/20), nil)
		waitStored(t, w, db, "k9", "v.text.length > 0")
		w.Close(t)

		var with, without []string
		for i := 0; i < 3; i++ {
			p := s.open(t, "")
			// Load the wasm first: the measurement is the restore, not the download.
			p.setup(t, ch+"-warm", `throttleMs: 0`, `{}`)
			var ms float64
			p.Eval(t, `(async () => { const t0 = performance.now(); await setup({channelName: `+quote(ch+"-r")+`, `+persistConfig(db, "")+`}, {}); return performance.now() - t0; })()`, &ms)
			var n int
			p.Eval(t, `Object.keys(store.getState()).length`, &n)
			require.Equal(t, 10, n, "restored")
			with = append(with, fmt.Sprintf("%.1fms", ms))
			p.Eval(t, `(async () => { const t0 = performance.now(); await setup({channelName: `+quote(ch+"-plain")+`, throttleMs: 0}, {}); return performance.now() - t0; })()`, &ms)
			without = append(without, fmt.Sprintf("%.1fms", ms))
			p.Close(t)
		}
		t.Logf("setup() to ready in a new tab, %7d bytes stored in 10 keys: %s with the restore; %s without persistence",
			size, strings.Join(with, " "), strings.Join(without, " "))
	}
}
