package protocol

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestRejectWritesEveryReport pins the words of each drop report (and its
// reason), whichever decoder named the check: they reach the page through
// onError and the stats.
func TestRejectWritesEveryReport(t *testing.T) {
	rc := Receiver{AppVersion: "v\"2", Limits: Limits{MaxBytes: 1000, MaxDepth: 7}}
	key := "k\u00e9y \"1\" is a rather long key of more than forty bytes"
	for _, want := range []struct {
		check  Check
		reason Reason
		detail string
	}{
		{Accepted, Invalid, "rejected (accepted)"},
		{NotObject, Invalid, "not an object but number"},
		{TypeNotString, Invalid, "type is not a string"},
		{TypeUnknown, UnknownType, "type \"kéy \\\"1\\\" is a rather long key of more th…\""},
		{TabNotID, Invalid, "tabId is not a tab id"},
		{OwnTab, OwnID, "STATE_UPDATE claims to come from this tab"},
		{VersionNotNumber, Invalid, "v (protocol version) is not a number"},
		{VersionUnknown, ProtocolVersion, "protocol version 3, this tab speaks 1"},
		{SeqNotPositive, Invalid, "seq is not a positive integer"},
		{AppNotString, Invalid, "appVersion is not a string"},
		{AppForeign, ForeignVersion, "appVersion \"kéy \\\"1\\\" is a rather long key of more th…\" differs from this tab's \"v\\\"2\""},
		{PayloadTooBig, Oversized, "STATE_UPDATE payload is over 1000 bytes"},
		{PayloadTooDeep, Oversized, "STATE_UPDATE payload nests deeper than 7 levels"},
		{PayloadNotObject, Invalid, "payload is not an object"},
		{NoPayload, Invalid, "STATE_UPDATE has no payload"},
		{NoReq, Invalid, "STATE_UPDATE has no req id"},
		{NoAddressee, Invalid, "STATE_UPDATE has no addressee"},
		{StateNotObject, Invalid, "STATE_UPDATE state or meta is not an object"},
		{SeenNotObject, Invalid, "STATE_UPDATE seen is not an object"},
		{ForbiddenKey, Invalid, "STATE_UPDATE carries key kéy \"1\" is a rather long key of more than forty bytes, which is never synced"},
		{KeyVersionNotString, Invalid, "version of key \"kéy \\\"1\\\" is a rather long key of more th…\" is not a string"},
		{KeyVersionMalformed, Invalid, "version of key \"kéy \\\"1\\\" is a rather long key of more th…\" is malformed"},
		{KeyLineageMalformed, Invalid, "lineage of key \"kéy \\\"1\\\" is a rather long key of more th…\" is malformed"},
		{KeyLineageNotString, Invalid, "lineage of key \"kéy \\\"1\\\" is a rather long key of more th…\" is not a string"},
		{ToNotID, Invalid, "STATE_UPDATE to is not a tab id"},
		{StartedNotTime, Invalid, "STATE_UPDATE started is not a time"},
		{DigestNotShort, Invalid, "STATE_UPDATE digest is not a short string"},
		{FilterNotShort, Invalid, "STATE_UPDATE filter is not a short string"},
		{TermNotInteger, Invalid, "STATE_UPDATE term is not an integer"},
		{PriorityNotInteger, Invalid, "STATE_UPDATE priority is not an integer"},
		{NoLeader, Invalid, "STATE_UPDATE names no leader"},
		{GoneNotObject, Invalid, "STATE_UPDATE gone is not an object"},
		{KeyGoneNotString, Invalid, "removed fields of key \"kéy \\\"1\\\" is a rather long key of more th…\" are not a string"},
		{KeyGoneMalformed, Invalid, "removed fields of key \"kéy \\\"1\\\" is a rather long key of more th…\" are malformed"},
		{numChecks, Invalid, "rejected (check(34))"},
	} {
		e := Reject(want.check, StateUpdate, key, 3, rc)
		assert.Equal(t, want.reason, e.Reason, "%v", want.check)
		assert.Equal(t, want.detail, e.Detail, "%v", want.check)
	}
	e := Reject(NotObject, 0, "", 1.5e300, Receiver{})
	assert.Equal(t, &Error{Reason: Invalid, Detail: "not an object but undefined"}, e)
	e = Reject(VersionUnknown, 0, "", 1.5e300, Receiver{})
	assert.Equal(t, &Error{Reason: ProtocolVersion, Detail: "protocol version 1.5e+300, this tab speaks 1"}, e)
	e = Reject(PayloadTooBig, StateRequest, "", 0, Receiver{})
	assert.Equal(t, &Error{Reason: Oversized, Detail: "STATE_REQUEST payload is over 4194304 bytes"}, e, "the default limit")
	e = Reject(NoPayload, 0, "", 0, Receiver{})
	assert.Equal(t, &Error{Reason: Invalid, Detail: "UNKNOWN has no payload"}, e, "a type not known yet")
}
