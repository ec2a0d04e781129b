//go:build js && wasm

package jsbridge

import (
	"strconv"
	"strings"
	"syscall/js"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/internal/inbox"
	"github.com/tabsync/tabsync/protocol"
)

// decodeCases are messages, as JavaScript expressions over M, U, V, J and
// deep (as e2e/hostile_test.go's prelude defines them), for which the
// decoder of helpers.js and Go's protocol.Decode must agree: the ones e2e
// posts on a real channel, and well-formed ones of every type.
var decodeCases = []string{
	// well-formed
	`U({n: 1})`, `U({n: {a: [1, 2]}, s: "x", z: null, u: undefined})`,
	`M("STATE_UPDATE", {state: {n: 1}, meta: {n: V(0)}, seen: {n: ",1.0.evil,2.0.other"}})`,
	`M("STATE_UPDATE", {state: {n: 1}, meta: {n: V(0)}, seen: {}})`,
	`M("STATE_UPDATE", {state: {}, meta: {"a\nb": V(0), "c\\d": V(0)}})`,
	`M("STATE_RESPONSE", {req: "r1", to: "other", state: {n: 1}, meta: {n: V(0)}, more: true})`,
	`M("STATE_REQUEST", {req: "r1"})`, `M("STATE_REQUEST", {req: "r1", to: "other"})`,
	`M("TAB_PING", {started: 1700000000000, digest: "d\nx", filter: "f\\y", leaving: true})`,
	`M("TAB_PING", {started: 1, digest: "é".repeat(128)})`, `M("TAB_PING", {started: 1, digest: "é".repeat(129)})`,
	`M("TAB_PING", {started: 1, digest: "😀".repeat(64)})`, `M("TAB_PING", {started: 1, digest: "😀".repeat(65)})`,
	`M("TAB_PONG", {to: "other", started: -5})`,
	`M("LEADER_ELECTION", {term: 3, priority: -1700000000000})`, `M("LEADER_ANNOUNCE", {term: 0, leader: "evil"})`,
	`M("HEARTBEAT", {term: 9007199254740991, leader: "x"})`, `M("TAB_PING", {started: 1}, {appVersion: null})`,
	// e2e/hostile_test.go's rows
	`null`, `undefined`, `42`, `NaN`, `"STATE_UPDATE"`, `true`, `10n`, `[U({n: 666})]`, `new Date()`,
	`new Map([["type", "STATE_UPDATE"]])`, `new Set([1])`, `new Uint8Array(8)`, `/STATE_UPDATE/`, `new Error("x")`,
	`U({n: 666}, {type: 7})`, `U({n: 666}, {type: null})`, `U({n: 666}, {type: ["STATE_UPDATE"]})`,
	`U({n: 666}, {tabId: 7})`, `U({n: 666}, {tabId: ""})`, `U({n: 666}, {tabId: "a b"})`, `U({n: 666}, {tabId: "x".repeat(65)})`,
	`U({n: 666}, {tabId: undefined})`, `U({n: 666}, {tabId: "self"})`,
	`U({n: 666}, {v: "1"}), U({n: 666}, {v: 1n})`, `U({n: 666}, {v: null})`,
	`U({n: 666}, {seq: "1"})`, `U({n: 666}, {seq: 0})`, `U({n: 666}, {seq: -1})`, `U({n: 666}, {seq: 1.5})`,
	`U({n: 666}, {seq: NaN})`, `U({n: 666}, {seq: Infinity})`, `U({n: 666}, {seq: 2 ** 60})`, `U({n: 666}, {seq: 5n})`,
	`U({n: 666}, {appVersion: 7})`, `U({n: 666}, {appVersion: ["x"]})`,
	`M("STATE_UPDATE", 7)`, `M("STATE_UPDATE", "x")`, `M("STATE_UPDATE", [{n: 666}])`, `M("TAB_PING", true)`,
	`M("STATE_UPDATE", {})`, `M("STATE_UPDATE", {state: {n: 666}})`, `M("STATE_UPDATE", {meta: {n: V(1e6)}})`,
	`M("STATE_UPDATE", {state: 7, meta: {}})`, `M("STATE_UPDATE", {state: {n: 666}, meta: []})`,
	`M("STATE_UPDATE", {state: {n: 666}, meta: {n: 7}})`, `M("STATE_UPDATE", {state: {n: 666}, meta: {n: "garbage"}})`,
	`M("STATE_UPDATE", {state: {n: 666}, meta: {n: Date.now() + ".0.evil||0"}})`,
	`M("STATE_UPDATE", {state: {n: 666}, meta: {n: Date.now() + ".0.ev il||1"}})`,
	`M("STATE_UPDATE", {state: {n: 666}, meta: {n: "-5.0.evil||1"}})`,
	`M("STATE_UPDATE", {state: {n: 666}, meta: {n: Date.now() + ".99999999999.evil||1"}})`,
	`M("STATE_UPDATE", {state: {n: 666}, meta: {ok: V(1e6), n: 7}})`,
	`M("STATE_UPDATE", {state: {n: 1}, meta: {n: "garbage", m: V(0)}, seen: {m: 7}})`,
	`M("STATE_UPDATE", {state: {n: 1}, meta: {m: V(0), n: "garbage"}, seen: {m: 7}})`,
	`M("STATE_UPDATE", {state: {n: 1}, meta: {n: V(0)}, seen: {n: 7}})`,
	`M("STATE_UPDATE", {state: {n: 1}, meta: {n: V(0)}, seen: {n: "zzz"}})`,
	`M("STATE_UPDATE", {state: {n: 1}, meta: {n: V(0)}, seen: null})`,
	`M("STATE_UPDATE", {state: {n: 1}, meta: {n: V(0)}, seen: {toString: 7}})`,
	`M("STATE_UPDATE", {state: {n: 1}, meta: {n: V(0), toString: V(0)}})`,
	// removed fields (merge): well-formed, keys with bars, newlines and
	// backslashes, then hostile
	`M("STATE_UPDATE", {state: {n: {}}, meta: {n: V(0)}, gone: {n: "1:1" + "17:1700000000000.0.evil" + "2:77" + "1:a"}})`,
	`M("STATE_UPDATE", {state: {n: {}}, meta: {n: V(0)}, seen: {n: ",1.0.other"}, gone: {n: "1:2" + "17:1700000000000.0.evil" + "1:5" + "3:a|b" + "4:c\n\\d"}})`,
	`M("STATE_UPDATE", {state: {n: 1}, meta: {n: V(0)}, gone: 7})`,
	`M("STATE_UPDATE", {state: {n: 1}, meta: {n: V(0)}, gone: {n: 7}})`,
	`M("STATE_UPDATE", {state: {n: 1}, meta: {n: V(0)}, gone: {n: "garbage"}})`,
	`M("STATE_UPDATE", {state: {n: 1}, meta: {n: "garbage"}, gone: {n: 7}})`,
	`M("STATE_UPDATE", {state: {n: 1}, meta: {n: V(0)}, seen: {n: "zzz"}, gone: {n: 7}})`,
	`M("STATE_UPDATE", {state: {n: 1}, meta: {n: V(0)}, seen: {n: ",1.0.a|1:1"}})`,
	`M("STATE_UPDATE", {state: {n: 1}, meta: {n: V(0)}, gone: {n: "1".repeat(70000)}})`,
	`M("STATE_REQUEST", {})`, `M("STATE_REQUEST", {req: 7})`, `M("STATE_REQUEST", {req: "r", to: ""})`, `M("STATE_REQUEST")`,
	`M("STATE_RESPONSE", {req: "r", state: {n: 666}, meta: {n: V(1e6)}})`,
	`M("STATE_RESPONSE", {to: "self", state: {n: 666}, meta: {n: V(1e6)}})`,
	`M("TAB_PING", {})`, `M("TAB_PING", {started: "yesterday"})`, `M("TAB_PING", {started: 1, digest: "d".repeat(257)})`,
	`M("TAB_PING", {started: 1, filter: 7})`, `M("TAB_PONG", {started: 1})`, `M("TAB_PONG", {to: "self"})`,
	`M("LEADER_ELECTION", {term: -1, priority: 1})`, `M("LEADER_ELECTION", {term: 1, priority: "high"})`,
	`M("LEADER_ANNOUNCE", {term: 1})`, `M("LEADER_ANNOUNCE", {term: 1, leader: 7})`,
	`M("HEARTBEAT", {term: 1.5, leader: "evil"})`, `M("HEARTBEAT", {term: 1, leader: "!"})`,
	`M("EVIL", {})`, `M("state_update", {})`, `M("", {})`, `M("__proto__", {})`, `M("constructor", {})`,
	`M("toString", {})`, `M("STATE_UPDATE ", {})`, `M("x".repeat(100) + "é".repeat(30), {})`,
	`U({n: 666}, {v: 2})`, `U({n: 666}, {v: 0})`, `U({n: 666}, {v: -1})`, `U({n: 666}, {v: 1.5})`,
	`U({n: 666}, {v: NaN})`, `U({n: 666}, {v: Infinity})`, `U({n: 666}, {v: -0})`, `U({n: 666}, {v: 2e-7})`, `U({n: 666}, {v: 1e21})`,
	`U({n: 666}, {appVersion: "9.9.9"})`, `U({n: 666}, {appVersion: "é\n".repeat(40)})`,
	`U({n: "x".repeat(3 << 20)})`, `U({n: new Uint8Array(5 << 20)})`, `M("TAB_PING", {started: 1, junk: "y".repeat(3 << 20)})`,
	`U({n: deep(65, 1, (v) => ({v}))})`, `U({n: deep(200, 1, (v) => [v])})`, `M("TAB_PING", {started: 1, x: deep(100, 0, (v) => [v])})`,
	`M("STATE_UPDATE", {state: J('{"__proto__": {"polluted": true}}'), meta: J('{"__proto__": "' + V(1e6) + '"}')})`,
	`M("STATE_UPDATE", {state: {constructor: {prototype: {polluted: true}}}, meta: {constructor: V(1e6)}})`,
	`M("STATE_UPDATE", {state: {prototype: {polluted: true}, n: 666}, meta: {n: V(1e6), prototype: V(1e6)}})`,
	`J('{"__proto__": {"polluted": true}, "type": "STATE_UPDATE"}')`,
	`({...M("TAB_PING", {started: 1}), ...J('{"__proto__": {"polluted": true}}'), v: "1"})`,
	`Object.create(null)`, `Object.assign(Object.create(null), M("TAB_PING", {started: 1}))`,
}

// TestDecodeAgreesWithProtocolDecode reads each of decodeCases with
// helpers.js decode and unpack, as an instance does, and with
// protocol.Decode over the model: the same message, or the same drop with
// the same words.
func TestDecodeAgreesWithProtocolDecode(t *testing.T) {
	m, err := loadHelpers()
	require.NoError(t, err)
	h := js.Global().Get("__tabsyncHelpers")
	require.Equal(t, protocol.Checks(), jsStrings(h.Get("checks"))[:len(protocol.Checks())], "helpers.js numbers the checks as protocol does")
	build := jsFunc("src", `
		let evilSeq = 0;
		const M = (type, payload, fields = {}) => ({type, tabId: "evil", v: 1, seq: ++evilSeq, payload, ...fields});
		const V = (ms = 0, tab = "evil") => (1700000000000 + ms) + ".0." + tab + "||1";
		const J = (s) => JSON.parse(s);
		const U = (state, fields) => M("STATE_UPDATE", {state, meta: Object.fromEntries(Object.keys(state).map((k) => [k, V(1e6)]))}, fields);
		const deep = (n, leaf, wrap) => { let v = leaf; for (let i = 0; i < n; i++) v = wrap(v); return v; };
		return eval(src);`)
	for _, app := range []string{"", "9.9.9"} {
		rc := protocol.Receiver{Tab: "self", AppVersion: app}
		lim := rc.Limits.WithDefaults()
		jrc := jsEval("{}")
		jrc.Set("self", rc.Tab)
		jrc.Set("app", app)
		jrc.Set("maxBytes", lim.MaxBytes)
		jrc.Set("maxDepth", lim.MaxDepth)
		for _, src := range decodeCases {
			raw := build.Invoke(src)
			want, wantErr := protocol.Decode(m, raw, rc)
			o, cur := jsEval("{}"), jsEval("{keys: [], slots: []}")
			h.Call("decode", raw, jrc, o, cur)
			got, gotErr := unpack(inboxOf(t, h, o), rc)
			if wantErr != nil {
				if assert.NotNil(t, gotErr, "%s (app %q): Decode dropped it: %v", src, app, wantErr) {
					assert.Equal(t, *wantErr, *gotErr, "%s (app %q)", src, app)
				}
				continue
			}
			if !assert.Nil(t, gotErr, "%s (app %q)", src, app) {
				continue
			}
			gotEntries, wantEntries := got.Entries, want.Entries
			got.Entries, want.Entries = nil, nil
			assert.Equal(t, want, got, "%s (app %q)", src, app)
			if assert.Len(t, gotEntries, len(wantEntries), src) {
				for i, w := range wantEntries {
					g := gotEntries[i]
					assert.Equal(t, w.Key, g.Key, src)
					assert.Equal(t, w.Version, g.Version, src)
					assert.Equal(t, m.Kind(w.Value), m.Kind(g.Value), "%s: kind of %s", src, w.Key)
					assert.True(t, jv(w.Value).Equal(jv(g.Value)), "%s: value of %s", src, w.Key)
				}
			}
		}
	}
}

// TestSlotsAreSweptAndLiveValuesKept runs two tabs through many writes
// with sweeps every few slots: the slots the engines no longer hold are
// freed, and the values they do hold, read again for a tab that joins
// later (a state response built from the slots), are the right ones.
func TestSlotsAreSweptAndLiveValuesKept(t *testing.T) {
	defer func(n int) { minSweepAt = n }(minSweepAt)
	minSweepAt = 8
	a, b := pair(t, "{}", "{throttleMs: 0}")
	for i := range 200 {
		a.set(`{k` + strconv.Itoa(i%10) + `: {v: ` + strconv.Itoa(i) + `}}`)
		if i%7 == 0 {
			b.set(`{b` + strconv.Itoa(i%3) + `: ` + strconv.Itoa(i) + `}`)
		}
		pause(time.Millisecond)
	}
	eventually(t, "b to get the last writes", func() bool { return b.get("k9") == `{"v":199}` })
	h := js.Global().Get("__tabsyncHelpers")
	live := h.Get("values").Length() - h.Get("free").Length()
	assert.Less(t, live, 120, "slots in use after 230 writes (the engines hold 13 keys each)")

	c := newInstance(t, jsTest.Call("createStore", jsEval("{}")), jsEval("{throttleMs: 0, channelName: '"+a.s.opt.channelName+"'}"))
	c.start()
	eventually(t, "c to get the state", func() bool { return c.get("k9") == `{"v":199}` && c.get("b2") != "undefined" })
	for i := range 10 {
		assert.Equal(t, `{"v":`+strconv.Itoa(190+i)+`}`, c.get("k"+strconv.Itoa(i)))
		assert.Equal(t, a.get("k"+strconv.Itoa(i)), b.get("k"+strconv.Itoa(i)))
	}
	for i := range 3 {
		assert.Equal(t, a.get("b"+strconv.Itoa(i)), c.get("b"+strconv.Itoa(i)))
		assert.Equal(t, b.get("b"+strconv.Itoa(i)), c.get("b"+strconv.Itoa(i)))
	}
}

// inboxOf carries o, what helpers.js decode wrote, into Go as an
// instance's listener does: helpers.js putGo writes it into the module's
// inbox (through the export), which parseInbox reads.
func inboxOf(t *testing.T, h, o js.Value) inbound {
	t.Helper()
	n := h.Call("putGo", 0, o).Int()
	in, ok := parseInbox(inbox.Bytes(int32(n)))
	require.True(t, ok, "parseInbox of %d bytes", n)
	return in
}

// TestTheInboxCarriesEveryFieldOfAMessage: the numbers (a seq up to 2^53,
// a negative priority, a time), and records of any text, in the inbox and
// past it (a record larger than the inbox goes in a buffer of its own).
func TestTheInboxCarriesEveryFieldOfAMessage(t *testing.T) {
	_, err := loadHelpers()
	require.NoError(t, err)
	h := js.Global().Get("__tabsyncHelpers")
	for _, rec := range []string{"", "tab\n\nto\n\\n\nkey ключ 😀 \u00e9", string(make([]byte, 9000)), "big 😀 " + strings.Repeat("ключ\n", 5000), "small again"} {
		o := jsEval(`{check: 7, typ: 3, seq: 2 ** 53, a: 1700000000123.5, b: -7, flags: 3}`)
		o.Set("record", rec)
		n := h.Call("putGo", 1700000000999, o).Int()
		large := 56+3*len(utf16.Encode([]rune(rec))) > inbox.Keep
		assert.Equal(t, large, n < 0, "a record of %d bytes in a buffer of its own", len(rec))
		assert.Equal(t, 56+len(rec), max(n, -n))
		in, ok := parseInbox(inbox.Bytes(int32(n)))
		require.True(t, ok)
		assert.Equal(t, inbound{now: 1700000000999, check: 7, typ: 3, seq: 1 << 53, a: 1700000000123.5, b: -7, flags: 3, record: rec}, in)
	}
	// A count that cannot be what putGo wrote reads nothing.
	_, ok := parseInbox(inbox.Bytes(3))
	assert.False(t, ok)
	_, ok = parseInbox(inbox.Bytes(inbox.Keep + 1))
	assert.False(t, ok)
	_, ok = parseInbox(inbox.Bytes(-(inbox.Keep + 1)))
	assert.False(t, ok)
}

// TestTheInboxIsWrittenAfterTheMemoryGrew: growing the module's memory
// detaches the ArrayBuffer of every view helpers.js holds of the inbox; the
// next message is written through new ones.
func TestTheInboxIsWrittenAfterTheMemoryGrew(t *testing.T) {
	_, err := loadHelpers()
	require.NoError(t, err)
	h := js.Global().Get("__tabsyncHelpers")
	put := func(rec string) inbound {
		o := jsEval(`{check: 0, typ: 1, seq: 5, a: 0, b: 0, flags: 0}`)
		o.Set("record", rec)
		in, ok := parseInbox(inbox.Bytes(int32(h.Call("putGo", 1, o).Int())))
		require.True(t, ok)
		return in
	}
	assert.Equal(t, "before", put("before").record)
	before := h.Get("exports").Get("mem").Get("buffer")
	grown := make([]byte, 64<<20)
	require.False(t, before.Equal(h.Get("exports").Get("mem").Get("buffer")), "the memory grew")
	assert.Equal(t, "after", put("after").record)
	grown[len(grown)-1] = 1 // kept until here
}
