//go:build !js

package server_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/tabsync/tabsync/client"
	"github.com/tabsync/tabsync/server"
	"github.com/tabsync/tabsync/server/servertest"
	"github.com/tabsync/tabsync/tableproto"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		// Every server and client the tests started must be gone.
		if err := goleak.Find(goleak.IgnoreCurrent()); err != nil {
			os.Stderr.WriteString("goroutine leak: " + err.Error() + "\n")
			code = 1
		}
	}
	os.Exit(code)
}

// raw is a WebSocket client that speaks frames by hand, for protocol tests.
type raw struct {
	t     *testing.T
	ws    *websocket.Conn
	stash []tableproto.Frame // read while looking for an ack; next returns them first
}

func dialRaw(t *testing.T, s *server.Server, header ...string) *raw {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	opts := &websocket.DialOptions{}
	if len(header) == 2 {
		opts.HTTPHeader = map[string][]string{header[0]: {header[1]}}
	}
	ws, _, err := websocket.Dial(ctx, s.URL(), opts)
	require.NoError(t, err)
	ws.SetReadLimit(64 << 20)
	t.Cleanup(func() { ws.CloseNow() })
	return &raw{t: t, ws: ws}
}

// sendText sends s as it is.
func (r *raw) sendText(s string) {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(r.t, r.ws.Write(ctx, websocket.MessageText, []byte(s)))
}

func (r *raw) send(f tableproto.Frame) {
	r.t.Helper()
	b, err := tableproto.Encode(f)
	require.NoError(r.t, err)
	r.sendText(string(b))
}

// next returns the next frame, failing the test after 10 s.
func (r *raw) next() tableproto.Frame {
	r.t.Helper()
	f, err := r.tryNext(10 * time.Second)
	require.NoError(r.t, err)
	return f
}

func (r *raw) tryNext(d time.Duration) (tableproto.Frame, error) {
	if len(r.stash) > 0 {
		f := r.stash[0]
		r.stash = r.stash[1:]
		return f, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	_, b, err := r.ws.Read(ctx)
	if err != nil {
		return tableproto.Frame{}, err
	}
	f, perr := tableproto.Decode(b)
	if perr != nil {
		return tableproto.Frame{}, perr
	}
	return f, nil
}

// expect reads the next frame and checks its type.
func (r *raw) expect(typ tableproto.Type) tableproto.Frame {
	r.t.Helper()
	f := r.next()
	require.Equal(r.t, typ, f.Type, "frame %+v", f)
	return f
}

// expectError reads the next frame and checks it is an error with code.
func (r *raw) expectError(code tableproto.Code) tableproto.Frame {
	r.t.Helper()
	f := r.expect(tableproto.Error)
	require.Equal(r.t, code, f.Code, f.Message)
	return f
}

// expectClosed waits for the server to close the connection with status.
func (r *raw) expectClosed(status websocket.StatusCode) {
	r.t.Helper()
	for {
		_, err := r.tryNext(10 * time.Second)
		if err != nil {
			require.Equal(r.t, status, websocket.CloseStatus(err), "closed with %v", err)
			return
		}
	}
}

func (r *raw) hello(token string) tableproto.Frame {
	r.t.Helper()
	id := []byte("raw-" + r.t.Name())
	for i, c := range id {
		if tableproto.ValidClientID(string(c)) != nil {
			id[i] = '-'
		}
	}
	r.send(tableproto.Frame{Type: tableproto.Hello, V: tableproto.Version, Token: token, ClientID: string(id[:min(len(id), 24)])})
	return r.expect(tableproto.Welcome)
}

// subscribe subscribes to table from scratch and reads the snapshot and
// synced that answer it, returning the snapshot.
func (r *raw) subscribe(table string) tableproto.Frame {
	r.t.Helper()
	r.send(tableproto.Frame{Type: tableproto.Subscribe, Table: table})
	snap := r.expect(tableproto.Snapshot)
	r.expect(tableproto.Synced)
	return snap
}

func (r *raw) set(table, opID, key, value string) tableproto.Frame {
	r.t.Helper()
	r.send(tableproto.Frame{Type: tableproto.Operation, Table: table, OpID: opID,
		Change: tableproto.Change{Operation: tableproto.Set, Key: key, Value: tableproto.RawValue(value)}})
	return r.ack(opID)
}

// ack reads until the ack of opID, stashing other frames for next.
func (r *raw) ack(opID string) tableproto.Frame {
	r.t.Helper()
	var skipped []tableproto.Frame
	defer func() { r.stash = append(r.stash, skipped...) }()
	for {
		f := r.next()
		if (f.Type == tableproto.Ack || f.Type == tableproto.Error) && f.OpID == opID {
			require.Equal(r.t, tableproto.Ack, f.Type, "%+v", f)
			return f
		}
		skipped = append(skipped, f)
	}
}

func dial(t *testing.T, s *server.Server, opts ...func(*client.Options)) *client.Client {
	t.Helper()
	return dialURLs(t, []string{s.URL()}, opts...)
}

func dialURLs(t *testing.T, urls []string, opts ...func(*client.Options)) *client.Client {
	t.Helper()
	o := client.Options{URLs: urls, MinBackoff: 20 * time.Millisecond, MaxBackoff: 500 * time.Millisecond}
	for _, f := range opts {
		f(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, o)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

func ctx10(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func rowsOf(t *testing.T, c *client.Client, table string) map[string]any {
	rows, _ := c.Rows(table)
	out := map[string]any{}
	for k, v := range rows {
		var x any
		require.NoError(t, json.Unmarshal(v, &x))
		out[k] = x
	}
	return out
}

func start(t *testing.T, opts *server.Options) *server.Server {
	return servertest.Run(t, opts)
}

// metricsOf returns s's /metrics text.
func metricsOf(t *testing.T, s *server.Server) string {
	t.Helper()
	resp, err := http.Get("http://" + s.Addr().String() + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return string(b)
}

// counter returns the value of the metric line starting with name.
func counter(t *testing.T, metrics, name string) int {
	t.Helper()
	for _, l := range strings.Split(metrics, "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			n, err := strconv.Atoi(v)
			require.NoError(t, err, l)
			return n
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}
