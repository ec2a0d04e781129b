// Package protocol defines the messages tabsync tabs exchange over a
// BroadcastChannel, how they are validated on receipt, and how they are built
// for sending.
//
// Every message is a plain object (structured clone, never a JSON string):
//
//	{ type: "STATE_UPDATE", tabId: "k2f9…", v: 1, seq: 17, appVersion: "2.3.0", payload: {…} }
//
// type and tabId stand at the top level so that a developer watching the
// channel from the console can read them. v is the protocol version, seq
// counts the sender's messages from 1 (receivers drop repeats and reordered
// messages), appVersion is the application's version when configured.
//
// Payloads by type:
//
//	STATE_UPDATE    { state: {key: value…}, meta: {key: version…}, seen?: {key: lineage…}, gone?: {key: removed…} }
//	STATE_REQUEST   { req: requestId, to?: tabId }
//	STATE_RESPONSE  { req: requestId, to: tabId, state: {…}, meta: {…}, seen?: {…}, gone?: {…}, more?: true }
//	TAB_PING        { started: ms, digest?: string, filter?: string, leaving?: true }
//	TAB_PONG        { to: tabId, started: ms }
//	LEADER_ELECTION { term: n, priority: ms }
//	LEADER_ANNOUNCE { term: n, leader: tabId }
//	HEARTBEAT       { term: n, leader: tabId }
//
// Values in state stay whatever the application stored: the core never
// copies them into Go. A version is the string "clock|base|depth" where a clock
// is "wallMs.logical.tabId" (see package conflict). Under the merge and custom
// strategies a version also has a lineage (conflict.Lineage), sent in seen
// under the same key as "floor,clock,clock…": the floor clock (empty when
// none) and at most conflict.MaxSeen clocks of distinct tabs. A key with no
// lineage has no entry in seen, and seen is left out when no key has one.
//
// Protocol version 1 gained seen without a version change: a tab of an older
// tabsync ignores the field (it reads payloads by name), so tabs of mixed
// releases still sync, the older ones with the older merge rule; a key in
// meta with no lineage reads as a write with an empty one. A key may be in
// meta and not in state: its value is undefined. A key whose value is
// undefined is removed (a tombstone, see package sync).
//
// Under merge, the fields a write removed from a key's object travel in
// gone under the key, conflict.FormatGone's string (every part behind its
// length, so keys may hold any character); it too came without a version
// change: an older tab ignores it and merges as it did (a removed field can
// come back there).
//
// A stored record (IndexedDB, see package persist) keeps the whole version
// in one string, FormatStoredVersion's "clock|base|depth|lineage|gone", the
// last parts left out when empty, so records written before lineages
// existed read as they are.
//
// Decode validates everything it reads; anything malformed is rejected with
// a Reason, never a panic.
package protocol

import "github.com/tabsync/tabsync/conflict"

// Version is the protocol version this package speaks.
const Version = 1

// Type is a message type.
type Type uint8

const (
	StateUpdate Type = iota + 1
	StateRequest
	StateResponse
	LeaderElection
	LeaderAnnounce
	TabPing
	TabPong
	Heartbeat
)

var typeNames = [...]string{"", "STATE_UPDATE", "STATE_REQUEST", "STATE_RESPONSE", "LEADER_ELECTION", "LEADER_ANNOUNCE", "TAB_PING", "TAB_PONG", "HEARTBEAT"}

// Not inlined: each inlined copy costs the wasm module more than the call saves.
//
//go:noinline
func (t Type) String() string {
	if t > 0 && int(t) < len(typeNames) {
		return typeNames[t]
	}
	return "UNKNOWN"
}

// ParseType returns the type named s.
func ParseType(s string) (Type, bool) {
	for i := 1; i < len(typeNames); i++ {
		if typeNames[i] == s {
			return Type(i), true
		}
	}
	return 0, false
}

// Entry is one key of a state payload.
type Entry struct {
	Key string
	conflict.Entry
}

// Message is a decoded message. Fields a type does not use are zero.
type Message struct {
	Type       Type
	Tab        string // sender
	Seq        uint64
	AppVersion string

	// STATE_UPDATE, STATE_RESPONSE.
	Entries []Entry
	// STATE_REQUEST, STATE_RESPONSE: the request; TAB_PONG, STATE_REQUEST,
	// STATE_RESPONSE: the addressee (empty: everyone).
	Req string
	To  string
	// STATE_RESPONSE: more chunks of this response follow.
	More bool

	// TAB_PING, TAB_PONG: when the sender started (ms since the epoch).
	Started int64
	// TAB_PING: a digest of the sender's synced state and of its key filter,
	// for anti-entropy; Leaving marks the goodbye of a closing tab.
	Digest  string
	Filter  string
	Leaving bool

	// LEADER_ELECTION, LEADER_ANNOUNCE, HEARTBEAT.
	Term     uint64
	Priority int64
	Leader   string
}

// Reason says why a received message was dropped. Its string is the key in
// getStats().droppedByReason.
type Reason uint8

const (
	OK              Reason = iota
	Invalid                // not an object, a field of the wrong type, a malformed version
	UnknownType            // type is not one of the eight
	ProtocolVersion        // v is not a version this tab speaks
	ForeignVersion         // appVersion differs from this tab's
	Oversized              // larger or deeper than the configured limits
	OwnID                  // claims to come from this tab
	Duplicate              // a sequence number already seen from that sender
	Stale                  // older than what the tab already has
	numReasons
)

var reasonNames = [...]string{"ok", "invalid", "unknownType", "protocolVersion", "foreignVersion", "oversized", "ownId", "duplicate", "stale"}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "unknown"
}

// Reasons lists every drop reason, in order.
func Reasons() []Reason {
	out := make([]Reason, 0, numReasons-1)
	for r := Invalid; r < numReasons; r++ {
		out = append(out, r)
	}
	return out
}
