//go:build !js

package server_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/server"
	"github.com/tabsync/tabsync/tableproto"
)

// Hostile input: each kind gets its error code, nothing stored changes, the
// connection stays usable, and the relay keeps serving another client.
func TestHostileInput(t *testing.T) {
	s := start(t, &server.Options{MaxValueBytes: 64 << 10, OpsPerSecond: 20})
	good := dial(t, s)
	ctx := ctx10(t)
	_, err := good.Set(ctx, "h", "k", "v")
	require.NoError(t, err)
	require.NoError(t, good.Subscribe(ctx, "h"))
	before, v0 := good.Rows("h")

	op := func(rest string) string {
		return `{"type":"operation","table":"h","opId":"o1",` + rest + `}`
	}
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	cases := []struct {
		name string
		in   string
		want tableproto.Code
	}{
		{"not JSON", `{"type":`, tableproto.CodeBadMessage},
		{"a JSON array", `[{"type":"ping"}]`, tableproto.CodeBadMessage},
		{"a JSON string", `"operation"`, tableproto.CodeBadMessage},
		{"null", `null`, tableproto.CodeBadMessage},
		{"no type", `{"table":"h"}`, tableproto.CodeBadMessage},
		{"type of the wrong type", `{"type":7}`, tableproto.CodeBadMessage},
		{"unknown type", `{"type":"drop_table","table":"h"}`, tableproto.CodeUnknownType},
		{"a server frame from a client", `{"type":"update","table":"h","tableVersion":99,"payload":{"operation":"delete","key":"k"}}`, tableproto.CodeUnknownType},
		{"payload not an object", op(`"payload":"set k"`), tableproto.CodeBadMessage},
		{"payload without key", op(`"payload":{"operation":"set","value":1}`), tableproto.CodeBadMessage},
		{"key of the wrong type", op(`"payload":{"operation":"set","key":{"a":1},"value":1}`), tableproto.CodeBadMessage},
		{"unknown operation", op(`"payload":{"operation":"drop","key":"k"}`), tableproto.CodeBadMessage},
		{"set without value", op(`"payload":{"operation":"set","key":"k"}`), tableproto.CodeBadMessage},
		{"delete with a value", op(`"payload":{"operation":"delete","key":"k","value":1}`), tableproto.CodeBadMessage},
		{"table with a dot", `{"type":"operation","table":"h.x","opId":"o1","payload":{"operation":"delete","key":"k"}}`, tableproto.CodeBadTable},
		{"table with a wildcard", `{"type":"subscribe","table":"*"}`, tableproto.CodeBadTable},
		{"table too long", `{"type":"subscribe","table":"` + strings.Repeat("t", 65) + `"}`, tableproto.CodeBadTable},
		{"empty key", op(`"payload":{"operation":"delete","key":""}`), tableproto.CodeBadKey},
		{"key too long", op(`"payload":{"operation":"delete","key":"` + strings.Repeat("k", 1025) + `"}`), tableproto.CodeBadKey},
		{"opId with a space", `{"type":"operation","table":"h","opId":"o 1","payload":{"operation":"delete","key":"k"}}`, tableproto.CodeBadOpID},
		{"opId missing", `{"type":"operation","table":"h","payload":{"operation":"delete","key":"k"}}`, tableproto.CodeBadOpID},
		{"forged originId", op(`"originId":"someone_else","payload":{"operation":"set","key":"k","value":1}`), tableproto.CodeBadMessage},
		{"forged tableVersion", op(`"tableVersion":1000000,"payload":{"operation":"set","key":"k","value":1}`), tableproto.CodeBadMessage},
		{"huge value", op(`"payload":{"operation":"set","key":"k","value":"` + strings.Repeat("x", 70<<10) + `"}`), tableproto.CodeValueTooBig},
		{"deeply nested value", op(`"payload":{"operation":"set","key":"k","value":` + deep + `}`), tableproto.CodeTooDeep},
		{"negative since", `{"type":"subscribe","table":"h","since":-1}`, tableproto.CodeBadMessage},
		{"since as a string", `{"type":"subscribe","table":"h","since":"0"}`, tableproto.CodeBadMessage},
		{"second hello", `{"type":"hello","v":1}`, tableproto.CodeHelloRequired},
	}
	r := dialRaw(t, s)
	r.hello("")
	for _, c := range cases {
		r.sendText(c.in)
		f := r.expect(tableproto.Error)
		assert.Equal(t, c.want, f.Code, "%s: %s", c.name, f.Message)
		assert.NotEmpty(t, f.Message, c.name)
		r.send(tableproto.Frame{Type: tableproto.Ping, ID: c.name})
		assert.Equal(t, c.name, r.expect(tableproto.Pong).ID, "the connection stays usable after %s", c.name)
	}

	// A binary frame.
	bctx := ctx10(t)
	require.NoError(t, r.ws.Write(bctx, websocket.MessageBinary, []byte(`{"type":"ping"}`)))
	r.expectError(tableproto.CodeBadMessage)

	// A since in the future: sinceAhead, then a snapshot.
	r.send(tableproto.Frame{Type: tableproto.Subscribe, Table: "h", Since: 1 << 40})
	r.expectError(tableproto.CodeSinceAhead)
	r.expect(tableproto.Snapshot)
	r.expect(tableproto.Synced)

	// A flood of operations: beyond 20 per second they are refused, not
	// stored; the ones acked are.
	var acked, limited int
	for i := 0; i < 60; i++ {
		r.send(tableproto.Frame{Type: tableproto.Operation, Table: "flood", OpID: "f" + strconv.Itoa(i),
			Change: tableproto.Change{Operation: tableproto.Set, Key: "k", Value: tableproto.RawValue("1")}})
	}
	for acked+limited < 60 {
		f := r.next()
		switch {
		case f.Type == tableproto.Ack:
			acked++
		case f.Type == tableproto.Error && f.Code == tableproto.CodeRateLimited:
			limited++
		}
	}
	assert.Greater(t, limited, 0)
	assert.Greater(t, acked, 0)
	fl := dial(t, s)
	require.NoError(t, fl.Subscribe(ctx, "flood"))
	_, fv := fl.Rows("flood")
	assert.Equal(t, uint64(acked), fv, "exactly the acked operations were stored")

	// Nothing stored in "h" changed, and the relay serves the good client.
	after, v1 := good.Rows("h")
	assert.Equal(t, before, after)
	assert.Equal(t, v0, v1)
	v, err := good.Set(ctx, "h", "k2", 2)
	require.NoError(t, err)
	assert.Equal(t, v0+1, v)
	for _, c := range cases {
		assert.Positive(t, s.ErrorCount(c.want), c.name)
	}
}
