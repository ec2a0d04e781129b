//go:build !js

package server_test

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/client"
	"github.com/tabsync/tabsync/server"
	"github.com/tabsync/tabsync/tableproto"
)

func TestAuth(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tokens")
	require.NoError(t, os.WriteFile(file, []byte("# readers\nreader-token-1 read-only tables=pub_\nwriter-token-2 tables=pub_,team_\n"), 0o600))
	toks, err := server.ReadTokenFile(file)
	require.NoError(t, err)
	toks = append(toks, server.Token{Secret: "admin-token-3"})
	s := start(t, &server.Options{Tokens: toks})

	for name, tok := range map[string]string{"no token": "", "wrong token": "admin-token-4", "a prefix of a token": "admin-token"} {
		r := dialRaw(t, s)
		r.send(tableproto.Frame{Type: tableproto.Hello, V: 1, Token: tok})
		r.expectError(tableproto.CodeUnauthorized)
		r.expectClosed(websocket.StatusPolicyViolation)
		_ = name
	}
	assert.Equal(t, int64(3), s.ErrorCount(tableproto.CodeUnauthorized))

	// A frame before hello ends the connection.
	r := dialRaw(t, s)
	r.send(tableproto.Frame{Type: tableproto.Subscribe, Table: "pub_x"})
	r.expectError(tableproto.CodeHelloRequired)
	r.expectClosed(websocket.StatusPolicyViolation)

	ctx := ctx10(t)
	admin := dial(t, s, func(o *client.Options) { o.Token = "admin-token-3" })
	_, err = admin.Set(ctx, "pub_news", "n1", "hello")
	require.NoError(t, err)

	reader := dial(t, s, func(o *client.Options) { o.Token = "reader-token-1" })
	require.NoError(t, reader.Subscribe(ctx, "pub_news"))
	assert.Equal(t, map[string]any{"n1": "hello"}, rowsOf(t, reader, "pub_news"))
	_, err = reader.Set(ctx, "pub_news", "n2", "x")
	var se *client.ServerError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, tableproto.CodeForbidden, se.Code)
	err = reader.Subscribe(ctx, "secret")
	require.ErrorAs(t, err, &se)
	assert.Equal(t, tableproto.CodeForbidden, se.Code)

	writer := dial(t, s, func(o *client.Options) { o.Token = "writer-token-2" })
	_, err = writer.Set(ctx, "team_a", "k", 1)
	require.NoError(t, err)
	_, err = writer.Set(ctx, "other", "k", 1)
	require.ErrorAs(t, err, &se)
	assert.Equal(t, tableproto.CodeForbidden, se.Code)

	// The hello timeout.
	s2 := start(t, &server.Options{HelloTimeout: 200 * time.Millisecond})
	r2 := dialRaw(t, s2)
	r2.expectError(tableproto.CodeAuthTimeout)
	r2.expectClosed(websocket.StatusPolicyViolation)
}

func TestAllowOrigin(t *testing.T) {
	s := start(t, &server.Options{AllowOrigins: []string{"app.example.com"}})
	ctx := ctx10(t)
	_, resp, err := websocket.Dial(ctx, s.URL(), &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"https://evil.example.org"}}})
	require.Error(t, err)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	r := dialRaw(t, s, "Origin", "https://app.example.com")
	r.hello("")
}

func TestLimits(t *testing.T) {
	ctx := ctx10(t)
	t.Run("message bytes", func(t *testing.T) {
		s := start(t, &server.Options{MaxMessageBytes: 16 << 10, MaxValueBytes: 8 << 10, MaxQueueBytes: 16 << 10})
		r := dialRaw(t, s)
		r.hello("")
		r.sendText(`{"type":"ping","id":"` + strings.Repeat("x", 17<<10) + `"}`)
		r.expectClosed(websocket.StatusMessageTooBig)
		assert.Eventually(t, func() bool { return s.ErrorCount(tableproto.CodeMessageTooBig) == 1 }, 5*time.Second, 10*time.Millisecond)
	})
	t.Run("tables per connection", func(t *testing.T) {
		s := start(t, &server.Options{MaxTables: 2})
		c := dial(t, s)
		require.NoError(t, c.Subscribe(ctx, "a"))
		require.NoError(t, c.Subscribe(ctx, "b"))
		require.NoError(t, c.Subscribe(ctx, "a"), "subscribing again is no new table")
		var se *client.ServerError
		require.ErrorAs(t, c.Subscribe(ctx, "c"), &se)
		assert.Equal(t, tableproto.CodeTooManyTables, se.Code)
	})
	t.Run("operations per second", func(t *testing.T) {
		s := start(t, &server.Options{OpsPerSecond: 5})
		r := dialRaw(t, s)
		r.hello("")
		for i := 0; i < 12; i++ {
			r.send(tableproto.Frame{Type: tableproto.Operation, Table: "t", OpID: "o" + strconv.Itoa(i),
				Change: tableproto.Change{Operation: tableproto.Set, Key: "k", Value: tableproto.RawValue("1")}})
		}
		limited := 0
		for i := 0; i < 12; i++ {
			if f := r.next(); f.Type == tableproto.Error {
				assert.Equal(t, tableproto.CodeRateLimited, f.Code)
				assert.True(t, f.Code.Retry())
				limited++
			}
		}
		assert.GreaterOrEqual(t, limited, 6)
		// The client library waits and sends again.
		c := dial(t, s)
		for i := 0; i < 8; i++ {
			_, err := c.Set(ctx, "t", "k"+strconv.Itoa(i), i)
			require.NoError(t, err)
		}
	})
	t.Run("connections", func(t *testing.T) {
		s := start(t, &server.Options{MaxConnections: 2})
		dialRaw(t, s).hello("")
		dialRaw(t, s).hello("")
		r := dialRaw(t, s)
		r.expectError(tableproto.CodeTooManyConnections)
		r.expectClosed(websocket.StatusTryAgainLater)
	})
	t.Run("idle timeout", func(t *testing.T) {
		// Pings 200 ms apart keep open a connection that closes after 2 s
		// of silence: the wide margin keeps a loaded machine's scheduling
		// delays (a 300 ms timeout failed under load 24) from closing it.
		s := start(t, &server.Options{IdleTimeout: 2 * time.Second})
		r := dialRaw(t, s)
		w := r.hello("")
		assert.Equal(t, int64(2000), w.Limits.IdleTimeoutMs)
		for i := 0; i < 4; i++ { // pings keep it open
			time.Sleep(200 * time.Millisecond)
			r.send(tableproto.Frame{Type: tableproto.Ping})
			r.expect(tableproto.Pong)
		}
		r.expectError(tableproto.CodeIdleTimeout)
		r.expectClosed(websocket.StatusGoingAway)
	})
	t.Run("slow consumer", func(t *testing.T) {
		s := start(t, &server.Options{MaxMessageBytes: 16 << 10, MaxValueBytes: 8 << 10, MaxQueueBytes: 256 << 10, OpsPerSecond: 100000})
		slow := dialRaw(t, s) // subscribes, then never reads
		slow.hello("")
		slow.subscribe("big")
		w := dialRaw(t, s)
		w.hello("")
		go func() { // drain the writer's acks
			for {
				if _, _, err := w.ws.Read(context.Background()); err != nil {
					return
				}
			}
		}()
		value := tableproto.RawValue(`"` + strings.Repeat("v", 8000) + `"`)
		for i := 0; i < 4000 && s.ErrorCount(tableproto.CodeSlowConsumer) == 0; i++ {
			w.send(tableproto.Frame{Type: tableproto.Operation, Table: "big", OpID: "o" + strconv.Itoa(i),
				Change: tableproto.Change{Operation: tableproto.Set, Key: "k" + strconv.Itoa(i%50), Value: value}})
			if i%100 == 99 {
				time.Sleep(5 * time.Millisecond)
			}
		}
		require.Eventually(t, func() bool { return s.ErrorCount(tableproto.CodeSlowConsumer) == 1 }, 10*time.Second, 10*time.Millisecond)
	})
}

// Shutdown sends shuttingDown and closes with 1001, and the client library
// reconnects to the next relay.
func TestShutdownGoingAway(t *testing.T) {
	s := start(t, nil)
	r := dialRaw(t, s)
	r.hello("")
	done := make(chan error)
	go func() { done <- s.Shutdown(context.Background()) }()
	r.expectError(tableproto.CodeShuttingDown)
	r.expectClosed(websocket.StatusGoingAway)
	require.NoError(t, <-done)
	require.NoError(t, s.Shutdown(context.Background()), "a second Shutdown does nothing")
	assert.False(t, s.ReadyForConnections(10*time.Millisecond))
}

func TestHealthAndMetrics(t *testing.T) {
	s := start(t, nil)
	c := dial(t, s)
	ctx := ctx10(t)
	require.NoError(t, c.Subscribe(ctx, "m"))
	_, err := c.Set(ctx, "m", "k", 1)
	require.NoError(t, err)
	resp, err := http.Get("http://" + s.Addr().String() + "/healthz")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	require.NoError(t, c.WaitVersion(ctx, "m", 1)) // the fan-out happened
	want := []string{"tabsync_connections 1\n", "tabsync_subscriptions 1\n", `tabsync_operations_total{result="stored"} 1`,
		`tabsync_errors_total{code="badKey"} 0`, "tabsync_fanout_seconds_count 1\n"}
	var m string
	for i := 0; i < 100; i++ {
		resp, err = http.Get("http://" + s.Addr().String() + "/metrics")
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		m = string(b)
		if !strings.Contains(m, "tabsync_fanout_seconds_count 0\n") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, w := range want {
		assert.Contains(t, m, w)
	}
}
