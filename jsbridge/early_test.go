//go:build js && wasm

package jsbridge

import (
	"strconv"
	"strings"
	"syscall/js"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The wrapper replays a start() made before the module loaded as
// start({state, keys, at}): the state when the app called start(), and the
// keys changed since, each with the time of its last change. Those keys are
// writes made at those times; the rest of the state yields to the tabs
// already open.
func TestStartTakesTheChangesMadeWhileTheModuleLoaded(t *testing.T) {
	channel := uniqueName(t, "ch")
	cfg := func() js.Value {
		c := jsEval("{throttleMs: 0}")
		c.Set("channelName", channel)
		return c
	}
	open := newInstance(t, jsTest.Call("createStore", jsEval("{count: 0, label: 'default', other: 0}"), jsEval("{}")), cfg())
	open.start()
	open.set("{count: 1, label: 'open', other: 1}")
	pause(20 * time.Millisecond)

	// The app started at t0 with the state below, then changed count at
	// t1 and other at t2, all before this module existed.
	t2 := int64(jsEval("Date.now()").Float()) - 2
	t1 := t2 - 3
	late := newInstance(t, jsTest.Call("createStore", jsEval("{count: 7, label: 'default', other: 8}"), jsEval("{}")), cfg())
	w := watch(t, late)
	early := jsEval("({state: {count: 0, label: 'default', other: 0}, keys: ['count', 'other']})")
	early.Set("at", js.ValueOf([]any{t1, t2}))
	late.h.Call("start", early)

	eventually(t, "the open tab to take the early writes", func() bool {
		return open.get("count") == "7" && open.get("other") == "8"
	})
	eventually(t, "the late tab to take the label it had not changed", func() bool { return late.get("label") == `"open"` })
	pause(50 * time.Millisecond) // a STATE_RESPONSE or a ping arriving late changes nothing
	assert.Equal(t, "7", late.get("count"))
	assert.Equal(t, "8", late.get("other"))
	assert.Equal(t, "7", open.get("count"))
	assert.Equal(t, `"open"`, open.get("label"))

	updates := fromTab(w, late.tab, "STATE_UPDATE")
	require.NotEmpty(t, updates)
	meta := updates[0].Get("payload").Get("meta")
	assert.True(t, strings.HasPrefix(meta.Get("count").String(), strconv.FormatInt(t1, 10)+"."), "count written at t1: %s", meta.Get("count").String())
	assert.True(t, strings.HasPrefix(meta.Get("other").String(), strconv.FormatInt(t2, 10)+"."), "other written at t2: %s", meta.Get("other").String())
	assert.True(t, updates[0].Get("payload").Get("state").Get("label").IsUndefined(), "the initial label is not sent")
	assert.Empty(t, open.errors())
	assert.Empty(t, late.errors())
}
