package protocol

import (
	"strconv"

	"github.com/tabsync/tabsync/conflict"
	"github.com/tabsync/tabsync/internal/gostring"
)

// Check names one of the rules Decode enforces, each with the Reason it
// drops a message for and the text of its report. A decoder outside Go
// (jsbridge reads the envelope in JavaScript, see docs/WASM-CONTRACT.md)
// names the rule a message broke and Reject writes the report, so that a
// message is dropped with the same words whichever decoder read it.
type Check uint8

const (
	Accepted            Check = iota // no rule broken
	NotObject                        // the message is no plain object (num: its conflict.Kind)
	TypeNotString                    // type is not a string
	TypeUnknown                      // type names no message type (text: the type)
	TabNotID                         // tabId is not a tab id
	OwnTab                           // tabId is this tab's
	VersionNotNumber                 // v is not a number
	VersionUnknown                   // v is not Version (num: v)
	SeqNotPositive                   // seq is not a positive integer
	AppNotString                     // appVersion is not a string
	AppForeign                       // appVersion is not the receiver's (text: it)
	PayloadTooBig                    // the payload is over Limits.MaxBytes
	PayloadTooDeep                   // the payload nests deeper than Limits.MaxDepth
	PayloadNotObject                 // payload is no plain object
	NoPayload                        // a state message has no payload
	NoReq                            // no request id
	NoAddressee                      // no addressee
	StateNotObject                   // state or meta is no plain object
	SeenNotObject                    // seen is no plain object
	ForbiddenKey                     // a key is __proto__, constructor or prototype (text: it)
	KeyVersionNotString              // a key's version is not a string (text: the key)
	KeyVersionMalformed              // a key's version does not parse (text: the key)
	KeyLineageMalformed              // a key's lineage does not parse (text: the key)
	KeyLineageNotString              // a key's lineage is not a string (text: the key)
	ToNotID                          // to is not a tab id
	StartedNotTime                   // started is not an integer
	DigestNotShort                   // digest is not a string of at most 256 bytes
	FilterNotShort                   // filter is not a string of at most 256 bytes
	TermNotInteger                   // term is not a non-negative integer
	PriorityNotInteger               // priority is not an integer
	NoLeader                         // leader is not a tab id
	GoneNotObject                    // gone is no plain object
	KeyGoneNotString                 // a key's removed fields are not a string (text: the key)
	KeyGoneMalformed                 // a key's removed fields do not parse (text: the key)
	numChecks
)

var checkNames = [...]string{"accepted", "notObject", "typeNotString", "typeUnknown", "tabNotId", "ownTab",
	"versionNotNumber", "versionUnknown", "seqNotPositive", "appNotString", "appForeign", "payloadTooBig",
	"payloadTooDeep", "payloadNotObject", "noPayload", "noReq", "noAddressee", "stateNotObject", "seenNotObject",
	"forbiddenKey", "keyVersionNotString", "keyVersionMalformed", "keyLineageMalformed", "keyLineageNotString",
	"toNotId", "startedNotTime", "digestNotShort", "filterNotShort", "termNotInteger", "priorityNotInteger", "noLeader",
	"goneNotObject", "keyGoneNotString", "keyGoneMalformed"}

// String is the check's name, as jsbridge/helpers.js lists them.
func (c Check) String() string {
	if int(c) < len(checkNames) {
		return checkNames[c]
	}
	return "check(" + strconv.Itoa(int(c)) + ")"
}

// Checks lists every check's name, in order: a decoder outside Go numbers
// its rules the same way (jsbridge tests that helpers.js does).
func Checks() []string { return checkNames[:numChecks] }

// Reject is the drop of a message of type typ (0 when not known yet) that
// broke rule c; text and num carry what the rule's report quotes (see each
// Check). Accepted, or a number that names no rule, reads as Invalid.
//
// Not inlined: each inlined copy costs the wasm module more than the call saves.
//
//go:noinline
func Reject(c Check, typ Type, text string, num float64, rc Receiver) *Error {
	if c == Accepted || c >= numChecks {
		return &Error{Reason: Invalid, Detail: "rejected (" + c.String() + ")"}
	}
	report := reports[c]
	var b []byte
	for i := 0; i < len(report.text); i++ {
		if report.text[i] != '%' {
			b = append(b, report.text[i])
			continue
		}
		i++
		switch report.text[i] {
		case 't':
			b = append(b, typ.String()...)
		case 'q':
			b = append(b, gostring.Quote(clip(text))...)
		case 's':
			b = append(b, text...)
		case 'k':
			b = append(b, conflict.Kind(num).String()...)
		case 'n':
			b = strconv.AppendFloat(b, num, 'g', -1, 64)
		case 'a':
			b = append(b, gostring.Quote(rc.AppVersion)...)
		case 'b':
			b = strconv.AppendInt(b, int64(rc.Limits.WithDefaults().MaxBytes), 10)
		case 'd':
			b = strconv.AppendInt(b, int64(rc.Limits.WithDefaults().MaxDepth), 10)
		}
	}
	return &Error{Reason: report.reason, Detail: string(b)}
}

// reports holds each check's Reason and the words of its report, in Check
// order. In the words, %t stands for the message's type, %q for the text
// quoted (clipped to 40 bytes), %s for the text as it is, %k for num read
// as a conflict.Kind, %n for num, %a for the receiver's app version quoted,
// and %b and %d for its MaxBytes and MaxDepth. As a switch of string
// concatenations Reject was 8.1 KB of wasm code; with the table, 5.0 KB.
var reports = [numChecks]struct {
	reason Reason
	text   string
}{
	NotObject:        {Invalid, "not an object but %k"},
	TypeNotString:    {Invalid, "type is not a string"},
	TypeUnknown:      {UnknownType, "type %q"},
	TabNotID:         {Invalid, "tabId is not a tab id"},
	OwnTab:           {OwnID, "%t claims to come from this tab"},
	VersionNotNumber: {Invalid, "v (protocol version) is not a number"},
	VersionUnknown:   {ProtocolVersion, "protocol version %n, this tab speaks 1"},
	SeqNotPositive:   {Invalid, "seq is not a positive integer"},
	AppNotString:     {Invalid, "appVersion is not a string"},
	AppForeign:       {ForeignVersion, "appVersion %q differs from this tab's %a"},
	PayloadTooBig:    {Oversized, "%t payload is over %b bytes"},
	PayloadTooDeep:   {Oversized, "%t payload nests deeper than %d levels"},
	PayloadNotObject: {Invalid, "payload is not an object"},
	NoPayload:        {Invalid, "%t has no payload"},
	NoReq:            {Invalid, "%t has no req id"},
	NoAddressee:      {Invalid, "%t has no addressee"},
	StateNotObject:   {Invalid, "%t state or meta is not an object"},
	SeenNotObject:    {Invalid, "%t seen is not an object"},
	// No tab sends these (writing them into an object can change its
	// prototype): the message is forged.
	ForbiddenKey:        {Invalid, "%t carries key %s, which is never synced"},
	KeyVersionNotString: {Invalid, "version of key %q is not a string"},
	KeyVersionMalformed: {Invalid, "version of key %q is malformed"},
	KeyLineageMalformed: {Invalid, "lineage of key %q is malformed"},
	KeyLineageNotString: {Invalid, "lineage of key %q is not a string"},
	ToNotID:             {Invalid, "%t to is not a tab id"},
	StartedNotTime:      {Invalid, "%t started is not a time"},
	DigestNotShort:      {Invalid, "%t digest is not a short string"},
	FilterNotShort:      {Invalid, "%t filter is not a short string"},
	TermNotInteger:      {Invalid, "%t term is not an integer"},
	PriorityNotInteger:  {Invalid, "%t priority is not an integer"},
	NoLeader:            {Invalid, "%t names no leader"},
	GoneNotObject:       {Invalid, "%t gone is not an object"},
	KeyGoneNotString:    {Invalid, "removed fields of key %q are not a string"},
	KeyGoneMalformed:    {Invalid, "removed fields of key %q are malformed"},
}

// ParseEntryVersion reads a key's version as a message carries it: the
// version from meta, the lineage from seen and the removed fields from gone,
// which a key without them leaves out (hasLineage, hasGone false). A
// malformed one is KeyVersionMalformed, KeyLineageMalformed or
// KeyGoneMalformed.
func ParseEntryVersion(version string, lineage string, hasLineage bool, gone string, hasGone bool) (conflict.Version, Check) {
	v, ok := parseWireVersion(version)
	if !ok {
		return conflict.Version{}, KeyVersionMalformed
	}
	if hasLineage {
		if v.Lineage, ok = parseLineage(lineage); !ok {
			return conflict.Version{}, KeyLineageMalformed
		}
	}
	if hasGone {
		if v.Gone, ok = parseGone(gone); !ok {
			return conflict.Version{}, KeyGoneMalformed
		}
	}
	return v, Accepted
}
