//go:build js && wasm

package tablebridge

import (
	"strings"
	"syscall/js"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/internal/exports"
	"github.com/tabsync/tabsync/internal/inbox"
	"github.com/tabsync/tabsync/tables"
)

// testGlue is the npm wrapper's side of the export (npm/src/tables.js:
// putGo, listen and _write) for the tests that drive the module without
// the wrapper: glue.put(a, b, c) writes a call's strings into the inbox,
// glue.listen is hooks.listen (glue.handle is the handle, for its kick),
// glue.write(op, n, table, key, json) is a set or delete.
func testGlue() js.Value {
	return js.Global().Get("Function").New("x", `
		const enc = new TextEncoder();
		const put = (a, b, c) => {
			const most = 8 + 3 * (a.length + b.length + c.length);
			const addr = x.tabsynctables(0, 0, 0, most);
			const v = new Uint8Array(x.mem.buffer, addr, most);
			const la = enc.encodeInto(a, v.subarray(8)).written;
			const lb = enc.encodeInto(b, v.subarray(8 + la)).written;
			const n = 8 + la + lb + enc.encodeInto(c, v.subarray(8 + la + lb)).written;
			const d = new DataView(x.mem.buffer, addr, 8);
			d.setUint32(0, la, true);
			d.setUint32(4, lb, true);
			return most > 8192 ? -n : n;
		};
		const dec = new TextDecoder();
		const g = {handle: null, put};
		g.text = (at, n) => dec.decode(new Uint8Array(x.mem.buffer, at, n));
		g.send = (ws, at, n) => ws.send(g.text(at, n));
		g.listen = (ws, id, sock) => {
			const f = (ev) => {
				const d = ev.data;
				const r = typeof d === 'string' ? x.tabsynctables(1, id, sock, put('', '', d)) : x.tabsynctables(2, id, sock, 0);
				if (r > 0) g.handle.kick();
			};
			ws.addEventListener('message', f);
			return f;
		};
		g.write = (op, n, table, key, json) => {
			const r = x.tabsynctables(op, g.handle.id, n, put(table, key, json));
			if (r > 0) g.handle.kick();
			return r;
		};
		return g;`).Invoke(exports.Find())
}

// The wrapper's encoding of a call and args agree: lengths in bytes of
// UTF-8 (not UTF-16 units), in the kept inbox and in one made for a call
// larger than it.
func TestArgsReadWhatTheWrapperWrote(t *testing.T) {
	g := testGlue()
	for _, c := range []struct {
		a, b, c string
		large   bool
	}{
		{"scores", "p1", `{"score":1500}`, false},
		{"", "", "", false},
		{"tâble", "ké\u2028y😀", `"\u0000é"`, false},
		{"t", "k", `"` + strings.Repeat("é😀", 3000) + `"`, true},
	} {
		n := int32(g.Call("put", c.a, c.b, c.c).Int())
		assert.Equal(t, c.large, n < 0, "a large call's count is negated")
		a, b, v, ok := args(n)
		require.True(t, ok)
		assert.Equal(t, c.a, string(a))
		assert.Equal(t, c.b, string(b))
		assert.Equal(t, c.c, string(v))
	}
	_, _, _, ok := args(inbox.Keep + 1)
	assert.False(t, ok, "a count past the inbox")
	_, _, _, ok = args(3)
	assert.False(t, ok, "a count shorter than the lengths")
}

// A call naming no instance, or one not started yet, returns -1, and the
// wrapper rejects the write (npm/src/tables.js _write).
func TestExportOfAnInstanceNotRunning(t *testing.T) {
	g := testGlue()
	g.Set("handle", map[string]any{"id": 99999})
	assert.Equal(t, -1, g.Call("write", opSet, 1, "t", "k", "1").Int())

	Install()
	h := js.Global().Get("__tabsyncTables").Call("create",
		js.ValueOf(map[string]any{"serverUrl": "ws://127.0.0.1:9/sync", "dbName": "not-started", "tabId": "t", "clientId": "c"}),
		js.ValueOf(map[string]any{"listen": g.Get("listen"), "send": g.Get("send")}))
	g.Set("handle", h)
	assert.Equal(t, -1, g.Call("write", opSet, 1, "t", "k", "1").Int(), "not started")
	h.Call("stop")
}

// A start that fails (a tab id the engine refuses) leaves no instance for
// the export to find: the wrapper retries with a new one.
func TestAStartThatFailsLeavesNoInstance(t *testing.T) {
	g := testGlue()
	Install()
	before := len(instances)
	h := js.Global().Get("__tabsyncTables").Call("create",
		js.ValueOf(map[string]any{"serverUrl": "ws://127.0.0.1:9/sync", "dbName": "start-fails", "tabId": "not an id!", "clientId": "c"}),
		js.ValueOf(map[string]any{"listen": g.Get("listen"), "send": g.Get("send")}))
	rejected := make(chan string, 1)
	f := js.FuncOf(func(_ js.Value, a []js.Value) any { rejected <- a[0].Call("toString").String(); return nil })
	defer f.Release()
	h.Call("start").Call("catch", f)
	select {
	case msg := <-rejected:
		assert.Contains(t, msg, "tab id")
	case <-time.After(20 * time.Second):
		t.Fatal("the start did not fail")
	}
	assert.Len(t, instances, before)
}

// An event's text reaches the hook whole and parses to the array the
// wrapper reads: strings with quotes, line separators and non-ASCII; a
// value larger than the buffer kept; a delete without a value; and after
// the memory grew (a view made before would be detached).
func TestAnEventsTextReachesTheHookWhole(t *testing.T) {
	g := testGlue()
	parse := func(ev tables.Event) js.Value {
		at, n := textArgs(appendEvent(textBuf(), ev))
		return js.Global().Get("JSON").Call("parse", g.Call("text", at, n))
	}
	big := `{"s":"` + strings.Repeat("é", inbox.Keep) + `"}`
	for _, ev := range []tables.Event{
		{Table: "scores", Operation: tables.OpSet, Key: "a\"b\n\u2028é😀", Value: `{"x":[1,2.5,null]}`, Origin: "server", Version: 1 << 40, OpID: "c.1", Timestamp: 1796195274438},
		{Table: "t", Operation: tables.OpSet, Key: "big", Value: big, Origin: "local", OpID: "c.2"},
		{Table: "t", Operation: tables.OpDelete, Key: "k", Origin: "tab", Version: 7, OpID: "c.3", Timestamp: 1},
	} {
		a := parse(ev)
		assert.Equal(t, ev.Table, a.Index(0).String())
		assert.Equal(t, ev.Operation, a.Index(1).String())
		assert.Equal(t, ev.Key, a.Index(2).String())
		assert.Equal(t, ev.Origin, a.Index(3).String())
		assert.Equal(t, ev.OpID, a.Index(4).String())
		assert.Equal(t, float64(ev.Version), a.Index(5).Float())
		assert.Equal(t, float64(ev.Timestamp), a.Index(6).Float())
		if ev.Operation == tables.OpSet {
			assert.Equal(t, ev.Value, js.Global().Get("JSON").Call("stringify", a.Index(7)).String())
		} else {
			assert.Equal(t, 7, a.Length(), "a delete has no value")
		}
	}
	assert.LessOrEqual(t, cap(textBuf()), inbox.Keep, "the buffer a large value grew is let go")
	grow := make([]byte, 32<<20) // grows the memory: its ArrayBuffer is a new one
	grow[len(grow)-1] = 1
	assert.Equal(t, "after", parse(tables.Event{Table: "t", Operation: tables.OpDelete, Key: "after"}).Index(2).String())
}

// BenchmarkEventToHook is the module's part of an event, the text made and
// the hook called, as it is since the text crosses in memory (new) and as
// it was, eight arguments of which five strings (old); the hook does
// nothing. Measured in Chromium.
func BenchmarkEventToHook(b *testing.B) {
	ev := tables.Event{Table: "scores", Operation: tables.OpSet, Key: "player-17", Value: `{"t":1796195274438.3,"i":17}`,
		Origin: "server", Version: 123, OpID: "c-abcdefgh-12345", Timestamp: 1796195274438}
	hook := js.Global().Get("Function").New("")
	b.Run("new", func(b *testing.B) {
		for b.Loop() {
			at, n := textArgs(appendEvent(textBuf(), ev))
			invoke("onEvent", hook, at, n)
		}
	})
	b.Run("old", func(b *testing.B) {
		for b.Loop() {
			invoke("onEvent", hook, ev.Table, ev.Operation, ev.Key, ev.Value, ev.Origin, float64(ev.Version), ev.OpID, float64(ev.Timestamp))
		}
	})
}
