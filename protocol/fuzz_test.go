package protocol

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzDecode feeds Decode any JSON-shaped value. Decode must never panic,
// and what it accepts must survive Encode and a second Decode unchanged.
func FuzzDecode(f *testing.F) {
	for _, msg := range sampleMessages() {
		msg.AppVersion = "" // the receiver below has none
		b, err := json.Marshal(Encode(gm, msg))
		require.NoError(f, err)
		f.Add(b)
	}
	for _, s := range []string{
		`null`, `[]`, `"STATE_UPDATE"`, `{}`,
		`{"type":"STATE_UPDATE","tabId":"self","v":1,"seq":1,"payload":{"state":{},"meta":{}}}`,
		`{"type":"STATE_UPDATE","tabId":"p","v":1,"seq":1,"payload":{"state":{"__proto__":{"x":1}},"meta":{"__proto__":"1.0.p||1"}}}`,
		`{"type":"STATE_UPDATE","tabId":"p","v":1,"seq":1,"payload":{"state":{"k":1},"meta":{"k":"1.0.p|1.0.p|1"}}}`,
		`{"type":"STATE_UPDATE","tabId":"p","v":1,"seq":1,"payload":{"state":{"k":[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]},"meta":{"k":"1.0.p||1"}}}`,
		`{"type":"STATE_RESPONSE","tabId":"p","v":1,"seq":9007199254740991,"payload":{"req":"r","to":"self","more":true,"state":{},"meta":{"a":"+1.0.p|01.2.q|3"}}}`,
		`{"type":"TAB_PING","tabId":"p","v":1,"seq":1,"payload":{"started":-0}}`,
		`{"type":"LEADER_ELECTION","tabId":"p","v":1,"seq":1,"payload":{"term":-0,"priority":-9007199254740991}}`,
		`{"type":"HEARTBEAT","tabId":"p","v":1,"seq":1e300,"payload":{"term":1,"leader":"p"}}`,
		`{"type":"TAB_PONG","tabId":"p","v":1.0000000001,"seq":1,"payload":{"to":"self","started":1}}`,
		`{"type":"STATE_REQUEST","tabId":"p","v":1,"seq":1,"appVersion":null,"payload":null}`,
	} {
		f.Add([]byte(s))
	}
	rc := Receiver{Tab: "self", AppVersion: "", Limits: Limits{MaxBytes: 4096, MaxDepth: 16}}
	f.Fuzz(func(t *testing.T, data []byte) {
		var raw any
		if json.Unmarshal(data, &raw) != nil {
			return
		}
		msg, err := Decode(gm, raw, rc)
		if err != nil {
			if msg.Type != 0 || err.Reason == OK {
				t.Fatalf("rejected with %v but returned %+v", err.Reason, msg)
			}
			return
		}
		again, err := Decode(gm, Encode(gm, msg), rc)
		if err != nil {
			t.Fatalf("re-encoded message rejected: %v\nmessage: %+v", err, msg)
		}
		require.Equal(t, msg, again)
	})
}
