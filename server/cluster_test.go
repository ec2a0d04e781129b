//go:build !js

package server_test

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"testing"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/client"
	"github.com/tabsync/tabsync/server"
	"github.com/tabsync/tabsync/tableproto"
)

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startCluster starts three clustered NATS servers with JetStream on
// loopback (SERVER-NOTES §7) and waits for a JetStream meta leader.
func startCluster(t *testing.T) []*natsserver.Server {
	ports := []int{freePort(t), freePort(t), freePort(t)}
	var routes []*url.URL
	for _, p := range ports {
		routes = append(routes, &url.URL{Scheme: "nats", Host: fmt.Sprintf("127.0.0.1:%d", p)})
	}
	nodes := make([]*natsserver.Server, 3)
	for i := range nodes {
		ns, err := natsserver.NewServer(&natsserver.Options{
			ServerName: fmt.Sprintf("n%d", i), Host: "127.0.0.1", Port: -1,
			JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true,
			Cluster: natsserver.ClusterOpts{Name: "c", Host: "127.0.0.1", Port: ports[i]},
			Routes:  routes,
		})
		require.NoError(t, err)
		ns.Start()
		t.Cleanup(func() { ns.Shutdown(); ns.WaitForShutdown() })
		nodes[i] = ns
	}
	for _, ns := range nodes {
		require.True(t, ns.ReadyForConnections(20*time.Second))
	}
	require.Eventually(t, func() bool {
		for _, ns := range nodes {
			if ns.JetStreamIsLeader() {
				return true
			}
		}
		return false
	}, 30*time.Second, 10*time.Millisecond, "no JetStream meta leader")
	return nodes
}

// Two relays on a three-node cluster with --replicas 3. A write through one
// relay reaches a subscriber on the other. Then one NATS node and one relay
// are killed in the middle of a stream of writes: the clients move to the
// other relay, every acked write is there exactly once, and the subscribers
// see gap-free versions.
func TestClusterTwoRelays(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a NATS cluster")
	}
	nodes := startCluster(t)
	urls := func(order ...int) []string {
		var out []string
		for _, i := range order {
			out = append(out, nodes[i].ClientURL())
		}
		return out
	}
	r1 := start(t, &server.Options{NATSURLs: urls(0, 1, 2), Replicas: 3})
	r2 := start(t, &server.Options{NATSURLs: urls(1, 2, 0), Replicas: 3})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	a := dial(t, r1)
	b := dial(t, r2)
	require.NoError(t, b.Subscribe(ctx, "shared"))
	v, err := a.Set(ctx, "shared", "hello", "from relay 1")
	require.NoError(t, err)
	require.NoError(t, b.WaitVersion(ctx, "shared", v))
	assert.Equal(t, map[string]any{"hello": "from relay 1"}, rowsOf(t, b, "shared"))

	// Subscribers on each relay, and a writer on relay 1; all may move.
	both1 := []string{r1.URL(), r2.URL()}
	both2 := []string{r2.URL(), r1.URL()}
	sub1 := dialURLs(t, both1)
	sub2 := dialURLs(t, both2)
	require.NoError(t, sub1.Subscribe(ctx, "shared"))
	require.NoError(t, sub2.Subscribe(ctx, "shared"))
	w := dialURLs(t, both1)

	const n = 120
	// Unbuffered: the writer is at most one write ahead of the loop below,
	// so the relay dies with writes still to come (with room for all n
	// acks, the writer could finish before the loop read the n/3-th, sub1
	// then had every version without moving, and the test failed).
	acked := make(chan uint64)
	errs := make(chan error, 1)
	go func() {
		defer close(acked) // also on an error, which the loop then sees
		for i := 0; i < n; i++ {
			v, err := w.Set(ctx, "shared", "k"+strconv.Itoa(i), i)
			if err != nil {
				errs <- err
				return
			}
			acked <- v
		}
	}()
	var versions []uint64
	for v := range acked {
		versions = append(versions, v)
		if len(versions) == n/3 {
			// Kill the NATS node relay 1 is connected to, and relay 1.
			nodes[0].Shutdown()
			cctx, ccancel := context.WithCancel(context.Background())
			ccancel() // no grace: connections are cut, acks in flight are lost
			r1.Shutdown(cctx)
		}
	}
	select {
	case err := <-errs:
		t.Fatal(err)
	default:
	}
	require.Len(t, versions, n)
	for i := 1; i < n; i++ {
		require.Greater(t, versions[i], versions[i-1], "versions of one writer's sequential writes increase")
	}

	fresh := dialURLs(t, []string{r2.URL()})
	require.NoError(t, fresh.Subscribe(ctx, "shared"))
	want, last := fresh.Rows("shared")
	assert.Equal(t, uint64(n+1), last, "every write stored exactly once, no version lost or doubled")
	assert.Len(t, want, n+1)
	for _, c := range []*client.Client{sub1, sub2} {
		require.NoError(t, c.WaitVersion(ctx, "shared", last))
		got, _ := c.Rows("shared")
		assert.Equal(t, want, got)
		st := c.Stats()
		assert.Zero(t, st.Gaps, "gap-free versions")
		assert.Zero(t, st.Duplicates)
	}
	assert.GreaterOrEqual(t, sub1.Stats().Connects, 2, "sub1 moved to relay 2")
}

// Two relays on one NATS server, each with a writer sending 150 operations
// of distinct keys without waiting for acks, and a subscriber: every
// subscriber gets versions 1 to 300, each once, in order, although each
// relay sends its own writers' changes on their publish acknowledgement
// (when the ack comes before its consumer's delivery) and the other relay's
// through its consumer, interleaved.
//
// Which path wins a change is timing: on a busy machine a relay's consumer
// can beat every one of its acks. So the scenario runs again, on new relays,
// until each relay has sent some changes on their acks (the interleaving
// this test is about); every run must keep the order.
func TestAckedAndConsumedChangesInterleaveInOrder(t *testing.T) {
	const runs = 8
	var interleaved [2]bool
	for run := 0; run < runs && !(interleaved[0] && interleaved[1]); run++ {
		for j, ack := range ackedAndConsumedInOrder(t) {
			interleaved[j] = interleaved[j] || ack > 0
		}
	}
	for j, ok := range interleaved {
		assert.True(t, ok, "relay %d sent none of its writers' changes on their acks in %d runs", j, runs)
	}
}

// ackedAndConsumedInOrder runs TestAckedAndConsumedChangesInterleaveInOrder's
// scenario once and returns how many changes each relay sent on their acks.
func ackedAndConsumedInOrder(t *testing.T) [2]int {
	ns, err := natsserver.NewServer(&natsserver.Options{Host: "127.0.0.1", Port: -1,
		JetStream: true, StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	require.NoError(t, err)
	ns.Start()
	defer func() { ns.Shutdown(); ns.WaitForShutdown() }()
	require.True(t, ns.ReadyForConnections(10*time.Second))
	relays := []*server.Server{
		start(t, &server.Options{NATSURLs: []string{ns.ClientURL()}}),
		start(t, &server.Options{NATSURLs: []string{ns.ClientURL()}}),
	}
	const each = 150
	var subs, writers []*raw
	for _, r := range relays {
		s := dialRaw(t, r)
		s.hello("")
		s.subscribe("mix")
		subs = append(subs, s)
		w := dialRaw(t, r)
		w.hello("")
		writers = append(writers, w)
	}
	for i := range each {
		for j, w := range writers {
			k := fmt.Sprintf("w%d-%d", j, i)
			w.send(tableproto.Frame{Type: tableproto.Operation, Table: "mix", OpID: "op-" + k,
				Change: tableproto.Change{Operation: tableproto.Set, Key: k, Value: tableproto.RawValue(strconv.Itoa(i))}})
		}
	}
	for j, s := range subs {
		for v := uint64(1); v <= 2*each; v++ {
			f := s.expect(tableproto.Update)
			require.Equal(t, v, f.TableVersion, "subscriber on relay %d", j)
		}
		_, err := s.tryNext(100 * time.Millisecond)
		require.Error(t, err, "nothing after version %d on relay %d", 2*each, j)
	}
	var acked [2]int
	for j, r := range relays {
		m := metricsOf(t, r)
		ack, consumer := counter(t, m, `tabsync_changes_total{path="ack"}`), counter(t, m, `tabsync_changes_total{path="consumer"}`)
		assert.Equal(t, 2*each, ack+consumer, "relay %d applied each change once", j)
		assert.GreaterOrEqual(t, consumer, each, "relay %d got the other relay's changes from its consumer", j)
		acked[j] = ack
	}
	return acked
}
