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

// TestSync checks the behaviour every user relies on (the last section of
// the API contract), apart from leader election and persistence, in real
// tabs of one Chromium against the built npm package. The subtests share
// the browser; each has its own tabs and channel.
func TestSync(t *testing.T) {
	s := newSuite(t)
	t.Run("ScriptTagAndModule", s.testScriptTagAndModule)
	t.Run("SelectiveSyncOnSend", s.testSelectiveSyncOnSend)
	t.Run("SelectiveSyncOnReceive", s.testSelectiveSyncOnReceive)
	t.Run("ExcludedKeysNeverOnTheWire", s.testExcludedKeysNeverOnTheWire)
	t.Run("FunctionsAndUncloneableValues", s.testFunctionsAndUncloneableValues)
	t.Run("BurstsKeepTheirFinalValue", s.testBurstsKeepTheirFinalValue)
	t.Run("ConcurrentWrites", s.testConcurrentWrites)
	t.Run("ReferenceCustomResolver", s.testReferenceCustomResolver)
	t.Run("NewTabWithoutAnswerStorm", s.testNewTabWithoutAnswerStorm)
	t.Run("StopAndStart", s.testStopAndStart)
	t.Run("ConnectedTabs", s.testConnectedTabs)
	t.Run("DebugLog", s.testDebugLog)
	t.Run("NoBroadcastChannel", s.testNoBroadcastChannel)
	t.Run("MalformedMessages", s.testMalformedMessages)
	t.Run("AppVersion", s.testAppVersion)
	t.Run("DuplicatesAndStaleMessages", s.testDuplicatesAndStaleMessages)
	t.Run("WriteFromSubscriber", s.testWriteFromSubscriber)
	t.Run("Removals", s.testRemovals)
}

// A tab on the script-tag build (window.TabSync) and one on the ESM entry
// sync with each other.
func (s *suite) testScriptTagAndModule(t *testing.T) {
	ch := channelFor(t)
	script, module := s.open(t, "?build=iife"), s.open(t, "")
	// The script-tag global and the ESM entry expose the same public
	// names and nothing else (npm's dist.test.mjs adds index.d.ts).
	public := []string{"IndexedDBSync", "createBroadcastSync", "createTableSync", "init", "isSupported"}
	var exports []string
	script.Eval(t, `Object.keys(TabSync).sort()`, &exports)
	assert.Equal(t, public, exports, "window.TabSync")
	module.Eval(t, `import("/tabsync/tabsync.mjs").then((m) => Object.keys(m).sort())`, &exports)
	assert.Equal(t, public, exports, "the ESM entry")
	script.setup(t, ch, ``, "{}")
	module.setup(t, ch, ``, "{}")

	script.set(t, `{from: "script"}`)
	module.waitFor(t, `store.getState().from === "script"`)
	module.set(t, `{from: "module"}`)
	script.waitFor(t, `store.getState().from === "module"`)
}

// A sender's syncKeys and excludeKeys decide what it sends; and what it
// receives, whatever the other tab sends.
func (s *suite) testSelectiveSyncOnSend(t *testing.T) {
	ch := channelFor(t)
	a, b := s.open(t, ""), s.open(t, "")
	a.setup(t, ch, `syncKeys: ["a", "c"], excludeKeys: ["c"]`, "{}")
	b.setup(t, ch, ``, "{}")

	a.set(t, `{a: 1, b: 1, c: 1}`)
	b.waitFor(t, `store.getState().a === 1`)
	assert.Equal(t, map[string]any{"a": 1.0}, b.state(t),
		"b is not in syncKeys, c is excluded: neither leaves the sender")

	b.set(t, `{a: 2, b: 2, c: 2}`)
	a.waitFor(t, `store.getState().a === 2`)
	assert.Equal(t, map[string]any{"a": 2.0, "b": 1.0, "c": 1.0}, a.state(t),
		"the sender's filter applies to what it receives too")
}

// A receiver filters with its own syncKeys and excludeKeys.
func (s *suite) testSelectiveSyncOnReceive(t *testing.T) {
	ch := channelFor(t)
	sender, only, except := s.open(t, ""), s.open(t, ""), s.open(t, "")
	sender.setup(t, ch, ``, "{}")
	only.setup(t, ch, `syncKeys: ["a"]`, "{}")
	except.setup(t, ch, `excludeKeys: ["b"], syncKeys: []`, "{}")

	sender.set(t, `{a: 1, b: 1, c: 1}`)
	only.waitFor(t, `store.getState().a === 1`)
	except.waitFor(t, `store.getState().a === 1`)
	assert.Equal(t, map[string]any{"a": 1.0}, only.state(t), "syncKeys [a] takes only a")
	assert.Equal(t, map[string]any{"a": 1.0, "c": 1.0}, except.state(t),
		"excludeKeys [b] drops b; an empty syncKeys means every key")
	assert.Equal(t, [][]string{{"a"}}, remoteKeys(only.calls(t)), "onRemoteUpdate names the keys applied")
}

func remoteKeys(c calls) [][]string {
	var out [][]string
	for _, r := range c.Remote {
		out = append(out, r.Keys)
	}
	return out
}

// An excluded key never travels: not in updates, not in broadcastState, not
// in the answer to a new tab; a developer watching the channel sees plain
// objects with type and tabId.
func (s *suite) testExcludedKeysNeverOnTheWire(t *testing.T) {
	ch := channelFor(t)
	watcher, a := s.open(t, ""), s.open(t, "")
	watcher.Eval(t, fmt.Sprintf(`watch(%q)`, ch), nil)
	a.setup(t, ch, `excludeKeys: ["secret"]`, `{secret: "TOP-SECRET-0"}`)

	a.set(t, `{secret: "TOP-SECRET-1", pub: 1}`)
	a.Eval(t, `sync.broadcastState(["secret", "pub"]), sync.broadcastState(), true`, nil)
	// A new tab asks for the state; a is the only tab to answer.
	late := s.open(t, "")
	late.setup(t, ch, ``, "{}")
	late.waitFor(t, `store.getState().pub === 1`)
	watcher.waitFor(t, `wire.filter((m) => m.type === "STATE_RESPONSE").length > 0`)

	wire := watcher.wire(t)
	types := map[string]int{}
	for _, m := range wire {
		types[m.Type]++
		assert.NotEmpty(t, m.TabID, "every message names its sender at the top level: %s", m.Raw)
		assert.NotContains(t, m.Raw, "TOP-SECRET")
		assert.NotContains(t, m.stateKeys(), "state.secret")
		assert.NotContains(t, m.stateKeys(), "meta.secret")
	}
	assert.GreaterOrEqual(t, types["STATE_UPDATE"], 2, "the update and broadcastState were seen: %v", types)
	assert.GreaterOrEqual(t, types["STATE_RESPONSE"], 1, "the answer to the new tab was seen: %v", types)
	assert.Equal(t, map[string]any{"pub": 1.0}, late.state(t))
}

// Functions (zustand actions) are never sent and cause no error; a value
// the browser cannot clone is reported while the rest of the change syncs.
func (s *suite) testFunctionsAndUncloneableValues(t *testing.T) {
	ch := channelFor(t)
	a, b := s.open(t, ""), s.open(t, "")
	const initial = `{n: 0, inc() { store.setState((s) => ({n: s.n + 1})) }}`
	a.setup(t, ch, ``, initial)
	b.setup(t, ch, ``, initial)
	b.Eval(t, `store.getState().inc.mine = true`, nil)

	a.set(t, `{n: 1, fn: () => 42, inc() { return "a's own" }}`)
	b.waitFor(t, `store.getState().n === 1`)
	got := b.state(t)
	assert.NotContains(t, got, "fn", "a function value is not sent")
	var own bool
	b.Eval(t, `store.getState().inc.mine === true`, &own)
	assert.True(t, own, "the receiver keeps its own action")
	assert.Empty(t, a.calls(t).errorText(), "functions cause no error")

	// A DOM node, a symbol and an object holding a function cannot be
	// cloned; the numbers of the same change still go out.
	a.set(t, `{node: document.body, sym: Symbol("s"), obj: {f() {}}, n: 2, m: 2}`)
	b.waitFor(t, `store.getState().n === 2`)
	got = b.state(t)
	assert.Equal(t, 2.0, got["m"])
	for _, k := range []string{"node", "sym", "obj"} {
		assert.NotContains(t, got, k)
	}
	a.waitFor(t, `calls.errors.length >= 1`)
	c := a.calls(t)
	for _, e := range c.Errors {
		assert.Equal(t, "send", e.Phase, "error: %s", e.Message)
		assert.Equal(t, a.id, e.TabID)
	}
	errs := c.errorText()
	assert.Contains(t, errs, "node", "the DOM node is reported")
	assert.Contains(t, errs, "obj", "the object holding a function is reported")

	// Syncing goes on.
	a.set(t, `{n: 3}`)
	b.waitFor(t, `store.getState().n === 3`)
}

// The final value of a throttled and of a debounced burst arrives, and the
// burst travels in fewer updates than it has changes.
func (s *suite) testBurstsKeepTheirFinalValue(t *testing.T) {
	a, b := s.open(t, ""), s.open(t, "")
	for _, config := range []string{`throttleMs: 300`, `debounceMs: 150`} {
		t.Run(strings.TrimSuffix(strings.Fields(config)[0], ":"), func(t *testing.T) {
			ch := channelFor(t)
			a.setup(t, ch, config, "{}")
			b.setup(t, ch, ``, "{}")
			const n = 30
			var last int
			a.Eval(t, fmt.Sprintf(`burst("n", %d, 5)`, n), &last)
			b.waitFor(t, fmt.Sprintf(`store.getState().n === %d`, last))
			updates := len(b.calls(t).Remote)
			t.Logf("%s: %d changes arrived in %d updates", config, n, updates)
			assert.Less(t, updates, n, "the burst was not sent change by change")
			sent := a.stats(t).Sent
			assert.Less(t, sent, n, "messages sent by the bursting tab")
		})
	}
}

// Concurrent writes of one key (neither writer had seen the other's write)
// end with the same value in every tab, decided by the strategy. The writes
// are made truly concurrent by a debounce longer than the time between
// them: neither tab sends before both have written.
func (s *suite) testConcurrentWrites(t *testing.T) {
	a, b, c := s.open(t, ""), s.open(t, ""), s.open(t, "")
	cases := []struct {
		name, config  string
		first, second string // a's write, then b's
		want          string // JSON of the value every tab ends with
	}{
		{"last-write-wins", `conflictStrategy: "last-write-wins"`,
			`{x: "from a"}`, `{x: "from b"}`, `"from b"`},
		{"first-write-wins", `conflictStrategy: "first-write-wins"`,
			`{x: "from a"}`, `{x: "from b"}`, `"from a"`},
		{"merge", `conflictStrategy: "merge"`,
			`{x: {a: 1, shared: {p: 1}, list: [1]}}`,
			`{x: JSON.parse('{"b": 2, "shared": {"q": 2}, "list": [2], "__proto__": {"polluted": true}}')}`,
			`{"a": 1, "b": 2, "shared": {"p": 1, "q": 2}, "list": [2]}`},
		{"custom", `conflictStrategy: "custom",
			customResolver: (local, remote) => ({x: [...new Set([...remote.x, ...local.x])].sort()})`,
			`{x: ["a", "common"]}`, `{x: ["b", "common"]}`, `["a", "b", "common"]`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			concurrent := false
			for attempt := 1; attempt <= 3 && !concurrent; attempt++ {
				ch := fmt.Sprintf("%s-%d", channelFor(t), attempt)
				c.setup(t, ch, tc.config, "{}")
				c.Eval(t, fmt.Sprintf(`watch(%q)`, ch), nil)
				for _, p := range []*testPage{a, b} {
					p.setup(t, ch, tc.config+`, debounceMs: 1500`, "{}")
				}
				// A tab answering a state request sends its pending
				// writes first; let the start-up requests be answered.
				time.Sleep(time.Second)

				at := a.set(t, tc.first)
				var applied int
				b.Eval(t, fmt.Sprintf(`setAfter(%d, %s), calls.remote.length`, at, tc.second), &applied)
				// b's write is concurrent with a's if b had not applied
				// a's yet; else (a state request came in between) retry.
				concurrent = applied == 0
				if !concurrent {
					t.Logf("attempt %d: b had applied a's write before writing; again", attempt)
				}
			}
			require.True(t, concurrent, "no attempt made concurrent writes")
			t.Cleanup(func() {
				if t.Failed() {
					for i, p := range []*testPage{a, b, c} {
						t.Logf("tab %d %s: state %v stats %+v calls %+v", i, p.id, p.state(t), p.stats(t), p.calls(t))
					}
					for _, m := range c.wire(t) {
						t.Logf("wire: %s", m.Raw)
					}
				}
			})
			for _, p := range []*testPage{a, b, c} {
				p.waitFor(t, fmt.Sprintf(`canon(store.getState().x) === canon(%s)`, tc.want))
			}
			conflicts := a.stats(t).Conflicts + b.stats(t).Conflicts + c.stats(t).Conflicts
			assert.Positive(t, conflicts, "the writes were concurrent")
			for _, p := range []*testPage{a, b, c} {
				assert.Empty(t, p.calls(t).errorText())
			}
			if tc.name == "merge" {
				var clean bool
				a.Eval(t, `({}).polluted === undefined && store.getState().x.polluted === undefined &&
					Object.getPrototypeOf(store.getState().x) === Object.prototype`, &clean)
				assert.True(t, clean, "merging never touches a prototype")
			}
			if tc.name == "custom" {
				assert.Positive(t, a.calls(t).Resolver+b.calls(t).Resolver, "customResolver was called")
			}
		})
	}
}

// The reference's customResolver example, verbatim, on concurrent writes of
// its three keys in three tabs: it is called once, with partial states (the
// conflicting keys of one update), and every tab ends with its result.
func (s *suite) testReferenceCustomResolver(t *testing.T) {
	const config = `conflictStrategy: 'custom',
  customResolver: (local, remote) => {
    return {
      // Take theme from remote
      theme: remote.theme ?? local.theme,
      // Take locale from local (preserve user's choice)
      locale: local.locale,
      // Merge arrays
      recentItems: [...(local.recentItems ?? []), ...(remote.recentItems ?? [])],
    };
  }`
	a, b, c := s.open(t, ""), s.open(t, ""), s.open(t, "")
	initial := `{theme: "light", locale: "en", recentItems: [], other: 0}`
	concurrent := false
	var at int64
	for attempt := 1; attempt <= 3 && !concurrent; attempt++ {
		ch := fmt.Sprintf("%s-%d", channelFor(t), attempt)
		c.setup(t, ch, config, initial)
		for _, p := range []*testPage{a, b} {
			p.setup(t, ch, config+`, debounceMs: 1500`, initial)
		}
		time.Sleep(time.Second)
		at = a.set(t, `{theme: "dark", locale: "fr", recentItems: ["a1"]}`)
		var applied int
		b.Eval(t, fmt.Sprintf(`setAfter(%d, {theme: "sepia", locale: "de", recentItems: ["b1"]}), calls.remote.length`, at), &applied)
		concurrent = applied == 0
	}
	require.True(t, concurrent, "no attempt made concurrent writes")
	// b's writes are the later ones: b resolves with b's values as local.
	want := `{"theme": "dark", "locale": "de", "recentItems": ["b1", "a1"], "other": 0}`
	for _, p := range []*testPage{a, b, c} {
		p.waitFor(t, fmt.Sprintf(`canon(store.getState()) === canon(%s)`, want))
	}
	assert.Equal(t, 1, a.calls(t).Resolver+b.calls(t).Resolver+c.calls(t).Resolver, "called once")
	for _, p := range []*testPage{a, b, c} {
		assert.Empty(t, p.calls(t).errorText())
	}
	// The store's other keys, not in conflict, stay as they were although
	// the resolver reads them as undefined: its result for them is ignored.
	a.set(t, `{other: 1}`)
	for _, p := range []*testPage{b, c} {
		p.waitFor(t, `store.getState().other === 1 && store.getState().locale === "de"`)
	}
}

// A new tab gets the state from at most two of the five open tabs.
func (s *suite) testNewTabWithoutAnswerStorm(t *testing.T) {
	ch := channelFor(t)
	open := s.openSynced(t, 5, ch, ``)
	open[0].Eval(t, fmt.Sprintf(`watch(%q)`, ch), nil)
	open[2].set(t, `{n: 5, list: [1, 2, 3]}`)
	for _, p := range open {
		p.waitFor(t, `store.getState().n === 5`)
	}

	newcomer := s.open(t, "")
	newcomer.setup(t, ch, ``, "{}")
	newcomer.waitFor(t, `store.getState().n === 5`)
	assert.Equal(t, map[string]any{"n": 5.0, "list": []any{1.0, 2.0, 3.0}}, newcomer.state(t))
	// The second answerer waits 60 ms for the first; give late answers
	// time to show up before counting.
	time.Sleep(time.Second)
	responses := 0
	for _, m := range open[0].wire(t) {
		if m.Type == "STATE_RESPONSE" && m.Payload["to"] == newcomer.id {
			responses++
		}
	}
	t.Logf("STATE_RESPONSE messages to the new tab: %d", responses)
	assert.GreaterOrEqual(t, responses, 1)
	assert.LessOrEqual(t, responses, 2, "at most two tabs answer")
}

// stop() takes effect at once and sends nothing more; start() resumes and
// sends what changed meanwhile.
func (s *suite) testStopAndStart(t *testing.T) {
	ch := channelFor(t)
	a, b := s.open(t, ""), s.open(t, "")
	b.Eval(t, fmt.Sprintf(`watch(%q)`, ch), nil)
	a.setup(t, ch, ``, "{}")
	b.setup(t, ch, ``, "{}")
	a.set(t, `{n: 1}`)
	b.waitFor(t, `store.getState().n === 1`)

	var active bool
	a.Eval(t, `sync.stop(), sync.isActive()`, &active)
	assert.False(t, active, "isActive() is false right after stop()")
	fromA := fmt.Sprintf(`wire.filter((m) => m.tabId === %q)`, a.id)
	b.waitFor(t, fromA+`.some((m) => m.type === "TAB_PING" && m.payload.leaving)`)
	var before int
	b.Eval(t, fromA+`.length`, &before)

	a.set(t, `{n: 2}`)
	a.set(t, `{n: 3, m: 3}`)
	a.Eval(t, `sync.requestState(), sync.broadcastState(), true`, nil)
	b.set(t, `{other: 1}`)
	// Nothing may come; wait longer than the default 100 ms throttle.
	time.Sleep(600 * time.Millisecond)
	var after int
	b.Eval(t, fromA+`.length`, &after)
	assert.Equal(t, before, after, "a stopped tab sends nothing")
	assert.Equal(t, 1.0, b.state(t)["n"])
	assert.NotContains(t, a.state(t), "other", "a stopped tab receives nothing")

	a.Eval(t, `sync.start(), sync.isActive()`, &active)
	assert.True(t, active)
	b.waitFor(t, `store.getState().n === 3 && store.getState().m === 3`)
	a.waitFor(t, `store.getState().other === 1`)
	assert.Equal(t, []string{"connected", "disconnected", "connected"}, a.calls(t).States)
}

// getConnectedTabs() counts the open tabs, this one included, and goes down
// when a tab closes (at once: it says goodbye) or crashes (after the peer
// timeout).
func (s *suite) testConnectedTabs(t *testing.T) {
	ch := channelFor(t)
	tabs := s.openSynced(t, 3, ch, ``)
	for _, p := range tabs {
		p.waitFor(t, `sync.getConnectedTabs() === 3`)
	}
	tabs[2].Close(t)
	for _, p := range tabs[:2] {
		p.waitFor(t, `sync.getConnectedTabs() === 2`)
	}
	late := s.open(t, "")
	late.setup(t, ch, ``, "{}")
	for _, p := range []*testPage{tabs[0], tabs[1], late} {
		p.waitFor(t, `sync.getConnectedTabs() === 3`)
	}

	// A tab that dies without a word (its renderer crashed) is counted
	// out once silent for the peer timeout, 3 pings and a second: 16 s.
	late.Crash(t)
	for _, p := range tabs[:2] {
		p.WaitFor(t, `sync.getConnectedTabs() === 2`, 40*time.Second)
	}
}

// debug: true logs what is sent, received and applied, prefixed with the
// end of the tab id; debug off logs nothing.
func (s *suite) testDebugLog(t *testing.T) {
	ch := channelFor(t)
	loud, quiet := s.open(t, ""), s.open(t, "")
	loud.setup(t, ch, `debug: true`, "{}")
	quiet.setup(t, ch, `debug: false`, "{}")
	quiet.set(t, `{n: 1}`)
	loud.waitFor(t, `store.getState().n === 1`)
	loud.set(t, `{n: 2}`)
	quiet.waitFor(t, `store.getState().n === 2`)

	prefix := "log: [tabsync:" + loud.id[len(loud.id)-6:] + "] "
	require.Eventually(t, func() bool {
		return hasLine(loud.Console(), prefix+"Received: STATE_UPDATE")
	}, wait, 20*time.Millisecond, "console: %q", loud.Console())
	lines := loud.Console()
	assert.True(t, hasLine(lines, prefix+"Sent: TAB_PING"), "console: %q", lines)
	assert.True(t, hasLine(lines, prefix+"Sent: STATE_UPDATE"), "console: %q", lines)
	assert.True(t, hasLine(lines, prefix+"Applied"), "console: %q", lines)
	for _, l := range quiet.Console() {
		assert.NotContains(t, l, "[tabsync:", "debug off logs nothing")
	}
}

// hasLine reports whether a console line starts with prefix.
func hasLine(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

// Without BroadcastChannel, start() is a no-op reporting 'disconnected',
// ready resolves and nothing throws. The script-tag build is used here.
func (s *suite) testNoBroadcastChannel(t *testing.T) {
	p := s.open(t, "?nobc&build=iife")
	var supported map[string]bool
	p.Eval(t, `lib.isSupported()`, &supported)
	assert.False(t, supported["broadcastChannel"])

	p.setup(t, channelFor(t), ``, "{n: 0}")
	var r struct {
		Active bool  `json:"active"`
		Tabs   int   `json:"tabs"`
		Stats  stats `json:"stats"`
	}
	p.Eval(t, `(() => {
		store.setState({n: 1});
		sync.requestState();
		sync.broadcastState();
		sync.forceLeader();
		return {active: sync.isActive(), tabs: sync.getConnectedTabs(), stats: sync.getStats()};
	})()`, &r)
	assert.False(t, r.Active)
	assert.Equal(t, 1, r.Tabs)
	assert.Zero(t, r.Stats.Sent)
	assert.Equal(t, 1.0, p.state(t)["n"], "the store works as ever")
	c := p.calls(t)
	assert.Equal(t, []string{"disconnected"}, c.States)
	assert.Empty(t, c.errorText())
	p.Eval(t, `sync.stop(), sync.start(), sync.destroy(), true`, nil)
}

// Malformed messages on the channel change nothing, throw nothing, are
// counted by reason and do not stop syncing.
func (s *suite) testMalformedMessages(t *testing.T) {
	ch := channelFor(t)
	victim, other := s.open(t, ""), s.open(t, "")
	victim.setup(t, ch, ``, `{n: 0, name: "kept"}`)
	other.setup(t, ch, ``, "{}")
	victim.set(t, `{n: 1}`)
	other.waitFor(t, `store.getState().n === 1`)
	before := victim.stats(t)

	msgs := fmt.Sprintf(`[
		null, 42, "STATE_UPDATE", [1, 2], {},
		{type: "STATE_UPDATE"},
		{type: "STATE_UPDATE", tabId: "evil", v: 1, seq: 1, payload: {state: {n: 666}}},
		{type: "STATE_UPDATE", tabId: "evil", v: 1, seq: 2, payload: {state: {n: 666}, meta: {n: "not a version"}}},
		{type: "STATE_UPDATE", tabId: "bad id!", v: 1, seq: 3, payload: {state: {n: 666}, meta: {}}},
		{type: "STATE_UPDATE", tabId: "evil", v: 1, seq: -1, payload: {state: {}, meta: {}}},
		{type: "STATE_RESPONSE", tabId: "evil", v: 1, seq: 4, payload: {state: {n: 666}, meta: {}}},
		{type: "TAB_PING", tabId: "evil", v: 1, seq: 5, payload: {started: "yesterday"}},
		{type: "HEARTBEAT", tabId: "evil", v: 1, seq: 6, payload: {term: 1.5, leader: "evil"}},
		{type: "TAB_PING", tabId: "evil", v: 1, seq: 7, payload: 7},
		{type: "EVIL", tabId: "evil", v: 1, seq: 8, payload: {}},
		{type: "TAB_PING", tabId: "evil", v: 99, seq: 9, payload: {started: 1}},
		{type: "TAB_PING", tabId: %[1]q, v: 1, seq: 10, payload: {started: 1}},
		{type: "STATE_UPDATE", tabId: "evil", v: 1, seq: 11, payload: {state: {n: "x".repeat(3 << 20)}, meta: {}}},
	]`, victim.id)
	var posted int
	other.Eval(t, fmt.Sprintf(`(() => { const m = %s; post(%q, ...m); return m.length })()`, msgs, ch), &posted)
	// Legitimate traffic may be dropped meanwhile too (a stale or
	// duplicate message is ordinary), so count only the reasons posted.
	want := map[string]int{"invalid": 14, "unknownType": 1, "protocolVersion": 1, "ownId": 1, "oversized": 1}
	sum := func(st stats) int {
		n := 0
		for reason := range want {
			n += st.DroppedByReason[reason]
		}
		return n
	}
	victim.waitFor(t, fmt.Sprintf(`(({droppedByReason: d}) => d.invalid + d.unknownType + d.protocolVersion + d.ownId + d.oversized)(stats()) >= %d`, sum(before)+posted))

	after := victim.stats(t)
	t.Logf("dropped by reason: %v", after.DroppedByReason)
	assert.Equal(t, posted, sum(after)-sum(before), "each malformed message is counted once")
	assert.GreaterOrEqual(t, after.Dropped-before.Dropped, posted, "and in dropped")
	assert.Equal(t, before.Applied, after.Applied, "nothing was applied")
	for reason, n := range want {
		assert.Equal(t, n, after.DroppedByReason[reason]-before.DroppedByReason[reason], "droppedByReason.%s", reason)
	}
	assert.Equal(t, map[string]any{"n": 1.0, "name": "kept"}, victim.state(t))
	for _, e := range victim.calls(t).Errors {
		assert.Equal(t, "protocol", e.Phase, "error: %s", e.Message)
	}

	other.set(t, `{n: 2}`)
	victim.waitFor(t, `store.getState().n === 2`)
}

// Tabs of different appVersion never apply each other's state, and report
// it through onError.
func (s *suite) testAppVersion(t *testing.T) {
	ch := channelFor(t)
	old, fresh, peer := s.open(t, ""), s.open(t, ""), s.open(t, "")
	old.setup(t, ch, `appVersion: "1.0.0"`, "{}")
	old.set(t, `{n: 1}`)
	fresh.setup(t, ch, `appVersion: "2.0.0"`, "{}")
	peer.setup(t, ch, `appVersion: "1.0.0"`, "{}")
	peer.waitFor(t, `store.getState().n === 1`)

	fresh.waitFor(t, `calls.errors.some((e) => e.message.includes("1.0.0"))`)
	foreign := old.stats(t).DroppedByReason["foreignVersion"]
	fresh.set(t, `{n: 2}`)
	old.waitFor(t, fmt.Sprintf(`stats().droppedByReason.foreignVersion > %d`, foreign))
	peer.set(t, `{m: 1}`)
	old.waitFor(t, `store.getState().m === 1`)

	assert.Equal(t, map[string]any{"n": 2.0}, fresh.state(t), "the new version took nothing from the old")
	assert.Equal(t, map[string]any{"n": 1.0, "m": 1.0}, old.state(t), "the old version took nothing from the new")
	assert.Positive(t, fresh.stats(t).DroppedByReason["foreignVersion"])
	assert.Contains(t, old.calls(t).errorText(), "2.0.0", "the old tab reports the new version")
	assert.Contains(t, fresh.calls(t).errorText(), "1.0.0", "the new tab reports the old version")
}

// A store subscriber that writes the store when a remote change arrives
// (a derived value, a clamp) makes a local change like any other: it syncs.
func (s *suite) testWriteFromSubscriber(t *testing.T) {
	ch := channelFor(t)
	a, b := s.open(t, ""), s.open(t, "")
	a.setup(t, ch, ``, "{}")
	b.setup(t, ch, ``, "{}")
	b.Eval(t, `store.subscribe((s, prev) => {
		if (s.n !== prev.n) store.setState({tenfold: s.n * 10});
	}), true`, nil)

	a.set(t, `{n: 1}`)
	b.waitFor(t, `store.getState().tenfold === 10`)
	a.waitFor(t, `store.getState().tenfold === 10`)
	a.set(t, `{n: 2}`)
	a.waitFor(t, `store.getState().tenfold === 20`)
}

// A repeated message and one older than what the tab already applied
// change nothing, and are counted.
func (s *suite) testDuplicatesAndStaleMessages(t *testing.T) {
	ch := channelFor(t)
	a, b := s.open(t, ""), s.open(t, "")
	b.Eval(t, fmt.Sprintf(`watch(%q)`, ch), nil)
	a.setup(t, ch, `throttleMs: 0`, "{}")
	b.setup(t, ch, `throttleMs: 0`, "{}")
	a.set(t, `{n: 1}`)
	b.waitFor(t, `store.getState().n === 1`)
	a.set(t, `{n: 2}`)
	b.waitFor(t, `store.getState().n === 2`)
	before := b.stats(t)

	// The update that carried n: 1, replayed as it was, then as if another
	// tab had sent it.
	first := fmt.Sprintf(`wire.find((m) => m.tabId === %q && m.type === "STATE_UPDATE" && m.payload.state.n === 1)`, a.id)
	b.Eval(t, fmt.Sprintf(`(() => {
		const m = %s;
		post(%q, m, {...m, tabId: "someone-else", seq: 1});
		return true;
	})()`, first, ch), nil)
	b.waitFor(t, fmt.Sprintf(`stats().droppedByReason.duplicate > %d && stats().droppedByReason.stale > %d`,
		before.DroppedByReason["duplicate"], before.DroppedByReason["stale"]))

	assert.Equal(t, 2.0, b.state(t)["n"])
	assert.Equal(t, 2.0, a.state(t)["n"], "a ignores its own message coming back")
	assert.Equal(t, before.Applied, b.stats(t).Applied)
	a.set(t, `{n: 3}`)
	b.waitFor(t, `store.getState().n === 3`)
}

// A key removed with zustand's setState(next, true) leaves the other tab's
// state (not set to undefined: gone); under merge, a nested field one tab
// removes stays removed although the other tab, unaware of the removal,
// writes the object concurrently, and the field that tab added stays.
func (s *suite) testRemovals(t *testing.T) {
	a, b := s.open(t, ""), s.open(t, "")
	ch := channelFor(t)
	for _, p := range []*testPage{a, b} {
		p.setup(t, ch, ``, `{draft: "", title: ""}`)
	}
	a.set(t, `{draft: "hello", title: "T"}`)
	b.waitFor(t, `store.getState().draft === "hello"`)
	a.Eval(t, `store.setState(({draft, ...rest}) => rest, true), true`, nil)
	b.waitFor(t, `!("draft" in store.getState()) && store.getState().title === "T"`)
	assert.Empty(t, a.calls(t).errorText())
	assert.Empty(t, b.calls(t).errorText())

	concurrent := false
	for attempt := 1; attempt <= 3 && !concurrent; attempt++ {
		ch := fmt.Sprintf("%s-merge-%d", channelFor(t), attempt)
		for _, p := range []*testPage{a, b} {
			p.setup(t, ch, `conflictStrategy: "merge", debounceMs: 1500`, `{}`)
		}
		a.set(t, `{prefs: {theme: "dark", font: "serif"}}`)
		b.waitFor(t, `store.getState().prefs && store.getState().prefs.font === "serif"`)
		// a removes font; b, before a's removal reaches it (the debounce
		// holds both writes), adds size to the object it holds.
		at := a.set(t, `{prefs: {theme: "dark"}}`)
		var applied int
		b.Eval(t, fmt.Sprintf(`setAfter(%d, {prefs: {...store.getState().prefs, size: 12}}), calls.remote.length`, at), &applied)
		concurrent = applied == 1 // only a's first write
		if !concurrent {
			t.Logf("attempt %d: b had applied a's removal before writing; again", attempt)
		}
	}
	require.True(t, concurrent, "no attempt made concurrent writes")
	want := `{"size":12,"theme":"dark"}`
	for _, p := range []*testPage{a, b} {
		p.waitFor(t, fmt.Sprintf(`canon(store.getState().prefs) === %q`, want))
	}
	time.Sleep(500 * time.Millisecond) // nothing more changes it
	for _, p := range []*testPage{a, b} {
		var got string
		p.Eval(t, `canon(store.getState().prefs)`, &got)
		assert.Equal(t, want, got, "tab %s", p.id)
		assert.Empty(t, p.calls(t).errorText())
	}
	assert.Positive(t, a.stats(t).Conflicts+b.stats(t).Conflicts, "the writes were concurrent")
}
