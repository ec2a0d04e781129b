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
	lim := rc.Limits.WithDefaults()
	t := typ.String()
	r, detail := Invalid, ""
	switch c {
	case NotObject:
		detail = "not an object but " + conflict.Kind(num).String()
	case TypeNotString:
		detail = "type is not a string"
	case TypeUnknown:
		r, detail = UnknownType, "type "+gostring.Quote(clip(text))
	case TabNotID:
		detail = "tabId is not a tab id"
	case OwnTab:
		r, detail = OwnID, t+" claims to come from this tab"
	case VersionNotNumber:
		detail = "v (protocol version) is not a number"
	case VersionUnknown:
		r, detail = ProtocolVersion, "protocol version "+strconv.FormatFloat(num, 'g', -1, 64)+", this tab speaks 1"
	case SeqNotPositive:
		detail = "seq is not a positive integer"
	case AppNotString:
		detail = "appVersion is not a string"
	case AppForeign:
		r, detail = ForeignVersion, "appVersion "+gostring.Quote(clip(text))+" differs from this tab's "+gostring.Quote(rc.AppVersion)
	case PayloadTooBig:
		r, detail = Oversized, t+" payload is over "+strconv.Itoa(lim.MaxBytes)+" bytes"
	case PayloadTooDeep:
		r, detail = Oversized, t+" payload nests deeper than "+strconv.Itoa(lim.MaxDepth)+" levels"
	case PayloadNotObject:
		detail = "payload is not an object"
	case NoPayload:
		detail = t + " has no payload"
	case NoReq:
		detail = t + " has no req id"
	case NoAddressee:
		detail = t + " has no addressee"
	case StateNotObject:
		detail = t + " state or meta is not an object"
	case SeenNotObject:
		detail = t + " seen is not an object"
	case ForbiddenKey:
		// No tab sends these (writing them into an object can change
		// its prototype): the message is forged.
		detail = t + " carries key " + text + ", which is never synced"
	case KeyVersionNotString:
		detail = "version of key " + gostring.Quote(clip(text)) + " is not a string"
	case KeyVersionMalformed:
		detail = "version of key " + gostring.Quote(clip(text)) + " is malformed"
	case KeyLineageMalformed:
		detail = "lineage of key " + gostring.Quote(clip(text)) + " is malformed"
	case KeyLineageNotString:
		detail = "lineage of key " + gostring.Quote(clip(text)) + " is not a string"
	case ToNotID:
		detail = t + " to is not a tab id"
	case StartedNotTime:
		detail = t + " started is not a time"
	case DigestNotShort:
		detail = t + " digest is not a short string"
	case FilterNotShort:
		detail = t + " filter is not a short string"
	case TermNotInteger:
		detail = t + " term is not an integer"
	case PriorityNotInteger:
		detail = t + " priority is not an integer"
	case NoLeader:
		detail = t + " names no leader"
	case GoneNotObject:
		detail = t + " gone is not an object"
	case KeyGoneNotString:
		detail = "removed fields of key " + gostring.Quote(clip(text)) + " are not a string"
	case KeyGoneMalformed:
		detail = "removed fields of key " + gostring.Quote(clip(text)) + " are malformed"
	default:
		detail = "rejected (" + c.String() + ")"
	}
	return &Error{Reason: r, Detail: detail}
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
