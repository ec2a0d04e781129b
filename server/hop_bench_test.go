//go:build !js

package server_test

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/server"
	"github.com/tabsync/tabsync/server/servertest"
	"github.com/tabsync/tabsync/tableproto"
)

// TestRelayHopBench measures, in Go next to the relay on loopback, a write
// sent by one connection until its update arrives at another (one at a
// time), side by side in the same run with a bare WebSocket hub relaying a
// message between two connections, and with a storing hub, which stores
// each message in JetStream before it relays it (servertest.RunStoringHub,
// the floor of any relay on JetStream): the relay's share of the set-to-event
// path of TestTablesBench (e2e), without the browsers. A benchmark, not a
// test: TABSYNC_HOP_BENCH=1 runs it back to back (3,000 rounds), and
// TABSYNC_HOP_BENCH=gap at the browsers' pace, one write every 10 ms (300
// rounds). The second is the one that predicts the browsers' benchmark: the
// machine has gone cold between two writes there (caches, idle CPUs), and a
// relay's hop costs about three times what it costs back to back, the
// bare hub's about nine.
//
// Both clients are as the browsers' connected tabs are: each has its
// clientId and is subscribed, so the writer gets its ack and its update.
func TestRelayHopBench(t *testing.T) {
	mode := os.Getenv("TABSYNC_HOP_BENCH")
	if mode == "" {
		t.Skip("a benchmark: TABSYNC_HOP_BENCH=1 (back to back) or =gap (one write every 10 ms) runs it")
	}
	rounds, warm, gap := 3000, 100, time.Duration(0)
	if mode == "gap" {
		rounds, warm, gap = 300, 20, 10*time.Millisecond
	}
	s := start(t, &server.Options{OpsPerSecond: 1 << 20})
	connect := func(id string) *raw {
		c := dialRaw(t, s)
		c.send(tableproto.Frame{Type: tableproto.Hello, V: tableproto.Version, ClientID: id})
		c.expect(tableproto.Welcome)
		c.subscribe("hop")
		return c
	}
	sub, w := connect("hop-reader"), connect("hop-writer")
	var relay []time.Duration
	ctx := ctx10(t)
	for i := range rounds + warm {
		// The frame is encoded before, and the update decoded after, the
		// time is taken, as the hubs' messages are bytes made before.
		op, err := tableproto.Encode(tableproto.Frame{Type: tableproto.Operation, Table: "hop", OpID: "op-" + strconv.Itoa(i),
			Change: tableproto.Change{Operation: tableproto.Set, Key: "k", Value: tableproto.RawValue(`{"i":` + strconv.Itoa(i) + `}`)}})
		require.NoError(t, err)
		time.Sleep(gap)
		t0 := time.Now()
		require.NoError(t, w.ws.Write(ctx, websocket.MessageText, op))
		_, b, err := sub.ws.Read(ctx)
		require.NoError(t, err)
		if i >= warm {
			relay = append(relay, time.Since(t0))
		}
		f, perr := tableproto.Decode(b)
		require.Nil(t, perr)
		require.Equal(t, tableproto.Update, f.Type)
		// The writer's ack and its own update, in either order.
		got := []tableproto.Type{w.next().Type, w.next().Type}
		require.ElementsMatch(t, []tableproto.Type{tableproto.Ack, tableproto.Update}, got)
	}

	bare := hubHop(t, servertest.RunHub(t), rounds, warm, gap)
	storing := hubHop(t, servertest.RunStoringHub(t), rounds, warm, gap)
	q := func(d []time.Duration, p float64) float64 {
		slices.Sort(d)
		return float64(d[int(p*float64(len(d)-1))].Microseconds()) / 1000
	}
	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("write to update, %d rounds, %v apart: relay p50 %.3f ms, p99 %.3f ms; storing hub p50 %.3f ms, p99 %.3f ms; bare hub p50 %.3f ms, p99 %.3f ms (load %s)",
		rounds, gap, q(relay, 0.5), q(relay, 0.99), q(storing, 0.5), q(storing, 0.99), q(bare, 0.5), q(bare, 0.99), strings.TrimSpace(string(load)))
}

// hubHop measures a message between two connections of hub, one at a time.
func hubHop(t *testing.T, hub *servertest.Hub, rounds, warm int, gap time.Duration) []time.Duration {
	ctx := ctx10(t)
	a, _, err := websocket.Dial(ctx, hub.URL, nil)
	require.NoError(t, err)
	defer a.CloseNow()
	b, _, err := websocket.Dial(ctx, hub.URL, nil)
	require.NoError(t, err)
	defer b.CloseNow()
	require.Eventually(t, func() bool { return hub.Conns() == 2 }, 5*time.Second, time.Millisecond)
	var d []time.Duration
	for i := range rounds + warm {
		time.Sleep(gap)
		t0 := time.Now()
		require.NoError(t, a.Write(ctx, websocket.MessageText, []byte(`{"i":`+strconv.Itoa(i)+`}`)))
		_, _, err := b.Read(ctx)
		require.NoError(t, err)
		if i >= warm {
			d = append(d, time.Since(t0))
		}
	}
	return d
}
