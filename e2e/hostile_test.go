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

var hostileCases = []hostileCase{
	{"non-objects", `[null, undefined, 42, NaN, "STATE_UPDATE", true, 10n, [U({n: 666})],
		new Date(), new Map([["type", "STATE_UPDATE"]]), new Set([1]), new Uint8Array(8), new ArrayBuffer(8),
		/STATE_UPDATE/, new Error("STATE_UPDATE"), new Blob(["x"])]`,
		map[string]int{"invalid": 16}, 0},
	{"envelope fields of the wrong type", `[
		U({n: 666}, {type: 7}), U({n: 666}, {type: null}), U({n: 666}, {type: ["STATE_UPDATE"]}),
		U({n: 666}, {tabId: 7}), U({n: 666}, {tabId: ""}), U({n: 666}, {tabId: "a b"}), U({n: 666}, {tabId: "x".repeat(65)}),
		U({n: 666}, {tabId: undefined}),
		U({n: 666}, {v: "1"}), U({n: 666}, {v: 1n}), U({n: 666}, {v: null}),
		U({n: 666}, {seq: "1"}), U({n: 666}, {seq: 0}), U({n: 666}, {seq: -1}), U({n: 666}, {seq: 1.5}),
		U({n: 666}, {seq: NaN}), U({n: 666}, {seq: Infinity}), U({n: 666}, {seq: 2 ** 60}), U({n: 666}, {seq: 5n}),
		U({n: 666}, {appVersion: 7}), U({n: 666}, {appVersion: ["x"]}),
		M("STATE_UPDATE", 7), M("STATE_UPDATE", "x"), M("STATE_UPDATE", [{n: 666}]), M("TAB_PING", true)]`,
		map[string]int{"invalid": 25}, 0},
	{"payload fields of the wrong type", `[
		M("STATE_UPDATE", {}), M("STATE_UPDATE", {state: {n: 666}}), M("STATE_UPDATE", {meta: {n: V(1e6)}}),
		M("STATE_UPDATE", {state: 7, meta: {}}), M("STATE_UPDATE", {state: {n: 666}, meta: []}),
		M("STATE_UPDATE", {state: {n: 666}, meta: {n: 7}}), M("STATE_UPDATE", {state: {n: 666}, meta: {n: "garbage"}}),
		M("STATE_UPDATE", {state: {n: 666}, meta: {n: Date.now() + ".0.evil||0"}}),
		M("STATE_UPDATE", {state: {n: 666}, meta: {n: Date.now() + ".0.ev il||1"}}),
		M("STATE_UPDATE", {state: {n: 666}, meta: {n: "-5.0.evil||1"}}),
		M("STATE_UPDATE", {state: {n: 666}, meta: {n: Date.now() + ".99999999999.evil||1"}}),
		M("STATE_UPDATE", {state: {n: 666}, meta: {ok: V(1e6), n: 7}}),
		M("STATE_REQUEST", {}), M("STATE_REQUEST", {req: 7}), M("STATE_REQUEST", {req: "r", to: ""}),
		M("STATE_RESPONSE", {req: "r", state: {n: 666}, meta: {n: V(1e6)}}),
		M("STATE_RESPONSE", {to: SELF, state: {n: 666}, meta: {n: V(1e6)}}),
		M("TAB_PING", {}), M("TAB_PING", {started: "yesterday"}), M("TAB_PING", {started: 1, digest: "d".repeat(257)}),
		M("TAB_PING", {started: 1, filter: 7}), M("TAB_PONG", {started: 1}), M("TAB_PONG", {to: SELF}),
		M("LEADER_ELECTION", {term: -1, priority: 1}), M("LEADER_ELECTION", {term: 1, priority: "high"}),
		M("LEADER_ANNOUNCE", {term: 1}), M("LEADER_ANNOUNCE", {term: 1, leader: 7}),
		M("HEARTBEAT", {term: 1.5, leader: "evil"}), M("HEARTBEAT", {term: 1, leader: "!"})]`,
		map[string]int{"invalid": 29}, 0},
	{"unknown message types", `[M("EVIL", {}), M("state_update", {}), M("", {}), M("__proto__", {}),
		M("constructor", {}), M("toString", {}), M("STATE_UPDATE ", {}), M("STATE_DELETE", {state: {n: 666}, meta: {n: V(1e6)}})]`,
		map[string]int{"unknownType": 8}, 0},
	{"unknown protocol versions", `[U({n: 666}, {v: 2}), U({n: 666}, {v: 0}), U({n: 666}, {v: 99}), U({n: 666}, {v: -1}),
		U({n: 666}, {v: 1.5}), U({n: 666}, {v: NaN}), U({n: 666}, {v: Infinity})]`,
		map[string]int{"protocolVersion": 7}, 0},
	{"a foreign appVersion", `[U({n: 666}, {appVersion: "9.9.9"}), U({n: 666}, {appVersion: "9.9.9"}),
		M("TAB_PING", {started: 1}, {appVersion: "9.9.9"}), M("STATE_REQUEST", {req: "r"}, {appVersion: "9.9.9"})]`,
		map[string]int{"foreignVersion": 4}, 0},
	{"this tab's own id", `[U({n: 666}, {tabId: SELF}), M("TAB_PING", {started: 1, leaving: true}, {tabId: SELF}),
		M("STATE_RESPONSE", {req: "r", to: SELF, state: {n: 666}, meta: {n: V(1e6, SELF)}}, {tabId: SELF})]`,
		map[string]int{"ownId": 3}, 0},
	{"another tab's id with a number it already sent", `[U({n: 666}, {tabId: PEER, seq: 1}), U({n: 666}, {tabId: PEER, seq: 2}),
		M("TAB_PING", {started: 1, leaving: true}, {tabId: PEER, seq: 1})]`,
		map[string]int{"duplicate": 3}, 0},
	{"messages of several megabytes", `[U({n: "x".repeat(3 << 20)}), U({n: new Uint8Array(5 << 20)}),
		U({n: Array.from({length: 600000}, (_, i) => i)}),
		U({n: Object.fromEntries(Array.from({length: 200000}, (_, i) => ["key" + i, i]))}),
		M("TAB_PING", {started: 1, junk: "y".repeat(3 << 20)})]`,
		map[string]int{"oversized": 5}, 0},
	{"deeply nested payloads", `[U({n: deep(65, 1, (v) => ({v}))}), U({n: deep(200, 1, (v) => [v])}),
		U({n: deep(2000, "leaf", (v) => ({a: v}))}), M("TAB_PING", {started: 1, x: deep(100, 0, (v) => [v])}),
		U({n: deep(70, 1, (v) => new Map([["k", v]]))})]`,
		map[string]int{"oversized": 5}, 0},
	{"__proto__, constructor and prototype keys", `[
		M("STATE_UPDATE", {state: J('{"__proto__": {"polluted": true}}'), meta: J('{"__proto__": "' + V(1e6) + '"}')}),
		M("STATE_UPDATE", {state: {constructor: {prototype: {polluted: true}}}, meta: {constructor: V(1e6)}}),
		M("STATE_UPDATE", {state: {prototype: {polluted: true}, n: 666}, meta: {prototype: V(1e6), n: V(1e6)}}),
		M("STATE_RESPONSE", {req: "r", to: SELF, state: J('{"__proto__": {"polluted": true}}'), meta: J('{"__proto__": "' + V(1e6) + '"}')}),
		J('{"__proto__": {"polluted": true}, "type": "STATE_UPDATE"}'),
		{...M("TAB_PING", {started: 1}), ...J('{"__proto__": {"polluted": true}}'), v: "1"}]`,
		map[string]int{"invalid": 6}, 0},
	{"values that cannot be cloned", `[U({n: () => 666}), U({n: Symbol("s")}), U({n: document.body}),
		{type: "STATE_UPDATE", get tabId() { throw new Error("getter") }}, U({n: new WeakMap()}), U({n: new Proxy({}, {})}),
		U({n: 666}, {tabId: {toString: () => "evil"}})]`,
		map[string]int{}, 7},
}

// TestHostile posts hostile and broken messages on the channel of a synced
// tab from a plain script, as any script of the origin can. For each row
// of the table: nothing is thrown into the page, the state does not change,
// each message is counted under its reason, the prototypes stay clean, and
// a write of the other tab still arrives right after.
func TestHostile(t *testing.T) {
	s := newSuite(t)
	t.Run("Messages", s.testHostileMessages)
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
	for i, tc := range hostileCases {
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
		total, len(hostileCases), took.Round(time.Millisecond), reports)
	// Six reasons, each reported at most once per 10 s cooldown (the
	// foreign version once).
	assert.LessOrEqual(t, reports, 6*(1+int(took/(10*time.Second))), "reports are rate-limited")
	assert.Equal(t, 1, strings.Count(c.errorText(), "9.9.9"), "the foreign version is reported once:\n%s", c.errorText())
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
