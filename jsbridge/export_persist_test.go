//go:build js && wasm && !nopersist

package jsbridge

import (
	"syscall/js"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestDestroyFromACallbackOfAPersistingInstanceLeavesNoConsoleError: an
// instance that persists is destroyed from its own onRemoteUpdate, called
// inside the export (tabsync(1, ...)). Destroy releases the instance's
// kick, and the watcher's listener no longer calls it when the export
// returns (it did, and syscall/js logged "call to released function").
func TestDestroyFromACallbackOfAPersistingInstanceLeavesNoConsoleError(t *testing.T) {
	console := jsTest.Call("captureConsole", "error")
	defer console.Call("restore")
	channel := uniqueName(t, "ch")
	holder := jsEval("{}")
	a := newInstance(t, jsTest.Call("createStore", jsEval("{n: 0}")), jsEval("{throttleMs: 0, channelName: '"+channel+"'}"))
	cfg := jsEval("{throttleMs: 0, channelName: '" + channel + "', persist: {dbName: '" + uniqueName(t, "db") + "'}}")
	cfg.Set("onRemoteUpdate", jsFunc("", "this.h.destroy();").Call("bind", holder))
	b := newInstance(t, jsTest.Call("createStore", jsEval("{n: 0}")), cfg)
	holder.Set("h", b.h)
	a.start()
	p := b.h.Call("start")
	if p.Type() == js.TypeObject {
		await(t, "the restore", p)
	}
	eventually(t, "two tabs", func() bool { return a.connected() == 2 && b.connected() == 2 })

	a.set("{n: 1}")

	eventually(t, "b to apply and be destroyed", func() bool { return b.get("n") == "1" && !b.s.Active() })
	pause(50 * time.Millisecond)
	assert.Empty(t, b.errors())
	assert.Equal(t, 0, console.Get("lines").Length(), "console.error: %v", jsJSON(console.Get("lines")))
}
