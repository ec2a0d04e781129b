//go:build e2e && !(js && wasm)

package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/internal/wirecorpus"
)

// hostilePrelude defines, in the attacking page, what the hostile messages
// are built with: M(type, payload, fields) is a message from tab "evil"
// with the next sequence number and fields overriding the envelope's; V(ms)
// is a well-formed version written ms after now by evil; J parses JSON, the
// way to get own __proto__ keys; PEER and SELF are the ids of the peer and
// of the attacked tab.
const hostilePrelude = `
	window.evilSeq ??= 0;
	window.M = (type, payload, fields = {}) => ({type, tabId: "evil", v: 1, seq: ++evilSeq, payload, ...fields});
	window.V = (ms = 0, tab = "evil") => (Date.now() + ms) + ".0." + tab + "||1";
	window.J = (s) => JSON.parse(s);
	window.U = (state, fields) => M("STATE_UPDATE", {state, meta: Object.fromEntries(Object.keys(state).map((k) => [k, V(1e6)]))}, fields);
	window.deep = (n, leaf, wrap) => { let v = leaf; for (let i = 0; i < n; i++) v = wrap(v); return v; };
`

// hostileCase is one row of the table: messages, a JavaScript expression of
// an array built with hostilePrelude, and the drops they must cause, by
// reason. refused counts the messages the browser must refuse to clone:
// they never leave the attacking script.
type hostileCase struct {
	name     string
	messages string
	want     map[string]int
	refused  int
}

// hostileCases are the rows JSON cannot write: JavaScript values, messages
// of megabytes, replays of another tab's numbers. The rest of the table is
// the wire corpus's (corpusCases).
var hostileCases = []hostileCase{
	{"non-objects JSON cannot hold", `[undefined, NaN, 10n, new Date(), new Map([["type", "STATE_UPDATE"]]), new Set([1]),
		new Uint8Array(8), new ArrayBuffer(8), /STATE_UPDATE/, new Error("STATE_UPDATE"), new Blob(["x"])]`,
		map[string]int{"invalid": 11}, 0},
	{"envelope fields JSON cannot hold", `[U({n: 666}, {tabId: undefined}), U({n: 666}, {v: 1n}),
		U({n: 666}, {seq: NaN}), U({n: 666}, {seq: Infinity}), U({n: 666}, {seq: 5n})]`,
		map[string]int{"invalid": 5}, 0},
	{"protocol versions JSON cannot hold", `[U({n: 666}, {v: NaN}), U({n: 666}, {v: Infinity})]`,
		map[string]int{"protocolVersion": 2}, 0},
	{"another tab's id with a number it already sent", `[U({n: 666}, {tabId: PEER, seq: 1}), U({n: 666}, {tabId: PEER, seq: 2}),
		M("TAB_PING", {started: 1, leaving: true}, {tabId: PEER, seq: 1})]`,
		map[string]int{"duplicate": 3}, 0},
	{"messages of several megabytes", `[U({n: "x".repeat(3 << 20)}), U({n: new Uint8Array(5 << 20)}),
		U({n: Array.from({length: 600000}, (_, i) => i)}),
		U({n: Object.fromEntries(Array.from({length: 200000}, (_, i) => ["key" + i, i]))}),
		M("TAB_PING", {started: 1, junk: "y".repeat(3 << 20)})]`,
		map[string]int{"oversized": 5}, 0},
	{"payloads nested 2,000 deep or in Maps", `[U({n: deep(2000, "leaf", (v) => ({a: v}))}),
		U({n: deep(70, 1, (v) => new Map([["k", v]]))})]`,
		map[string]int{"oversized": 2}, 0},
	{"values that cannot be cloned", `[U({n: () => 666}), U({n: Symbol("s")}), U({n: document.body}),
		{type: "STATE_UPDATE", get tabId() { throw new Error("getter") }}, U({n: new WeakMap()}), U({n: new Proxy({}, {})}),
		U({n: 666}, {tabId: {toString: () => "evil"}})]`,
		map[string]int{}, 7},
}

// corpusCases are the rejected messages of the wire corpus (testdata/wire)
// whose files' receiver has the default settings, as the victim has, with
// {self} standing for the victim's id: one row per file and reason, the
// messages parsed by JSON.parse (which keeps __proto__ an own key).
func corpusCases(t *testing.T, self string) []hostileCase {
	files, err := wirecorpus.Load(self)
	require.NoError(t, err)
	var rows []hostileCase
	for _, f := range files {
		if f.Receiver != (wirecorpus.Receiver{}) {
			continue
		}
		first := len(rows)
		byReason := map[string]int{} // index in rows
		for _, c := range f.Cases {
			if c.Accepted() {
				continue
			}
			i, ok := byReason[c.Reason]
			if !ok {
				i = len(rows)
				byReason[c.Reason] = i
				rows = append(rows, hostileCase{name: f.Name + " " + c.Reason, want: map[string]int{}})
			}
			text, err := json.Marshal(string(c.Message))
			require.NoError(t, err)
			rows[i].messages += "J(" + string(text) + "),\n"
			rows[i].want[c.Reason]++
		}
		for i := first; i < len(rows); i++ {
			rows[i].messages = "[" + rows[i].messages + "]"
		}
	}
	require.NotEmpty(t, rows, "the corpus has hostile messages for a default receiver")
	return rows
}

// TestHostile posts hostile and broken messages on the channel of a synced
// tab from a plain script, as any script of the origin can. For each row
// of the table: nothing is thrown into the page, the state does not change,
// each message is counted under its reason, the prototypes stay clean, and
// a write of the other tab still arrives right after.
func TestHostile(t *testing.T) {
	s := newSuite(t)
	t.Run("Messages", s.testHostileMessages)
	t.Run("CorpusGoldensAccepted", s.testCorpusGoldensAccepted)
	t.Run("ForbiddenKeysUnderEveryStrategy", s.testForbiddenKeysUnderEveryStrategy)
	t.Run("ReplayedAndOutOfOrder", s.testReplayedAndOutOfOrder)
	t.Run("ForgedSeqDoesNotSilenceATab", s.testForgedSeqDoesNotSilenceATab)
	t.Run("MixedVersionsReportedOnce", s.testMixedVersionsReportedOnce)
	t.Run("ForgedLeader", s.testForgedLeader)
}

// hitResult is what page.js's hit returns.
type hitResult struct {
	Refused     int    `json:"refused"`
	Before      stats  `json:"before"`
	After       stats  `json:"after"`
	StateBefore string `json:"stateBefore"`
	StateAfter  string `json:"stateAfter"`
	Clean       bool   `json:"clean"`
}

// attack posts the messages (a JavaScript array expression, see
// hostilePrelude) from a plain script of p's page and waits until p's
// instance has counted the wanted drops.
func (p *testPage) attack(t *testing.T, channel, peer, messages string, want map[string]int) hitResult {
	t.Helper()
	w, err := json.Marshal(want)
	require.NoError(t, err)
	var r hitResult
	p.Eval(t, fmt.Sprintf(`(() => { %s; window.PEER = %q; window.SELF = %q;
		return hit(%q, () => %s, %s, %d) })()`,
		hostilePrelude, peer, p.id, channel, messages, w, (wait/2).Milliseconds()), &r)
	return r
}

// delta is how many more drops of each reason after has than before.
// Duplicate and stale messages are ordinary on a live channel (a late
// answer to a state request, say): they count only when want names them.
func delta(before, after stats, want map[string]int) map[string]int {
	d := map[string]int{}
	for r, n := range after.DroppedByReason {
		if _, ok := want[r]; !ok && (r == "stale" || r == "duplicate") {
			continue
		}
		if n != before.DroppedByReason[r] {
			d[r] = n - before.DroppedByReason[r]
		}
	}
	return d
}

func (s *suite) testHostileMessages(t *testing.T) {
	ch := channelFor(t)
	victim, peer := s.open(t, ""), s.open(t, "")
	victim.setup(t, ch, `throttleMs: 0`, `{n: 0, name: "kept"}`)
	peer.setup(t, ch, `throttleMs: 0`, "{}")
	victim.set(t, `{n: 1}`)
	peer.waitFor(t, `store.getState().n === 1`)
	// Let the start-up exchange (pings, pongs, the state request) end, so
	// that every drop counted below is one of the attack's.
	peer.set(t, `{n: 2}`)
	victim.waitFor(t, `store.getState().n === 2`)

	total, errorsBefore, start := 0, len(victim.calls(t).Errors), time.Now()
	table := append(corpusCases(t, victim.id), hostileCases...)
	for i, tc := range table {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			r := victim.attack(t, ch, peer.id, tc.messages, tc.want)
			n := 0
			for _, c := range tc.want {
				n += c
			}
			total += n + r.Refused
			assert.Equal(t, tc.refused, r.Refused, "messages the browser refused to clone")
			d := delta(r.Before, r.After, tc.want)
			assert.Equal(t, tc.want, d, "drops by reason")
			assert.Equal(t, r.Before.Applied, r.After.Applied, "nothing applied")
			assert.Equal(t, r.StateBefore, r.StateAfter, "the state did not change")
			assert.True(t, r.Clean, "Object.prototype and Array.prototype are untouched")

			// Syncing still works, both ways.
			v := 10 + i
			peer.set(t, fmt.Sprintf(`{n: %d}`, v))
			victim.waitFor(t, fmt.Sprintf(`store.getState().n === %d`, v))
			victim.set(t, fmt.Sprintf(`{name: "kept %d"}`, v))
			peer.waitFor(t, fmt.Sprintf(`store.getState().name === "kept %d"`, v))
		})
	}
	c := victim.calls(t)
	for _, e := range c.Errors {
		assert.Equal(t, "protocol", e.Phase, "error: %s", e.Message)
	}
	reports := len(c.Errors) - errorsBefore
	took := time.Since(start)
	t.Logf("%d hostile inputs in %d rows, in %v: every one dropped and counted (or refused by the browser); %d onError reports",
		total, len(table), took.Round(time.Millisecond), reports)
	// Six reasons, each reported at most once per 10 s cooldown (the
	// foreign version once).
	assert.LessOrEqual(t, reports, 6*(1+int(took/(10*time.Second))), "reports are rate-limited")
	assert.Equal(t, 1, strings.Count(c.errorText(), "9.9.9"), "the foreign version is reported once:\n%s", c.errorText())
}

// testCorpusGoldensAccepted posts the golden messages of the wire corpus
// (testdata/wire) of the files whose receiver has the default settings,
// one at a time, from a plain script: each is received, none dropped and
// nothing reported. With the hostile rows of testHostileMessages, a change
// of the wire format fails here as it fails the Go, jsbridge and npm tests.
func (s *suite) testCorpusGoldensAccepted(t *testing.T) {
	ch := channelFor(t)
	tab := s.open(t, "")
	tab.setup(t, ch, `throttleMs: 0`, "{}")
	files, err := wirecorpus.Load(tab.id)
	require.NoError(t, err)
	n := 0
	for _, f := range files {
		if f.Receiver != (wirecorpus.Receiver{}) {
			continue
		}
		for _, c := range f.Cases {
			if !c.Accepted() {
				continue
			}
			n++
			var r struct {
				Before stats `json:"before"`
				After  stats `json:"after"`
				Errors int   `json:"errors"`
			}
			text, err := json.Marshal(string(c.Message))
			require.NoError(t, err)
			tab.Eval(t, fmt.Sprintf(`(async () => {
				const before = sync.getStats(), errors = calls.errors.length;
				post(%q, JSON.parse(%s));
				for (const t0 = Date.now(); sync.getStats().received === before.received && Date.now() - t0 < 5000; ) {
					await new Promise((r) => setTimeout(r, 5));
				}
				return {before, after: sync.getStats(), errors: calls.errors.length - errors};
			})()`, ch, text), &r)
			assert.Equal(t, r.Before.Received+1, r.After.Received, "%s %s: received", f.Name, c.Name)
			assert.Equal(t, r.Before.Dropped, r.After.Dropped, "%s %s: not dropped", f.Name, c.Name)
			assert.Zero(t, r.Errors, "%s %s: nothing reported", f.Name, c.Name)
		}
	}
	require.NotZero(t, n, "the corpus has goldens for a default receiver")
}

// Keys that could reach a prototype are dropped at the top level and never
// merged at depth, whatever the strategy, and a forged value holding them
// is applied (or merged) without touching any prototype.
func (s *suite) testForbiddenKeysUnderEveryStrategy(t *testing.T) {
	victim, peer := s.open(t, ""), s.open(t, "")
	for _, strategy := range []string{"last-write-wins", "first-write-wins", "merge", "custom"} {
		t.Run(strategy, func(t *testing.T) {
			ch := channelFor(t)
			config := fmt.Sprintf(`throttleMs: 0, conflictStrategy: %q, customResolver: (local, remote) => ({...local, ...remote})`, strategy)
			victim.setup(t, ch, config, "{}")
			peer.setup(t, ch, config, "{}")
			victim.set(t, `{x: {mine: 1}}`)
			peer.waitFor(t, `store.getState().x?.mine === 1`)

			r := victim.attack(t, ch, peer.id, `[
				M("STATE_UPDATE", {state: J('{"__proto__": {"polluted": true}}'), meta: J('{"__proto__": "' + V(1e6) + '"}')}),
				M("STATE_UPDATE", {state: {constructor: {prototype: {polluted: true}}}, meta: {constructor: V(1e6)}}),
				M("STATE_UPDATE", {state: {prototype: {polluted: true}}, meta: {prototype: V(1e6)}})]`,
				map[string]int{"invalid": 3})
			assert.Equal(t, map[string]int{"invalid": 3}, delta(r.Before, r.After, nil))
			assert.Equal(t, r.StateBefore, r.StateAfter)
			assert.True(t, r.Clean)

			// A write of x concurrent with the victim's (its base is
			// empty) and earlier, so that merge and custom combine it
			// here, whose value holds the keys at every depth: each
			// strategy keeps, takes or combines it, and nothing reaches
			// a prototype.
			evil := `J('{"evil": 1, "__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}, "nested": {"__proto__": {"polluted": true}, "prototype": {"polluted": true}}}')`
			r = victim.attack(t, ch, peer.id, `[M("STATE_UPDATE", {state: {x: `+evil+`}, meta: {x: V(-1e6)}})]`, map[string]int{})
			assert.True(t, r.Clean)
			peer.set(t, `{after: 1}`)
			victim.waitFor(t, `store.getState().after === 1`)
			if strategy != "last-write-wins" {
				victim.waitFor(t, `store.getState().x.evil === 1`)
			}
			var x struct {
				Clean bool           `json:"clean"`
				Keys  []string       `json:"keys"`
				X     map[string]any `json:"x"`
			}
			victim.Eval(t, `(() => { const x = store.getState().x; return {
				clean: clean() && Object.getPrototypeOf(x) === Object.prototype && x.polluted === undefined &&
					(x.nested === undefined || (Object.getPrototypeOf(x.nested) === Object.prototype && x.nested.polluted === undefined)),
				keys: Object.keys(x).sort(), x} })()`, &x)
			assert.True(t, x.Clean, "x: %v", x.X)
			t.Logf("%s: x has keys %v", strategy, x.Keys)
			if strategy == "merge" {
				for _, k := range x.Keys {
					assert.NotContains(t, []string{"__proto__", "constructor", "prototype"}, k, "merge copies no forbidden key")
				}
				assert.Equal(t, []string{"evil", "mine", "nested"}, x.Keys)
			}
			for _, e := range victim.calls(t).Errors {
				assert.Equal(t, "protocol", e.Phase, "error: %s", e.Message)
			}
			peer.set(t, `{after: 2}`)
			victim.waitFor(t, `store.getState().after === 2`)
		})
	}
}

// A replayed message of a real tab is a duplicate; one posted again under
// a fresh number, or arriving after a newer one, is stale. Neither changes
// anything.
func (s *suite) testReplayedAndOutOfOrder(t *testing.T) {
	ch := channelFor(t)
	victim, peer := s.open(t, ""), s.open(t, "")
	victim.setup(t, ch, `throttleMs: 0`, "{}")
	victim.Eval(t, fmt.Sprintf(`watch(%q)`, ch), nil)
	peer.setup(t, ch, `throttleMs: 0`, "{}")
	peer.set(t, `{n: 1}`)
	peer.set(t, `{n: 2}`)
	victim.waitFor(t, `store.getState().n === 2 && wire.filter((m) => m.type === "STATE_UPDATE").length === 2`)

	const updates = `wire.filter((m) => m.type === "STATE_UPDATE")`
	r := victim.attack(t, ch, peer.id, `[...`+updates+`, `+updates+`[0]]`, map[string]int{"duplicate": 3})
	assert.Equal(t, map[string]int{"duplicate": 3}, delta(r.Before, r.After, map[string]int{"duplicate": 3}), "replays")
	r = victim.attack(t, ch, peer.id, `[{...`+updates+`[0], seq: `+updates+`[1].seq + 1000}]`, map[string]int{"stale": 1})
	assert.Equal(t, map[string]int{"stale": 1}, delta(r.Before, r.After, map[string]int{"stale": 1}), "an older write under a fresh number")
	assert.Equal(t, `{"n":2}`, r.StateAfter)
	assert.True(t, r.Clean)

	peer.set(t, `{n: 3}`)
	victim.waitFor(t, `store.getState().n === 3`)
}

// One forged message under a live tab's id with the highest sequence number
// there is does not make the other tabs drop that tab's later messages.
func (s *suite) testForgedSeqDoesNotSilenceATab(t *testing.T) {
	ch := channelFor(t)
	victim, peer := s.open(t, ""), s.open(t, "")
	victim.setup(t, ch, `throttleMs: 0`, "{}")
	peer.setup(t, ch, `throttleMs: 0`, "{}")
	peer.set(t, `{n: 1}`)
	victim.waitFor(t, `store.getState().n === 1`)

	victim.attack(t, ch, peer.id, `[M("TAB_PING", {started: 1}, {tabId: PEER, seq: 2 ** 53 - 1}),
		M("STATE_UPDATE", {state: {}, meta: {}}, {tabId: PEER, seq: 2 ** 53 - 2})]`, map[string]int{})
	peer.set(t, `{n: 2}`)
	victim.waitFor(t, `store.getState().n === 2`)
	peer.set(t, `{n: 3}`)
	victim.waitFor(t, `store.getState().n === 3`)
}

// Tabs of two app versions open together (an old tab left open after a
// deploy) never apply each other's state, and each tab reports the other
// version once, however long they stay open together.
func (s *suite) testMixedVersionsReportedOnce(t *testing.T) {
	ch := channelFor(t)
	tabs := make([]*testPage, 4)
	versions := []string{"1.0.0", "2.0.0", "1.0.0", "2.0.0"}
	for i := range tabs {
		tabs[i] = s.open(t, "")
		tabs[i].setup(t, ch, fmt.Sprintf(`throttleMs: 0, appVersion: %q`, versions[i]), "{}")
	}
	// Several rounds of writes from both versions.
	for round := 1; round <= 3; round++ {
		for i, p := range tabs {
			p.set(t, fmt.Sprintf(`{v%d: %d}`, i%2, round))
		}
		for i, p := range tabs {
			p.waitFor(t, fmt.Sprintf(`store.getState().v%d === %d`, i%2, round))
		}
		// Each tab hears pings and updates of the other version.
		for _, p := range tabs {
			p.waitFor(t, fmt.Sprintf(`stats().droppedByReason.foreignVersion >= %d`, 2*round))
		}
	}
	for i, p := range tabs {
		other := versions[(i+1)%2]
		assert.NotContains(t, p.state(t), fmt.Sprintf("v%d", (i+1)%2), "tab %d (%s) took nothing from %s", i, versions[i], other)
		c := p.calls(t)
		assert.Equal(t, 1, strings.Count(c.errorText(), `"`+other+`"`), "tab %d reports %s once:\n%s", i, other, c.errorText())
		for _, e := range c.Errors {
			assert.Equal(t, "protocol", e.Phase)
		}
		t.Logf("tab %d (%s): %d messages of %s dropped, %d report(s)", i, versions[i], p.stats(t).DroppedByReason["foreignVersion"], other, len(c.Errors))
	}
}

// With leader election on, a script announces a leader that does not
// exist, with a higher term and with the highest term a message can carry,
// and asks for an election as the oldest tab there is. The tabs end with one real leader among them, and a
// new tab still gets the state.
func (s *suite) testForgedLeader(t *testing.T) {
	ch := channelFor(t)
	const config = `throttleMs: 0, enableLeaderElection: true, leaderHeartbeatMs: 300`
	tabs := s.openSynced(t, 3, ch, config)
	countLeaders := func() int {
		n := 0
		for _, p := range tabs {
			var l bool
			p.Eval(t, `sync.isLeader()`, &l)
			if l {
				n++
			}
		}
		return n
	}
	require.Eventually(t, func() bool { return countLeaders() == 1 }, wait, 50*time.Millisecond, "one leader before")
	tabs[0].set(t, `{n: 1}`)

	tabs[0].attack(t, ch, tabs[1].id, `[
		M("TAB_PING", {started: 1}),
		M("LEADER_ANNOUNCE", {term: 1e6, leader: "evil"}), M("HEARTBEAT", {term: 1e6, leader: "evil"}),
		M("LEADER_ELECTION", {term: 1e6, priority: 1}),
		M("LEADER_ANNOUNCE", {term: 1e6 + 1, leader: PEER}), M("HEARTBEAT", {term: 1e6 + 2, leader: SELF}),
		M("LEADER_ANNOUNCE", {term: 2 ** 53 - 1, leader: "evil"}), M("HEARTBEAT", {term: 2 ** 53 - 1, leader: "evil"})]`, map[string]int{})
	// 5 heartbeats bound the replacement of a silent leader; allow many.
	require.Eventually(t, func() bool { return countLeaders() == 1 }, wait, 50*time.Millisecond, "one real leader after the forgery")
	// And it stays so: no tab changes role for ten heartbeats (a leader
	// whose terms the others could not read would be robbed of its lock
	// again and again).
	roles := func() (n int) {
		for _, p := range tabs {
			var c int
			p.Eval(t, `calls.states.filter((s) => s === "leader" || s === "follower").length`, &c)
			n += c
		}
		return n
	}
	time.Sleep(5 * 300 * time.Millisecond)
	changes := roles()
	time.Sleep(10 * 300 * time.Millisecond)
	assert.Equal(t, changes, roles(), "no role changed, ten heartbeats on")
	assert.Equal(t, 1, countLeaders(), "still one leader")

	late := s.open(t, "")
	late.setup(t, ch, config, "{}")
	late.waitFor(t, `store.getState().n === 1`)
	tabs[1].set(t, `{n: 2}`)
	for _, p := range append(tabs, late) {
		p.waitFor(t, `store.getState().n === 2`)
	}

	// The leader goes; the others elect a new one, terms and all.
	for i, p := range tabs {
		var l bool
		p.Eval(t, `sync.isLeader()`, &l)
		if l {
			p.Eval(t, `sync.destroy(), true`, nil)
			tabs = append(append(tabs[:i:i], tabs[i+1:]...), late)
			break
		}
	}
	require.Len(t, tabs, 3)
	require.Eventually(t, func() bool { return countLeaders() == 1 }, wait, 50*time.Millisecond, "one leader after the leader left")
	tabs[2].set(t, `{n: 3}`)
	for _, p := range tabs {
		p.waitFor(t, `store.getState().n === 3`)
	}
}
