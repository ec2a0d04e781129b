package protocol

import (
	"math"
	"strconv"

	"github.com/tabsync/tabsync/conflict"
	"github.com/tabsync/tabsync/internal/decimal"
	"github.com/tabsync/tabsync/internal/gostring"
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

// Decode reads and validates a received message. It never panics on any input
// the Model can represent; a message it rejects comes back as an *Error with
// the Reason to count, written by Reject.
func Decode(m conflict.Model, raw conflict.Value, rc Receiver) (Message, *Error) {
	msg, c, text, num := decode(m, raw, rc)
	if c != Accepted {
		return Message{}, Reject(c, msg.Type, text, num, rc)
	}
	return msg, nil
}

// decode is Decode, naming the broken rule instead of writing its report.
func decode(m conflict.Model, raw conflict.Value, rc Receiver) (msg Message, c Check, text string, num float64) {
	lim := rc.Limits.WithDefaults()
	if k := m.Kind(raw); k != conflict.Object {
		return msg, NotObject, "", float64(k)
	}
	tv := m.Get(raw, "type")
	if m.Kind(tv) != conflict.String {
		return msg, TypeNotString, "", 0
	}
	typ, ok := ParseType(m.Str(tv))
	if !ok {
		return msg, TypeUnknown, m.Str(tv), 0
	}
	msg.Type = typ
	if msg.Tab, ok = readID(m, raw, "tabId"); !ok || msg.Tab == "" {
		return msg, TabNotID, "", 0
	}
	if msg.Tab == rc.Tab {
		return msg, OwnTab, "", 0
	}
	if v := m.Get(raw, "v"); m.Kind(v) != conflict.Number {
		return msg, VersionNotNumber, "", 0
	} else if m.Num(v) != Version {
		return msg, VersionUnknown, "", m.Num(v)
	}
	if msg.Seq, ok = readUint(m, m.Get(raw, "seq")); !ok || msg.Seq == 0 {
		return msg, SeqNotPositive, "", 0
	}
	switch av := m.Get(raw, "appVersion"); m.Kind(av) {
	case conflict.Undefined, conflict.Null:
	case conflict.String:
		msg.AppVersion = m.Str(av)
	default:
		return msg, AppNotString, "", 0
	}
	if msg.AppVersion != rc.AppVersion {
		return msg, AppForeign, msg.AppVersion, 0
	}
	p := m.Get(raw, "payload")
	switch m.Kind(p) {
	case conflict.Undefined, conflict.Null:
		p = nil
	case conflict.Object:
		if n, depth := m.Size(p, lim.MaxBytes, lim.MaxDepth); n > lim.MaxBytes {
			return msg, PayloadTooBig, "", 0
		} else if depth > lim.MaxDepth {
			return msg, PayloadTooDeep, "", 0
		}
	default:
		return msg, PayloadNotObject, "", 0
	}
	c, text = decodePayload(m, p, &msg)
	return msg, c, text, 0
}

func decodePayload(m conflict.Model, p conflict.Value, msg *Message) (Check, string) {
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
			return NoPayload, ""
		}
		if msg.Type == StateResponse {
			if msg.Req, ok = readID(m, p, "req"); !ok || msg.Req == "" {
				return NoReq, ""
			}
			if msg.To, ok = readID(m, p, "to"); !ok || msg.To == "" {
				return NoAddressee, ""
			}
			msg.More = m.Kind(get("more")) == conflict.Bool && m.Truth(get("more"))
		}
		state, meta, seen, gone := get("state"), get("meta"), get("seen"), get("gone")
		if m.Kind(state) != conflict.Object || m.Kind(meta) != conflict.Object {
			return StateNotObject, ""
		}
		switch m.Kind(seen) {
		case conflict.Undefined:
			seen = nil
		case conflict.Object:
		default:
			return SeenNotObject, ""
		}
		switch m.Kind(gone) {
		case conflict.Undefined:
			gone = nil
		case conflict.Object:
		default:
			return GoneNotObject, ""
		}
		keys := m.Keys(meta)
		msg.Entries = make([]Entry, 0, len(keys))
		for _, k := range keys {
			if k == "__proto__" || k == "constructor" || k == "prototype" {
				return ForbiddenKey, k
			}
			mv := m.Get(meta, k)
			if m.Kind(mv) != conflict.String {
				return KeyVersionNotString, k
			}
			lineage, hasLineage := "", false
			if seen != nil {
				switch lv := m.Get(seen, k); m.Kind(lv) {
				case conflict.Undefined:
				case conflict.String:
					lineage, hasLineage = m.Str(lv), true
				default:
					if _, c := ParseEntryVersion(m.Str(mv), "", false, "", false); c != Accepted {
						return c, k
					}
					return KeyLineageNotString, k
				}
			}
			removed, hasRemoved := "", false
			if gone != nil {
				switch gv := m.Get(gone, k); m.Kind(gv) {
				case conflict.Undefined:
				case conflict.String:
					removed, hasRemoved = m.Str(gv), true
				default:
					if _, c := ParseEntryVersion(m.Str(mv), lineage, hasLineage, "", false); c != Accepted {
						return c, k
					}
					return KeyGoneNotString, k
				}
			}
			ver, c := ParseEntryVersion(m.Str(mv), lineage, hasLineage, removed, hasRemoved)
			if c != Accepted {
				return c, k
			}
			msg.Entries = append(msg.Entries, Entry{Key: k, Entry: conflict.Entry{Value: m.Get(state, k), Version: ver}})
		}
	case StateRequest:
		if msg.Req, ok = readID(m, p, "req"); !ok || msg.Req == "" {
			return NoReq, ""
		}
		if msg.To, ok = readID(m, p, "to"); !ok {
			return ToNotID, ""
		}
	case TabPing, TabPong:
		if msg.Started, ok = readInt(m, get("started")); !ok {
			return StartedNotTime, ""
		}
		if msg.Type == TabPong {
			if msg.To, ok = readID(m, p, "to"); !ok || msg.To == "" {
				return NoAddressee, ""
			}
			break
		}
		if msg.Digest, ok = readShortString(m, get("digest")); !ok {
			return DigestNotShort, ""
		}
		if msg.Filter, ok = readShortString(m, get("filter")); !ok {
			return FilterNotShort, ""
		}
		lv := get("leaving")
		msg.Leaving = m.Kind(lv) == conflict.Bool && m.Truth(lv)
	case LeaderElection, LeaderAnnounce, Heartbeat:
		if msg.Term, ok = readUint(m, get("term")); !ok {
			return TermNotInteger, ""
		}
		if msg.Type == LeaderElection {
			if msg.Priority, ok = readInt(m, get("priority")); !ok {
				return PriorityNotInteger, ""
			}
			break
		}
		if msg.Leader, ok = readID(m, p, "leader"); !ok || msg.Leader == "" {
			return NoLeader, ""
		}
	}
	return Accepted, ""
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

// FormatStoredVersion writes the whole of v, as a stored record holds it:
// FormatVersion's form, followed by "|lineage" when the lineage is not
// empty, and by "|lineage|gone" (conflict.FormatGone, the lineage possibly
// empty) when the version remembers removed fields.
func FormatStoredVersion(v conflict.Version) string {
	s := FormatVersion(v)
	if !v.Lineage.IsZero() || len(v.Gone) > 0 {
		s += "|" + v.Lineage.String()
	}
	if len(v.Gone) > 0 {
		s += "|" + conflict.FormatGone(v.Gone)
	}
	return s
}

// maxClockLen bounds the text of one clock: a tab id, two numbers, two dots.
const maxClockLen = maxIDLen + 32

// maxGoneLen bounds the text of a version's removed fields.
const maxGoneLen = 64 << 10

// ParseVersion reads the forms written by FormatVersion and
// FormatStoredVersion. The clock must be set, its tab a valid id, and the
// depth at least 1.
func ParseVersion(s string) (conflict.Version, bool) {
	// The lineage follows a third bar, the removed fields a fourth (and
	// may hold bars themselves, inside keys).
	var bars [4]int
	n := 0
	for i := 0; i < len(s) && n < 4; i++ {
		if s[i] == '|' {
			bars[n] = i
			n++
		}
	}
	if n < 3 {
		return parseWireVersion(s)
	}
	v, ok := parseWireVersion(s[:bars[2]])
	lineage, gone := s[bars[2]+1:], ""
	if n == 4 {
		lineage, gone = s[bars[2]+1:bars[3]], s[bars[3]+1:]
	}
	if ok {
		v.Lineage, ok = parseLineage(lineage)
	}
	if ok && n == 4 {
		v.Gone, ok = parseGone(gone)
		ok = ok && len(v.Gone) > 0
	}
	return v, ok
}

func parseGone(s string) ([]conflict.Removed, bool) {
	if len(s) > maxGoneLen {
		return nil, false
	}
	return conflict.ParseGone(s, ValidID)
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
	i := gostring.IndexByte(s, '|')
	j := i + 1 + gostring.IndexByte(s[i+1:], '|')
	if i < 0 || j <= i || gostring.IndexByte(s[j+1:], '|') >= 0 {
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
