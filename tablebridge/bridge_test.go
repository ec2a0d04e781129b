//go:build js && wasm

package tablebridge

import (
	"os"
	"strconv"
	"syscall/js"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/tabsync/tabsync/tableproto"
)

func TestEncodeFrameWritesTheProtocolsJSON(t *testing.T) {
	f := tableproto.Frame{Type: tableproto.Operation, Table: "scores", OpID: "t.1",
		Change: tableproto.Change{Operation: tableproto.Set, Key: "a\"b\n\u2028é", Value: tableproto.RawValue(`{"x":1}`)}}
	got := frameText(f)
	assert.Equal(t, `{"type":"operation","table":"scores","opId":"t.1","payload":{"operation":"set","key":"a\"b\u000a\u2028é","value":{"x":1}}}`, got)
	parsed := jsJSON.Call("parse", got)
	assert.Equal(t, "a\"b\n\u2028é", parsed.Get("payload").Get("key").String())
	assert.Equal(t, `{"type":"hello","v":1,"clientId":"c","token":"s"}`,
		frameText(tableproto.Frame{Type: tableproto.Hello, V: 1, ClientID: "c", Token: "s"}))
	assert.Equal(t, `{"type":"subscribe","table":"t","since":7}`, frameText(tableproto.Frame{Type: tableproto.Subscribe, Table: "t", Since: 7}))
}

// awaitPromise waits for a JavaScript promise.
func awaitPromise(t *testing.T, p js.Value) js.Value {
	t.Helper()
	done := make(chan js.Value, 1)
	fail := make(chan string, 1)
	p.Call("then", js.FuncOf(func(_ js.Value, a []js.Value) any {
		if len(a) > 0 {
			done <- a[0]
		} else {
			done <- js.Undefined()
		}
		return nil
	}), js.FuncOf(func(_ js.Value, a []js.Value) any { fail <- a[0].Call("toString").String(); return nil }))
	select {
	case v := <-done:
		return v
	case msg := <-fail:
		t.Fatal(msg)
	case <-time.After(20 * time.Second):
		t.Fatal("the promise did not settle")
	}
	return js.Undefined()
}

// Against a real tabsync-server (TestWasm in wasm_test.go starts one): a
// write is stored, sent, acknowledged, and the event says 'local'.
func TestAgainstARealServer(t *testing.T) {
	u := os.Getenv("TABSYNC_SERVER_URL")
	if u == "" {
		t.Skip("TABSYNC_SERVER_URL is not set: run through TestWasm (make wasm-test)")
	}
	Install()
	var origins []string
	statuses := make(chan string, 64)
	settled := make(chan string, 1)
	glue := testGlue()
	hooks := js.ValueOf(map[string]any{
		"listen": glue.Get("listen"),
		"send":   glue.Get("send"),
		"onSettled": js.FuncOf(func(_ js.Value, a []js.Value) any {
			if a[2].String() != "" {
				settled <- "rejected " + a[2].String()
			} else {
				settled <- "resolved " + a[1].String()
			}
			return nil
		}),
		"onEvent": js.FuncOf(func(_ js.Value, a []js.Value) any {
			origins = append(origins, js.Global().Get("JSON").Call("parse", glue.Call("text", a[0], a[1])).Index(3).String())
			return nil
		}),
		"onStatus": js.FuncOf(func(_ js.Value, a []js.Value) any {
			select {
			case statuses <- a[0].String() + "/" + strconv.Itoa(a[1].Int()):
			default:
			}
			return nil
		}),
		"onError": js.FuncOf(func(_ js.Value, a []js.Value) any { t.Log("onError:", a[0].Get("message").String()); return nil }),
	})
	opts := js.ValueOf(map[string]any{"serverUrl": u, "dbName": "wasm-test", "tabId": "wasmtab", "clientId": "wasm-client",
		"tables": []any{"scores"}})
	h := js.Global().Get("__tabsyncTables").Call("create", opts, hooks)
	glue.Set("handle", h)
	awaitPromise(t, h.Call("start"))
	wait := func(want string) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			select {
			case s := <-statuses:
				if s == want {
					return
				}
			case <-deadline:
				t.Fatalf("status never became %s (now %s/%d)", want, h.Call("status").String(), h.Call("pending").Int())
			}
		}
	}
	waitSettled := func() string {
		t.Helper()
		select {
		case v := <-settled:
			return v
		case <-time.After(20 * time.Second):
			t.Fatal("the write did not settle")
		}
		return ""
	}
	wait("online/0")
	// A write enters through the export (as the npm wrapper makes it) and
	// settles through onSettled once committed.
	assert.Equal(t, 0, glue.Call("write", opSet, 1, "scores", "p1", `{"score":1500}`).Int()&^1)
	assert.Regexp(t, `^resolved .+`, waitSettled())
	wait("online/0")
	assert.Equal(t, `{"score":1500}`, h.Call("get", "scores", "p1").String())
	assert.Equal(t, []string{"local"}, origins)
	assert.True(t, h.Call("leading").Bool())

	glue.Call("write", opSet, 2, "scores", "p2", `{"score":7}`)
	assert.Regexp(t, `^resolved .+`, waitSettled())
	assert.Equal(t, `{"score":7}`, h.Call("get", "scores", "p2").String())
	glue.Call("write", opDelete, 3, "scores", "p2", "")
	assert.Regexp(t, `^resolved .+`, waitSettled())
	assert.True(t, h.Call("get", "scores", "p2").IsUndefined())
	h.Call("stop")
	assert.Equal(t, -1, glue.Call("write", opDelete, 4, "scores", "p1", "").Int(), "a stopped instance is no longer in the export's table")
}

// BenchmarkReadUpdate is the module's work on a server update before the
// engine gets it: the message's text copied into Go, then readFrame.
func BenchmarkReadUpdate(b *testing.B) {
	data := js.ValueOf(updateText)
	for b.Loop() {
		f, _, err := readFrame(data.String())
		if err != nil || f.TableVersion != 123 {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadUpdateJS is what the module did before readFrame, for
// comparison: JSON.parse, then a js.Value per field, and JSON.stringify of
// the value.
func BenchmarkReadUpdateJS(b *testing.B) {
	data := js.ValueOf(updateText)
	for b.Loop() {
		v := jsJSON.Call("parse", data)
		f := tableproto.Frame{Type: tableproto.Type(v.Get("type").String())}
		for _, name := range []string{"v", "clientId", "table", "opId", "tableVersion", "originId", "timestamp", "duplicate", "more", "code", "message", "id"} {
			x := v.Get(name)
			switch x.Type() {
			case js.TypeString:
				f.Table = x.String()
			case js.TypeNumber:
				f.TableVersion = uint64(x.Float())
			}
		}
		p := v.Get("payload")
		f.Change = tableproto.Change{Operation: tableproto.Op(p.Get("operation").String()), Key: p.Get("key").String(),
			Value: tableproto.RawValue(jsJSON.Call("stringify", p.Get("value")).String())}
	}
}

func frameText(f tableproto.Frame) string { return string(appendFrame(nil, f)) }
