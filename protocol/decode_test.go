package protocol

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/conflict"
)

type obj = map[string]any

var gm = conflict.GoModel{}

// msg builds a valid wire message of the given type from tab "peer", with
// the payload fields given; edit() may then change the envelope.
func wire(typ string, payload any, edit ...func(obj)) obj {
	o := obj{"type": typ, "tabId": "peer", "v": 1.0, "seq": 1.0}
	if payload != nil {
		o["payload"] = payload
	}
	for _, e := range edit {
		e(o)
	}
	return o
}

func set(k string, v any) func(obj) { return func(o obj) { o[k] = v } }
func del(k string) func(obj)        { return func(o obj) { delete(o, k) } }

const goodVersion = "1700000000000.0.peer||1"

func update(meta any) obj {
	return wire("STATE_UPDATE", obj{"state": obj{"k": 1.0}, "meta": meta})
}

func TestDecodeRejects(t *testing.T) {
	self := Receiver{Tab: "self", AppVersion: "2.0"}
	tests := []struct {
		name string
		raw  any
		rc   *Receiver
		want Reason
	}{
		{"nil", nil, nil, Invalid},
		{"string", "STATE_UPDATE", nil, Invalid},
		{"array", []any{obj{}}, nil, Invalid},
		{"number", 1.0, nil, Invalid},
		{"type missing", wire("X", obj{}, del("type")), nil, Invalid},
		{"type not a string", wire("X", obj{}, set("type", 1.0)), nil, Invalid},
		{"unknown type", wire("STATE_DELETE", obj{}), nil, UnknownType},
		{"type in lower case", wire("state_update", obj{}), nil, UnknownType},
		{"tabId missing", wire("TAB_PING", obj{"started": 1.0}, del("tabId")), nil, Invalid},
		{"tabId empty", wire("TAB_PING", obj{"started": 1.0}, set("tabId", "")), nil, Invalid},
		{"tabId not a string", wire("TAB_PING", obj{"started": 1.0}, set("tabId", 5.0)), nil, Invalid},
		{"tabId too long", wire("TAB_PING", obj{"started": 1.0}, set("tabId", strings.Repeat("a", 65))), nil, Invalid},
		{"tabId bad chars", wire("TAB_PING", obj{"started": 1.0}, set("tabId", "a b")), nil, Invalid},
		{"tabId with a dot", wire("TAB_PING", obj{"started": 1.0}, set("tabId", "a.b")), nil, Invalid},
		{"tabId with unicode", wire("TAB_PING", obj{"started": 1.0}, set("tabId", "tabé")), nil, Invalid},
		{"own id", wire("TAB_PING", obj{"started": 1.0}, set("tabId", "self")), nil, OwnID},
		{"v missing", wire("TAB_PING", obj{"started": 1.0}, del("v")), nil, Invalid},
		{"v a string", wire("TAB_PING", obj{"started": 1.0}, set("v", "1")), nil, Invalid},
		{"v 2", wire("TAB_PING", obj{"started": 1.0}, set("v", 2.0)), nil, ProtocolVersion},
		{"v 0", wire("TAB_PING", obj{"started": 1.0}, set("v", 0.0)), nil, ProtocolVersion},
		{"seq missing", wire("TAB_PING", obj{"started": 1.0}, del("seq")), nil, Invalid},
		{"seq 0", wire("TAB_PING", obj{"started": 1.0}, set("seq", 0.0)), nil, Invalid},
		{"seq negative", wire("TAB_PING", obj{"started": 1.0}, set("seq", -1.0)), nil, Invalid},
		{"seq fractional", wire("TAB_PING", obj{"started": 1.0}, set("seq", 1.5)), nil, Invalid},
		{"seq over 2^53", wire("TAB_PING", obj{"started": 1.0}, set("seq", 1<<53+2.0)), nil, Invalid},
		{"seq a string", wire("TAB_PING", obj{"started": 1.0}, set("seq", "1")), nil, Invalid},
		{"appVersion not a string", wire("TAB_PING", obj{"started": 1.0}, set("appVersion", 2.0)), &self, Invalid},
		{"appVersion foreign", wire("TAB_PING", obj{"started": 1.0}, set("appVersion", "1.0")), &self, ForeignVersion},
		{"appVersion missing, receiver has one", wire("TAB_PING", obj{"started": 1.0}), &self, ForeignVersion},
		{"appVersion null, receiver has one", wire("TAB_PING", obj{"started": 1.0}, set("appVersion", nil)), &self, ForeignVersion},
		{"appVersion set, receiver has none", wire("TAB_PING", obj{"started": 1.0}, set("appVersion", "2.0")), nil, ForeignVersion},
		{"payload a string", wire("TAB_PING", "x"), nil, Invalid},
		{"payload an array", wire("TAB_PING", []any{}), nil, Invalid},
		{"payload oversized", wire("STATE_UPDATE", obj{"state": obj{"k": strings.Repeat("x", 2000)}, "meta": obj{"k": goodVersion}}), &Receiver{Tab: "self", Limits: Limits{MaxBytes: 1000}}, Oversized},
		{"payload too deep", func() obj {
			var v any = 1.0
			for i := 0; i < 20; i++ {
				v = obj{"n": v}
			}
			return wire("STATE_UPDATE", obj{"state": obj{"k": v}, "meta": obj{"k": goodVersion}})
		}(), &Receiver{Tab: "self", Limits: Limits{MaxDepth: 10}}, Oversized},

		{"STATE_UPDATE without payload", wire("STATE_UPDATE", nil), nil, Invalid},
		{"STATE_UPDATE state missing", wire("STATE_UPDATE", obj{"meta": obj{}}), nil, Invalid},
		{"STATE_UPDATE meta missing", wire("STATE_UPDATE", obj{"state": obj{}}), nil, Invalid},
		{"STATE_UPDATE meta an array", wire("STATE_UPDATE", obj{"state": obj{}, "meta": []any{}}), nil, Invalid},
		{"version not a string", update(obj{"k": 1.0}), nil, Invalid},
		{"version empty", update(obj{"k": ""}), nil, Invalid},
		{"version two parts", update(obj{"k": "1.0.peer|1"}), nil, Invalid},
		{"version four parts", update(obj{"k": "1.0.peer||1|1"}), nil, Invalid},
		{"version zero clock", update(obj{"k": "||1"}), nil, Invalid},
		{"version depth 0", update(obj{"k": "1.0.peer||0"}), nil, Invalid},
		{"version depth negative", update(obj{"k": "1.0.peer||-1"}), nil, Invalid},
		{"version clock tab bad", update(obj{"k": "1.0.pe er||1"}), nil, Invalid},
		{"version base malformed", update(obj{"k": "1.0.peer|x|1"}), nil, Invalid},
		{"version base tab bad", update(obj{"k": "1.0.peer|1.0.a/b|1"}), nil, Invalid},
		{"version too long", update(obj{"k": "1.0." + strings.Repeat("a", 300) + "||1"}), nil, Invalid},
		{"key __proto__", update(obj{"ok": goodVersion, "__proto__": goodVersion}), nil, Invalid},
		{"key constructor", update(obj{"constructor": goodVersion}), nil, Invalid},
		{"seen not an object", wire("STATE_UPDATE", obj{"state": obj{"k": 1.0}, "meta": obj{"k": goodVersion}, "seen": "x"}), nil, Invalid},
		{"lineage not a string", wire("STATE_UPDATE", obj{"state": obj{"k": 1.0}, "meta": obj{"k": goodVersion}, "seen": obj{"k": 1.0}}), nil, Invalid},
		{"lineage malformed", wire("STATE_UPDATE", obj{"state": obj{"k": 1.0}, "meta": obj{"k": goodVersion}, "seen": obj{"k": "x.0.a"}}), nil, Invalid},
		{"lineage tab bad", wire("STATE_UPDATE", obj{"state": obj{"k": 1.0}, "meta": obj{"k": goodVersion}, "seen": obj{"k": ",1.0.a b"}}), nil, Invalid},
		{"lineage names a tab twice", wire("STATE_UPDATE", obj{"state": obj{"k": 1.0}, "meta": obj{"k": goodVersion}, "seen": obj{"k": ",1.0.a,2.0.a"}}), nil, Invalid},
		{"gone not an object", wire("STATE_UPDATE", obj{"state": obj{"k": 1.0}, "meta": obj{"k": goodVersion}, "gone": "x"}), nil, Invalid},
		{"removed fields not a string", wire("STATE_UPDATE", obj{"state": obj{"k": 1.0}, "meta": obj{"k": goodVersion}, "gone": obj{"k": 1.0}}), nil, Invalid},
		{"removed fields malformed", wire("STATE_UPDATE", obj{"state": obj{"k": 1.0}, "meta": obj{"k": goodVersion}, "gone": obj{"k": "1:15:5.0.a"}}), nil, Invalid},
		{"removed fields too long", wire("STATE_UPDATE", obj{"state": obj{"k": 1.0}, "meta": obj{"k": goodVersion}, "gone": obj{"k": strings.Repeat("1", 70000)}}), nil, Invalid},
		{"lineage too long", wire("STATE_UPDATE", obj{"state": obj{"k": 1.0}, "meta": obj{"k": goodVersion}, "seen": obj{"k": "," + strings.Repeat("1.0.a", 300)}}), nil, Invalid},
		{"key prototype", wire("STATE_RESPONSE", obj{"req": "r1", "to": "self", "state": obj{}, "meta": obj{"prototype": goodVersion}}), nil, Invalid},

		{"STATE_RESPONSE without req", wire("STATE_RESPONSE", obj{"to": "self", "state": obj{}, "meta": obj{}}), nil, Invalid},
		{"STATE_RESPONSE without to", wire("STATE_RESPONSE", obj{"req": "r1", "state": obj{}, "meta": obj{}}), nil, Invalid},
		{"STATE_RESPONSE bad to", wire("STATE_RESPONSE", obj{"req": "r1", "to": "a b", "state": obj{}, "meta": obj{}}), nil, Invalid},
		{"STATE_RESPONSE req a number", wire("STATE_RESPONSE", obj{"req": 1.0, "to": "self", "state": obj{}, "meta": obj{}}), nil, Invalid},
		{"STATE_REQUEST without req", wire("STATE_REQUEST", obj{}), nil, Invalid},
		{"STATE_REQUEST without payload", wire("STATE_REQUEST", nil), nil, Invalid},
		{"STATE_REQUEST empty to", wire("STATE_REQUEST", obj{"req": "r1", "to": ""}), nil, Invalid},
		{"STATE_REQUEST req too long", wire("STATE_REQUEST", obj{"req": strings.Repeat("r", 65)}), nil, Invalid},
		{"TAB_PING without started", wire("TAB_PING", obj{}), nil, Invalid},
		{"TAB_PING started fractional", wire("TAB_PING", obj{"started": 1.5}), nil, Invalid},
		{"TAB_PING started a string", wire("TAB_PING", obj{"started": "1"}), nil, Invalid},
		{"TAB_PING digest too long", wire("TAB_PING", obj{"started": 1.0, "digest": strings.Repeat("d", 257)}), nil, Invalid},
		{"TAB_PING filter not a string", wire("TAB_PING", obj{"started": 1.0, "filter": true}), nil, Invalid},
		{"TAB_PONG without to", wire("TAB_PONG", obj{"started": 1.0}), nil, Invalid},
		{"TAB_PONG without started", wire("TAB_PONG", obj{"to": "self"}), nil, Invalid},
		{"LEADER_ELECTION without term", wire("LEADER_ELECTION", obj{"priority": 1.0}), nil, Invalid},
		{"LEADER_ELECTION negative term", wire("LEADER_ELECTION", obj{"term": -1.0, "priority": 1.0}), nil, Invalid},
		{"LEADER_ELECTION without priority", wire("LEADER_ELECTION", obj{"term": 1.0}), nil, Invalid},
		{"LEADER_ANNOUNCE without leader", wire("LEADER_ANNOUNCE", obj{"term": 1.0}), nil, Invalid},
		{"LEADER_ANNOUNCE bad leader", wire("LEADER_ANNOUNCE", obj{"term": 1.0, "leader": "!"}), nil, Invalid},
		{"HEARTBEAT without leader", wire("HEARTBEAT", obj{"term": 1.0}), nil, Invalid},
		{"HEARTBEAT term over 2^53", wire("HEARTBEAT", obj{"term": 1 << 60, "leader": "peer"}), nil, Invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := Receiver{Tab: "self"}
			if tt.rc != nil {
				rc = *tt.rc
			}
			msg, err := Decode(gm, tt.raw, rc)
			require.NotNil(t, err, "accepted: %+v", msg)
			assert.Equal(t, tt.want, err.Reason, err.Error())
			assert.Equal(t, Message{}, msg)
			assert.Contains(t, err.Error(), tt.want.String())
		})
	}
}

func TestDecodeAccepts(t *testing.T) {
	tests := []struct {
		name string
		raw  any
		rc   Receiver
		want Message
	}{
		{"same appVersion", wire("HEARTBEAT", obj{"term": 3.0, "leader": "peer"}, set("appVersion", "2.0")),
			Receiver{Tab: "self", AppVersion: "2.0"},
			Message{Type: Heartbeat, Tab: "peer", Seq: 1, AppVersion: "2.0", Term: 3, Leader: "peer"}},
		{"null appVersion is none", wire("HEARTBEAT", obj{"term": 3.0, "leader": "peer"}, set("appVersion", nil)),
			Receiver{Tab: "self"},
			Message{Type: Heartbeat, Tab: "peer", Seq: 1, Term: 3, Leader: "peer"}},
		{"seq 2^53-1", wire("STATE_REQUEST", obj{"req": "r"}, set("seq", float64(1<<53-1))),
			Receiver{Tab: "self"},
			Message{Type: StateRequest, Tab: "peer", Seq: 1<<53 - 1, Req: "r"}},
		{"key in meta but not in state reads undefined", update(obj{"k": goodVersion, "gone": goodVersion}),
			Receiver{Tab: "self"},
			Message{Type: StateUpdate, Tab: "peer", Seq: 1, Entries: []Entry{
				{Key: "gone", Entry: conflict.Entry{Value: conflict.Undef, Version: conflict.Version{Clock: conflict.Clock{Wall: 1700000000000, Tab: "peer"}, Depth: 1}}},
				{Key: "k", Entry: conflict.Entry{Value: 1.0, Version: conflict.Version{Clock: conflict.Clock{Wall: 1700000000000, Tab: "peer"}, Depth: 1}}},
			}}},
		{"a lineage in seen; seen of a key not in meta ignored",
			wire("STATE_UPDATE", obj{"state": obj{"k": 1.0}, "meta": obj{"k": goodVersion}, "seen": obj{"k": "5.0.z,9.0.a", "other": "junk"}}),
			Receiver{Tab: "self"},
			Message{Type: StateUpdate, Tab: "peer", Seq: 1, Entries: []Entry{
				{Key: "k", Entry: conflict.Entry{Value: 1.0, Version: conflict.Version{Clock: conflict.Clock{Wall: 1700000000000, Tab: "peer"}, Depth: 1,
					Lineage: conflict.Lineage{Floor: conflict.Clock{Wall: 5, Tab: "z"}, Seen: []conflict.Clock{{Wall: 9, Tab: "a"}}}}}},
			}}},
		{"ping at the size limit", wire("TAB_PING", obj{"started": 5.0}), Receiver{Tab: "self", Limits: Limits{MaxBytes: 27, MaxDepth: 2}},
			Message{Type: TabPing, Tab: "peer", Seq: 1, Started: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := Decode(gm, tt.raw, tt.rc)
			require.Nil(t, err)
			assert.Equal(t, tt.want, msg)
		})
	}
}

func sampleMessages() []Message {
	v := func(wall int64, tab string, base conflict.Clock, depth uint64) conflict.Version {
		return conflict.Version{Clock: conflict.Clock{Wall: wall, Logical: 3, Tab: tab}, Base: base, Depth: depth}
	}
	entries := []Entry{
		{Key: "count", Entry: conflict.Entry{Value: 3.0, Version: v(1700000000001, "peer", conflict.Clock{}, 1)}},
		{Key: "user", Entry: conflict.Entry{Value: map[string]any{"name": "ann", "tags": []any{"a", nil, true}}, Version: v(1700000000002, "peer", conflict.Clock{Wall: 1700000000000, Tab: "other"}, 7)}},
	}
	entries[1].Version.Lineage = conflict.Descend("peer", conflict.Version{Clock: conflict.Clock{Wall: 1700000000000, Tab: "other"}, Lineage: conflict.Lineage{Floor: conflict.Clock{Wall: 1600000000000, Tab: "gone"}}})
	return []Message{
		{Type: StateUpdate, Tab: "peer", Seq: 17, AppVersion: "2.3.0", Entries: entries},
		{Type: StateUpdate, Tab: "peer", Seq: 1, Entries: []Entry{}},
		{Type: StateRequest, Tab: "peer", Seq: 2, Req: "req-1"},
		{Type: StateRequest, Tab: "peer", Seq: 2, Req: "req-1", To: "other"},
		{Type: StateResponse, Tab: "peer", Seq: 3, Req: "req-1", To: "self", More: true, Entries: entries},
		{Type: StateResponse, Tab: "peer", Seq: 3, Req: "req-1", To: "self", Entries: entries[:1]},
		{Type: TabPing, Tab: "peer", Seq: 4, Started: 1700000000000, Digest: "abc", Filter: "f", Leaving: true},
		{Type: TabPing, Tab: "peer", Seq: 4, Started: -5},
		{Type: TabPong, Tab: "peer", Seq: 5, To: "self", Started: 1700000000000},
		{Type: LeaderElection, Tab: "peer", Seq: 6, Term: 9, Priority: -1700000000000},
		{Type: LeaderAnnounce, Tab: "peer", Seq: 7, Term: 9, Leader: "peer"},
		{Type: Heartbeat, Tab: "peer", Seq: 1<<53 - 1, Term: 1<<53 - 1, Leader: "other"},
	}
}

func TestRoundTrip(t *testing.T) {
	seen := map[Type]bool{}
	for _, want := range sampleMessages() {
		t.Run(want.Type.String(), func(t *testing.T) {
			raw := Encode(gm, want)
			o := raw.(map[string]any)
			assert.Equal(t, want.Type.String(), o["type"], "type at the top level")
			assert.Equal(t, want.Tab, o["tabId"], "tabId at the top level")
			got, err := Decode(gm, raw, Receiver{Tab: "self", AppVersion: want.AppVersion})
			require.Nil(t, err)
			require.Equal(t, want, got)
			seen[want.Type] = true
		})
	}
	assert.Len(t, seen, 8, "every type")
}

func TestTypeAndReasonNames(t *testing.T) {
	for i := 1; i <= 8; i++ {
		typ, ok := ParseType(Type(i).String())
		assert.True(t, ok)
		assert.Equal(t, Type(i), typ)
	}
	_, ok := ParseType("UNKNOWN")
	assert.False(t, ok)
	_, ok = ParseType("")
	assert.False(t, ok)
	assert.Equal(t, "UNKNOWN", Type(0).String())
	assert.Equal(t, "UNKNOWN", Type(99).String())
	rs := Reasons()
	assert.Len(t, rs, 8)
	names := map[string]bool{}
	for _, r := range rs {
		assert.NotEqual(t, "unknown", r.String())
		names[r.String()] = true
	}
	assert.Len(t, names, 8, "distinct names")
	assert.Equal(t, "unknown", Reason(200).String())
}

func TestVersionRoundTrip(t *testing.T) {
	for _, v := range []conflict.Version{
		{Clock: conflict.Clock{Wall: 1, Tab: "a"}, Depth: 1},
		{Clock: conflict.Clock{Wall: 1700000000000, Logical: 42, Tab: "k2f9-x_Y"}, Base: conflict.Clock{Wall: 1699999999999, Logical: 4294967295, Tab: "b"}, Depth: 18446744073709551615},
		{Clock: conflict.Clock{Wall: 9223372036854775807, Logical: 1, Tab: strings.Repeat("z", 64)}, Base: conflict.Clock{Wall: 9223372036854775807, Logical: 4294967295, Tab: strings.Repeat("y", 64)}, Depth: 18446744073709551615},
	} {
		s := FormatVersion(v)
		got, ok := ParseVersion(s)
		require.True(t, ok, s)
		assert.Equal(t, v, got, s)
	}
	assert.Equal(t, "5.1.a|4.0.b|2", FormatVersion(conflict.Version{Clock: conflict.Clock{Wall: 5, Logical: 1, Tab: "a"}, Base: conflict.Clock{Wall: 4, Tab: "b"}, Depth: 2}))

	// A stored record carries the lineage after a fourth bar; a record of
	// an older tabsync has none and reads with an empty lineage.
	v := conflict.Version{Clock: conflict.Clock{Wall: 5, Logical: 1, Tab: "a"}, Base: conflict.Clock{Wall: 4, Tab: "b"}, Depth: 2,
		Lineage: conflict.Descend("a", conflict.Version{Clock: conflict.Clock{Wall: 4, Tab: "b"}})}
	assert.Equal(t, "5.1.a|4.0.b|2|,4.0.b", FormatStoredVersion(v))
	got, ok := ParseVersion(FormatStoredVersion(v))
	require.True(t, ok)
	assert.Equal(t, v, got)
	assert.Equal(t, FormatVersion(v), FormatStoredVersion(conflict.Version{Clock: v.Clock, Base: v.Base, Depth: v.Depth}))
	for _, bad := range []string{"5.1.a|4.0.b|2|x", "5.1.a|4.0.b|2|,4.0.b c", "5.1.a|4.0.b|x|,4.0.b"} {
		_, ok := ParseVersion(bad)
		assert.False(t, ok, bad)
	}
}

// A version that remembers removed fields (merge) carries them in the
// payload's gone and, stored, after a fifth bar: keys holding bars included.
func TestRemovedFieldsRoundTrip(t *testing.T) {
	gone := []conflict.Removed{{Path: []string{"prefs", "a|b"}, Clock: conflict.Clock{Wall: 5, Logical: 1, Tab: "a"}, Hash: 77}}
	v := conflict.Version{Clock: conflict.Clock{Wall: 5, Logical: 1, Tab: "a"}, Depth: 1, Gone: gone}
	s := FormatStoredVersion(v)
	assert.Equal(t, "5.1.a||1||1:25:5.1.a2:775:prefs3:a|b", s)
	got, ok := ParseVersion(s)
	require.True(t, ok)
	assert.Equal(t, v, got)
	v.Lineage = conflict.Descend("a", conflict.Version{Clock: conflict.Clock{Wall: 4, Tab: "b"}})
	got, ok = ParseVersion(FormatStoredVersion(v))
	require.True(t, ok)
	assert.Equal(t, v, got)
	_, ok = ParseVersion("5.1.a||1||")
	assert.False(t, ok, "an empty list of removed fields is never written")

	msg := Message{Type: StateUpdate, Tab: "a", Seq: 1, Entries: []Entry{{Key: "prefs", Entry: conflict.Entry{Value: obj{}, Version: v}}}}
	raw := Encode(gm, msg)
	assert.Equal(t, obj{"prefs": conflict.FormatGone(gone)}, raw.(obj)["payload"].(obj)["gone"])
	back, err := Decode(gm, raw, Receiver{Tab: "self"})
	require.Nil(t, err)
	assert.Equal(t, msg, back)
}

func TestParseVersionMalformed(t *testing.T) {
	for _, s := range []string{
		"",
		"|",
		"||",
		"||1",
		"1.0.a||",
		"1.0.a||0",
		"1.0.a||x",
		"1.0.a||1.5",
		"1.0.a||18446744073709551616",
		"1.0.a|||1",
		"1.0.a|1",
		"1.0|1.0.a|1",
		"0.0.a||1",
		"1.0.a b||1",
		"1.0.a|0.0.b|1",
		"1.0.a|1.0.b c|1",
		"1.0." + strings.Repeat("a", 65) + "||1",
		"1.0.a|1.0." + strings.Repeat("b", 65) + "|1",
		strings.Repeat("1", 300),
	} {
		_, ok := ParseVersion(s)
		assert.False(t, ok, "%q parsed", s)
	}
}

func TestValidID(t *testing.T) {
	assert.True(t, ValidID("a"))
	assert.True(t, ValidID("AZaz09-_"))
	assert.True(t, ValidID(strings.Repeat("x", 64)))
	assert.False(t, ValidID(""))
	assert.False(t, ValidID(strings.Repeat("x", 65)))
	for _, s := range []string{"a.b", "a|b", "a b", "é", "a\x00", "a/b"} {
		assert.False(t, ValidID(s), "%q", s)
	}
}
