package protocol

import (
	"math"
	"strconv"
	"strings"

	"github.com/tabsync/tabsync/conflict"
	"github.com/tabsync/tabsync/internal/decimal"
)

// Limits bound what a receiver accepts. The zero value means the defaults.
type Limits struct {
	// MaxBytes bounds a message's payload, estimated as its structured-clone
	// size. Default 4 MiB (DefaultMaxBytes). Senders split state responses
	// to stay below it.
	MaxBytes int
	// MaxDepth bounds how deeply a payload nests. Default 64.
	MaxDepth int
}

const (
	DefaultMaxBytes = 4 << 20
	DefaultMaxDepth = 64
	maxIDLen        = 64
	maxSafeInt      = 1<<53 - 1
)

// WithDefaults returns l with zero fields set to their defaults.
func (l Limits) WithDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultMaxDepth
	}
	return l
}

// Receiver is what Decode needs to know about the receiving tab.
type Receiver struct {
	Tab        string
	AppVersion string
	Limits     Limits
}

// Error describes a dropped message.
type Error struct {
	Reason Reason
	Detail string
}

func (e *Error) Error() string { return "message dropped (" + e.Reason.String() + "): " + e.Detail }

// drop rejects a message. Not inlined: each of its many inlined copies
// costs the wasm module.
//
//go:noinline
func drop(r Reason, detail string) (Message, *Error) {
	return Message{}, &Error{Reason: r, Detail: detail}
}

// Decode reads and validates a received message. It never panics on any input
// the Model can represent; a message it rejects comes back as an *Error with
// the Reason to count.
func Decode(m conflict.Model, raw conflict.Value, rc Receiver) (Message, *Error) {
	lim := rc.Limits.WithDefaults()
	if m.Kind(raw) != conflict.Object {
		return drop(Invalid, "not an object but "+m.Kind(raw).String())
	}
	tv := m.Get(raw, "type")
	if m.Kind(tv) != conflict.String {
		return drop(Invalid, "type is not a string")
	}
	typ, ok := ParseType(m.Str(tv))
	if !ok {
		return drop(UnknownType, "type "+strconv.Quote(clip(m.Str(tv))))
	}
	msg := Message{Type: typ}
	if msg.Tab, ok = readID(m, raw, "tabId"); !ok || msg.Tab == "" {
		return drop(Invalid, "tabId is not a tab id")
	}
	if msg.Tab == rc.Tab {
		return drop(OwnID, typ.String()+" claims to come from this tab")
	}
	if v := m.Get(raw, "v"); m.Kind(v) != conflict.Number {
		return drop(Invalid, "v (protocol version) is not a number")
	} else if m.Num(v) != Version {
		return drop(ProtocolVersion, "protocol version "+strconv.FormatFloat(m.Num(v), 'g', -1, 64)+", this tab speaks 1")
	}
	if msg.Seq, ok = readUint(m, m.Get(raw, "seq")); !ok || msg.Seq == 0 {
		return drop(Invalid, "seq is not a positive integer")
	}
	switch av := m.Get(raw, "appVersion"); m.Kind(av) {
	case conflict.Undefined, conflict.Null:
	case conflict.String:
		msg.AppVersion = m.Str(av)
	default:
		return drop(Invalid, "appVersion is not a string")
	}
	if msg.AppVersion != rc.AppVersion {
		return drop(ForeignVersion, "appVersion "+strconv.Quote(clip(msg.AppVersion))+" differs from this tab's "+strconv.Quote(rc.AppVersion))
	}
	p := m.Get(raw, "payload")
	switch m.Kind(p) {
	case conflict.Undefined, conflict.Null:
		p = nil
	case conflict.Object:
		if n, depth := m.Size(p, lim.MaxBytes, lim.MaxDepth); n > lim.MaxBytes {
			return drop(Oversized, typ.String()+" payload is over "+strconv.Itoa(lim.MaxBytes)+" bytes")
		} else if depth > lim.MaxDepth {
			return drop(Oversized, typ.String()+" payload nests deeper than "+strconv.Itoa(lim.MaxDepth)+" levels")
		}
	default:
		return drop(Invalid, "payload is not an object")
	}
	if err := decodePayload(m, p, &msg); err != nil {
		return Message{}, err
	}
	return msg, nil
}

func decodePayload(m conflict.Model, p conflict.Value, msg *Message) *Error {
	get := func(name string) conflict.Value {
		if p == nil {
			return conflict.Undef
		}
		return m.Get(p, name)
	}
	var ok bool
	switch msg.Type {
	case StateUpdate, StateResponse:
		if p == nil {
			return &Error{Invalid, msg.Type.String() + " has no payload"}
		}
		if msg.Type == StateResponse {
			if msg.Req, ok = readID(m, p, "req"); !ok || msg.Req == "" {
				return &Error{Invalid, "STATE_RESPONSE has no req id"}
			}
			if msg.To, ok = readID(m, p, "to"); !ok || msg.To == "" {
				return &Error{Invalid, "STATE_RESPONSE has no addressee"}
			}
			msg.More = m.Kind(get("more")) == conflict.Bool && m.Truth(get("more"))
		}
		state, meta, seen := get("state"), get("meta"), get("seen")
		if m.Kind(state) != conflict.Object || m.Kind(meta) != conflict.Object {
			return &Error{Invalid, msg.Type.String() + " state or meta is not an object"}
		}
		switch m.Kind(seen) {
		case conflict.Undefined:
			seen = nil
		case conflict.Object:
		default:
			return &Error{Invalid, msg.Type.String() + " seen is not an object"}
		}
		keys := m.Keys(meta)
		msg.Entries = make([]Entry, 0, len(keys))
		for _, k := range keys {
			if k == "__proto__" || k == "constructor" || k == "prototype" {
				// No tab sends these (writing them into an object can
				// change its prototype): the message is forged.
				return &Error{Invalid, msg.Type.String() + " carries key " + k + ", which is never synced"}
			}
			mv := m.Get(meta, k)
			if m.Kind(mv) != conflict.String {
				return &Error{Invalid, "version of key " + strconv.Quote(clip(k)) + " is not a string"}
			}
			ver, ok := parseWireVersion(m.Str(mv))
			if !ok {
				return &Error{Invalid, "version of key " + strconv.Quote(clip(k)) + " is malformed"}
			}
			if seen != nil {
				switch lv := m.Get(seen, k); m.Kind(lv) {
				case conflict.Undefined:
				case conflict.String:
					if ver.Lineage, ok = parseLineage(m.Str(lv)); !ok {
						return &Error{Invalid, "lineage of key " + strconv.Quote(clip(k)) + " is malformed"}
					}
				default:
					return &Error{Invalid, "lineage of key " + strconv.Quote(clip(k)) + " is not a string"}
				}
			}
			msg.Entries = append(msg.Entries, Entry{Key: k, Entry: conflict.Entry{Value: m.Get(state, k), Version: ver}})
		}
	case StateRequest:
		if msg.Req, ok = readID(m, p, "req"); !ok || msg.Req == "" {
			return &Error{Invalid, "STATE_REQUEST has no req id"}
		}
		if msg.To, ok = readID(m, p, "to"); !ok {
			return &Error{Invalid, "STATE_REQUEST to is not a tab id"}
		}
	case TabPing, TabPong:
		if msg.Started, ok = readInt(m, get("started")); !ok {
			return &Error{Invalid, msg.Type.String() + " started is not a time"}
		}
		if msg.Type == TabPong {
			if msg.To, ok = readID(m, p, "to"); !ok || msg.To == "" {
				return &Error{Invalid, "TAB_PONG has no addressee"}
			}
			break
		}
		if msg.Digest, ok = readShortString(m, get("digest")); !ok {
			return &Error{Invalid, "TAB_PING digest is not a short string"}
		}
		if msg.Filter, ok = readShortString(m, get("filter")); !ok {
			return &Error{Invalid, "TAB_PING filter is not a short string"}
		}
		lv := get("leaving")
		msg.Leaving = m.Kind(lv) == conflict.Bool && m.Truth(lv)
	case LeaderElection, LeaderAnnounce, Heartbeat:
		if msg.Term, ok = readUint(m, get("term")); !ok {
			return &Error{Invalid, msg.Type.String() + " term is not an integer"}
		}
		if msg.Type == LeaderElection {
			if msg.Priority, ok = readInt(m, get("priority")); !ok {
				return &Error{Invalid, "LEADER_ELECTION priority is not an integer"}
			}
			break
		}
		if msg.Leader, ok = readID(m, p, "leader"); !ok || msg.Leader == "" {
			return &Error{Invalid, msg.Type.String() + " names no leader"}
		}
	}
	return nil
}

// readID reads an optional tab or request id: 1 to 64 characters of
// [A-Za-z0-9_-]. Absent reads as "", ok.
func readID(m conflict.Model, obj conflict.Value, name string) (string, bool) {
	if obj == nil {
		return "", true
	}
	v := m.Get(obj, name)
	switch m.Kind(v) {
	case conflict.Undefined:
		return "", true
	case conflict.String:
		s := m.Str(v)
		return s, ValidID(s)
	}
	return "", false
}

// ValidID reports whether s can be a tab or request id.
//
// Not inlined: each inlined copy costs the wasm module more than the call saves.
//
//go:noinline
func ValidID(s string) bool {
	if len(s) == 0 || len(s) > maxIDLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func readShortString(m conflict.Model, v conflict.Value) (string, bool) {
	switch m.Kind(v) {
	case conflict.Undefined:
		return "", true
	case conflict.String:
		s := m.Str(v)
		return s, len(s) <= 256
	}
	return "", false
}

// Not inlined: each inlined copy costs the wasm module more than the call saves.
//
//go:noinline
func readUint(m conflict.Model, v conflict.Value) (uint64, bool) {
	n, ok := readInt(m, v)
	return uint64(n), ok && n >= 0
}

func readInt(m conflict.Model, v conflict.Value) (int64, bool) {
	if m.Kind(v) != conflict.Number {
		return 0, false
	}
	f := m.Num(v)
	if math.IsNaN(f) || f != math.Trunc(f) || f > maxSafeInt || f < -maxSafeInt {
		return 0, false
	}
	return int64(f), true
}

// clip shortens attacker-controlled text before it goes into an error.
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}

// FormatVersion writes v's clock, base and depth in their wire form,
// "clock|base|depth": a message's meta. The lineage travels apart, in the
// payload's seen (see the package documentation).
func FormatVersion(v conflict.Version) string {
	return v.Clock.String() + "|" + v.Base.String() + "|" + strconv.FormatUint(v.Depth, 10)
}

// FormatStoredVersion writes the whole of v, the lineage too, as a stored
// record holds it: FormatVersion's form, followed by "|lineage" when the
// lineage is not empty.
func FormatStoredVersion(v conflict.Version) string {
	s := FormatVersion(v)
	if !v.Lineage.IsZero() {
		s += "|" + v.Lineage.String()
	}
	return s
}

// maxClockLen bounds the text of one clock: a tab id, two numbers, two dots.
const maxClockLen = maxIDLen + 32

// ParseVersion reads the forms written by FormatVersion and
// FormatStoredVersion. The clock must be set, its tab a valid id, and the
// depth at least 1.
func ParseVersion(s string) (conflict.Version, bool) {
	// The lineage follows a fourth bar, if any.
	bars, last := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '|' {
			bars, last = bars+1, i
		}
	}
	if bars != 3 {
		return parseWireVersion(s)
	}
	v, ok := parseWireVersion(s[:last])
	if ok {
		v.Lineage, ok = parseLineage(s[last+1:])
	}
	return v, ok
}

func parseLineage(s string) (conflict.Lineage, bool) {
	if len(s) > (conflict.MaxSeen+1)*(maxClockLen+1) {
		return conflict.Lineage{}, false
	}
	return conflict.ParseLineage(s, ValidID)
}

// parseWireVersion reads the form written by FormatVersion.
func parseWireVersion(s string) (conflict.Version, bool) {
	if len(s) > 3*maxClockLen {
		return conflict.Version{}, false
	}
	// Three parts: strings.Split would cost the wasm module about 3 KB
	// gzipped (its only use).
	i := strings.IndexByte(s, '|')
	j := i + 1 + strings.IndexByte(s[i+1:], '|')
	if i < 0 || j <= i || strings.IndexByte(s[j+1:], '|') >= 0 {
		return conflict.Version{}, false
	}
	parts := [3]string{s[:i], s[i+1 : j], s[j+1:]}
	c, ok := conflict.ParseClock(parts[0])
	if !ok || c.IsZero() || !ValidID(c.Tab) {
		return conflict.Version{}, false
	}
	b, ok := conflict.ParseClock(parts[1])
	if !ok || (!b.IsZero() && !ValidID(b.Tab)) {
		return conflict.Version{}, false
	}
	d, ok := decimal.ParseUint(parts[2], math.MaxUint64)
	if !ok || d == 0 {
		return conflict.Version{}, false
	}
	return conflict.Version{Clock: c, Base: b, Depth: d}, true
}
