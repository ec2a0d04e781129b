//go:build js && wasm

package jsbridge

import (
	"syscall/js"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/internal/wirecorpus"
)

// TestWireCorpus posts every message of testdata/wire, parsed by the
// browser's JSON.parse, onto a real BroadcastChannel where an instance
// configured as its file's receiver listens. An accepted message is
// received and not dropped; a rejected one is dropped under its reason, and
// the first drop of each reason is reported through onError (phase
// protocol).
func TestWireCorpus(t *testing.T) {
	names, err := wirecorpus.Load("self")
	require.NoError(t, err)
	for _, named := range names {
		t.Run(named.Name, func(t *testing.T) {
			cfg := jsEval("{throttleMs: 0}")
			cfg.Set("channelName", uniqueName(t, "ch"))
			if named.Receiver.AppVersion != "" {
				cfg.Set("appVersion", named.Receiver.AppVersion)
			}
			if named.Receiver.MaxMessageBytes > 0 {
				cfg.Set("maxMessageBytes", named.Receiver.MaxMessageBytes)
			}
			in := newInstance(t, jsTest.Call("createStore", jsEval("{}"), jsEval("{}")), cfg)
			in.start()
			w := watch(t, in)
			files, err := wirecorpus.Load(in.tab)
			require.NoError(t, err)
			var f wirecorpus.File
			for _, x := range files {
				if x.Name == named.Name {
					f = x
				}
			}
			reported := map[string]bool{}
			for _, c := range f.Cases {
				before := in.stats()
				received, dropped := before.Get("received").Int(), before.Get("dropped").Int()
				errs := len(in.errors())
				w.Call("post", js.Global().Get("JSON").Call("parse", string(c.Message)))
				eventually(t, c.Name+" to be received", func() bool { return in.stats().Get("received").Int() == received+1 })
				after := in.stats()
				if c.Accepted() {
					assert.Equal(t, dropped, after.Get("dropped").Int(), "%s: dropped", c.Name)
					assert.Len(t, in.errors(), errs, "%s: nothing reported", c.Name)
					continue
				}
				assert.Equal(t, dropped+1, after.Get("dropped").Int(), "%s: dropped", c.Name)
				assert.Equal(t, before.Get("droppedByReason").Get(c.Reason).Int()+1, after.Get("droppedByReason").Get(c.Reason).Int(),
					"%s: dropped as %s", c.Name, c.Reason)
				if !reported[c.Reason] {
					reported[c.Reason] = true
					if assert.Len(t, in.errors(), errs+1, "%s: the first drop as %s is reported", c.Name, c.Reason) {
						assert.Contains(t, in.errors()[errs], "protocol: ", c.Name)
					}
				}
			}
			assertNoPollution(t, in)
		})
	}
}
