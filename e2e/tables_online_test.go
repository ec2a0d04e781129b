//go:build e2e && !(js && wasm)

package e2e

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/server"
	"github.com/tabsync/tabsync/server/servertest"
)

// device is one browser (its own storage) with tabs on the tables page.
type device struct {
	b    *Browser
	tabs []*Tab
}

// devices opens n browsers of k tabs each on the tables page, all with
// serverURL and database db.
func devices(t *testing.T, n, k int, serverURL, db string) []*device {
	t.Helper()
	var out []*device
	for i := 0; i < n; i++ {
		b := NewBrowser(t)
		base := serveTables(t, b)
		d := &device{b: b}
		for j := 0; j < k; j++ {
			d.tabs = append(d.tabs, b.OpenTab(t, base+"/tables.html?db="+db+"&server="+url.QueryEscape(serverURL)))
		}
		out = append(out, d)
	}
	return out
}

func (d *device) waitStatus(t *testing.T, status string, timeout time.Duration) {
	t.Helper()
	for _, tab := range d.tabs {
		tab.WaitFor(t, `window.db && db.status === '`+status+`'`, timeout)
	}
}

// leader returns the index of the device's tab that holds the connection.
func (d *device) leader(t *testing.T) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for i, tab := range d.tabs {
			if tab.isClosed() {
				continue
			}
			var l bool
			tab.Eval(t, `db._starting ? db._starting.then((h) => h.leading()) : false`, &l)
			if l {
				return i
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no tab of the device holds the connection")
	return -1
}

func originsOf(evs []tableEvent) map[string]int {
	m := map[string]int{}
	for _, e := range evs {
		m[e.Origin]++
	}
	return m
}

// Two devices of two tabs each: a write in each tab reaches every tab of
// both devices once, with the four origins, and the server's version.
func TestTablesTwoDevicesSeeEveryOrigin(t *testing.T) {
	srv := servertest.Run(t, nil)
	devs := devices(t, 2, 2, srv.URL(), "two-devices")
	for _, d := range devs {
		d.waitStatus(t, "online", 20*time.Second)
	}
	var all []*Tab
	for _, d := range devs {
		all = append(all, d.tabs...)
	}
	for i, tab := range all {
		tab.Eval(t, fmt.Sprintf(`db.set('scores', 'p%d', {score: %d}).then(() => true)`, i, i*100), nil)
	}
	for _, tab := range all {
		tab.WaitFor(t, `events.length === 4 && events.every((e) => e.origin.startsWith('local') || e.meta.tableVersion > 0)`, 15*time.Second)
		tab.WaitFor(t, `db.pending === 0`, 15*time.Second)
	}
	for di, d := range devs {
		l := d.leader(t)
		for ti, tab := range d.tabs {
			evs := events(t, tab)
			require.Len(t, evs, 4, "device %d tab %d: one event per change", di, ti)
			seen := map[string]bool{}
			for _, e := range evs {
				assert.False(t, seen[e.Meta.OpID], "no change twice")
				seen[e.Meta.OpID] = true
			}
			want := map[string]int{"local": 1, "local-tab": 1, "server-tab": 2}
			if ti == l {
				want = map[string]int{"local": 1, "local-tab": 1, "server": 2}
			}
			assert.Equal(t, want, originsOf(evs), "device %d tab %d (leader %d)", di, ti, l)
			var got map[string]map[string]float64
			tab.Eval(t, `db.getAll('scores')`, &got)
			assert.Equal(t, map[string]map[string]float64{"p0": {"score": 0}, "p1": {"score": 100}, "p2": {"score": 200}, "p3": {"score": 300}}, got)
		}
	}
}

// restartable is a tabsync-server on a fixed loopback port and data
// directory, stopped and started again by the test.
type restartable struct {
	t    *testing.T
	opts server.Options
	s    *server.Server
}

func newRestartable(t *testing.T) *restartable {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	r := &restartable{t: t, opts: server.Options{Listen: addr, DataDir: t.TempDir()}}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *restartable) url() string { return "ws://" + r.opts.Listen + "/sync" }

func (r *restartable) start() {
	o := r.opts
	s, err := server.New(&o)
	require.NoError(r.t, err)
	require.NoError(r.t, s.Start())
	r.s = s
}

func (r *restartable) stop() {
	if r.s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_ = r.s.Shutdown(ctx)
	r.s = nil
}

// Writes made while the server is down are kept, shown and pending, and
// reach the other device exactly once after the server comes back; a
// relay restart is survived the same way.
func TestTablesWritesWhileTheServerIsDownArriveOnceAfter(t *testing.T) {
	srv := newRestartable(t)
	devs := devices(t, 2, 2, srv.url(), "server-down")
	for _, d := range devs {
		d.waitStatus(t, "online", 20*time.Second)
	}
	srv.stop()
	devs[0].waitStatus(t, "offline", 20*time.Second)
	for i := 0; i < 10; i++ {
		tab := devs[0].tabs[i%2]
		tab.Eval(t, fmt.Sprintf(`db.set('scores', 'k%d', %d).then(() => true)`, i, i), nil)
	}
	devs[0].tabs[1].WaitFor(t, `db.pending === 10`, 5*time.Second)
	srv.start()
	for _, d := range devs {
		d.waitStatus(t, "online", 40*time.Second)
		for _, tab := range d.tabs {
			tab.WaitFor(t, `db.pending === 0 && events.length === 10`, 20*time.Second)
		}
	}
	time.Sleep(500 * time.Millisecond)
	written := map[string]string{} // key → the opId its writer's event named
	for _, e := range events(t, devs[0].tabs[0]) {
		written[e.Op.Key] = e.Meta.OpID
	}
	require.Len(t, written, 10)
	for _, tab := range devs[1].tabs {
		evs := events(t, tab)
		require.Len(t, evs, 10, "exactly once")
		// One event per key: after a relay restart the changes may come as
		// a snapshot (one version for all) or as updates; either way each
		// names its write's opId (a snapshot's "changes").
		keys := map[string]bool{}
		for _, e := range evs {
			assert.Contains(t, []string{"server", "server-tab"}, e.Origin)
			assert.False(t, keys[e.Op.Key], "key %s twice", e.Op.Key)
			keys[e.Op.Key] = true
			assert.Positive(t, e.Meta.TableVersion)
			assert.Equal(t, written[e.Op.Key], e.Meta.OpID, "key %s", e.Op.Key)
		}
	}
}

// The connected tab crashes with writes it has not sent yet; another tab of
// the device takes over the connection and sends them.
func TestTablesAnotherTabFinishesWhatACrashedConnectedTabLeft(t *testing.T) {
	srv := newRestartable(t)
	devs := devices(t, 2, 2, srv.url(), "crash")
	for _, d := range devs {
		d.waitStatus(t, "online", 20*time.Second)
	}
	srv.stop()
	devs[0].waitStatus(t, "offline", 20*time.Second)
	l := devs[0].leader(t)
	leaderTab, other := devs[0].tabs[l], devs[0].tabs[1-l]
	for i := 0; i < 5; i++ {
		leaderTab.Eval(t, fmt.Sprintf(`db.set('scores', 'c%d', %d).then(() => true)`, i, i), nil)
	}
	leaderTab.Crash(t)
	srv.start()
	other.WaitFor(t, `db.status === 'online' && db.pending === 0`, 40*time.Second)
	for _, tab := range devs[1].tabs {
		tab.WaitFor(t, `events.length === 5`, 20*time.Second)
	}
	var all map[string]float64
	devs[1].tabs[0].Eval(t, `db.getAll('scores')`, &all)
	assert.Equal(t, map[string]float64{"c0": 0, "c1": 1, "c2": 2, "c3": 3, "c4": 4}, all)
}

// 1,000 writes spread over the four tabs of two devices end identical
// everywhere.
func TestTablesAThousandWritesEndIdentical(t *testing.T) {
	srv := servertest.Run(t, nil)
	devs := devices(t, 2, 2, srv.URL(), "thousand")
	for _, d := range devs {
		d.waitStatus(t, "online", 20*time.Second)
	}
	var all []*Tab
	for _, d := range devs {
		all = append(all, d.tabs...)
	}
	for i, tab := range all {
		tab.Eval(t, fmt.Sprintf(`(async () => {
			const ps = [];
			for (let n = 0; n < 250; n++) ps.push(db.set('scores', 'k' + (n %% 40), {tab: %d, n}));
			await Promise.all(ps);
			return true;
		})()`, i), nil)
	}
	// Every write stored (a key's writes are sent one at a time, so the
	// outboxes drain after the promises resolved), then the server's state,
	// as a fresh device restores it.
	for _, tab := range all {
		tab.WaitFor(t, `db.pending === 0`, 60*time.Second)
	}
	fresh := devices(t, 1, 1, srv.URL(), "thousand")[0]
	fresh.waitStatus(t, "online", 20*time.Second)
	var want string
	fresh.tabs[0].Eval(t, `db.getAll('scores').then((a) => JSON.stringify(Object.keys(a).sort().map((k) => [k, a[k]])))`, &want)
	require.Contains(t, want, `"k39"`)
	for i, tab := range all {
		var got string
		deadline := time.Now().Add(20 * time.Second)
		for {
			tab.Eval(t, `db.getAll('scores').then((a) => JSON.stringify(Object.keys(a).sort().map((k) => [k, a[k]])))`, &got)
			if got == want || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		var errs []map[string]any
		tab.Eval(t, `window.errors`, &errs)
		assert.Equal(t, want, got, "tab %d (errors: %v)", i, errs)
	}
}
