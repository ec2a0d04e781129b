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
// time), side by side with a bare WebSocket hub relaying a message between
// two connections in the same run: the relay's share of the set-to-event
// path of TestTablesBench (e2e), without the browsers. A benchmark, not a
// test: TABSYNC_HOP_BENCH=1 runs it.
func TestRelayHopBench(t *testing.T) {
	if os.Getenv("TABSYNC_HOP_BENCH") == "" {
		t.Skip("a benchmark: TABSYNC_HOP_BENCH=1 runs it")
	}
	const rounds, warm = 3000, 100
	s := start(t, &server.Options{OpsPerSecond: 1 << 20})
	sub := dialRaw(t, s)
	sub.hello("")
	sub.subscribe("hop")
	w := dialRaw(t, s)
	w.hello("")
	var relay []time.Duration
	for i := range rounds + warm {
		t0 := time.Now()
		w.send(tableproto.Frame{Type: tableproto.Operation, Table: "hop", OpID: "op-" + strconv.Itoa(i),
			Change: tableproto.Change{Operation: tableproto.Set, Key: "k", Value: tableproto.RawValue(`{"i":` + strconv.Itoa(i) + `}`)}})
		sub.expect(tableproto.Update)
		if i >= warm {
			relay = append(relay, time.Since(t0))
		}
		w.expect(tableproto.Ack)
	}

	hub := servertest.RunHub(t)
	url := hub.URL
	ctx := ctx10(t)
	a, _, err := websocket.Dial(ctx, url, nil)
	require.NoError(t, err)
	defer a.CloseNow()
	b, _, err := websocket.Dial(ctx, url, nil)
	require.NoError(t, err)
	defer b.CloseNow()
	require.Eventually(t, func() bool { return hub.Conns() == 2 }, 5*time.Second, time.Millisecond)
	var bare []time.Duration
	for i := range rounds + warm {
		t0 := time.Now()
		require.NoError(t, a.Write(ctx, websocket.MessageText, []byte(`{"i":`+strconv.Itoa(i)+`}`)))
		_, _, err := b.Read(ctx)
		require.NoError(t, err)
		if i >= warm {
			bare = append(bare, time.Since(t0))
		}
	}
	q := func(d []time.Duration, p float64) float64 {
		slices.Sort(d)
		return float64(d[int(p*float64(len(d)-1))].Microseconds()) / 1000
	}
	load, _ := os.ReadFile("/proc/loadavg")
	t.Logf("write to update, %d rounds: relay p50 %.3f ms, p99 %.3f ms; bare hub p50 %.3f ms, p99 %.3f ms (load %s)",
		rounds, q(relay, 0.5), q(relay, 0.99), q(bare, 0.5), q(bare, 0.99), strings.TrimSpace(string(load)))
}
