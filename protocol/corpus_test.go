package protocol

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/internal/wirecorpus"
)

// TestWireCorpus decodes every message of testdata/wire as the receiver of
// its file: a golden message is accepted, and encoding what was decoded
// gives it back, field for field; a hostile one is rejected with its
// reason. Between them the goldens hold every message type and the hostile
// ones every reason Decode gives.
func TestWireCorpus(t *testing.T) {
	files, err := wirecorpus.Load("self")
	require.NoError(t, err)
	types, reasons := map[string]bool{}, map[string]bool{}
	for _, f := range files {
		rc := Receiver{Tab: "self", AppVersion: f.Receiver.AppVersion, Limits: Limits{MaxBytes: f.Receiver.MaxMessageBytes}}
		for _, c := range f.Cases {
			t.Run(f.Name+"/"+c.Name, func(t *testing.T) {
				raw := c.Value()
				msg, derr := Decode(gm, raw, rc)
				if !c.Accepted() {
					require.NotNil(t, derr, "accepted: %+v", msg)
					assert.Equal(t, c.Reason, derr.Reason.String(), derr.Error())
					reasons[c.Reason] = true
					return
				}
				require.Nil(t, derr)
				assert.Equal(t, raw, Encode(gm, msg), "Encode of the decoded message gives the golden back")
				types[msg.Type.String()] = true
			})
		}
	}
	for typ := StateUpdate; typ <= Heartbeat; typ++ {
		assert.True(t, types[typ.String()], "no golden %s", typ)
	}
	for _, r := range []Reason{Invalid, UnknownType, ProtocolVersion, ForeignVersion, Oversized, OwnID} {
		assert.True(t, reasons[r.String()], "no hostile message rejected as %s", r)
	}
}
