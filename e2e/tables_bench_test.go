//go:build e2e && !(js && wasm)

package e2e

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/server/servertest"
)

// hubPage exchanges values through the bare WebSocket hub, with plain
// WebSocket code: the physical limit the tables' latency is compared with.
const hubPage = `<!doctype html>
<meta charset="utf-8"><title>hub</title><link rel="icon" href="data:,">
<script>
const q = new URLSearchParams(location.search);
window.lat = [];
window.ws = new WebSocket(q.get('hub'));
window.created = [];
ws.onmessage = (e) => { const m = JSON.parse(e.data); lat.push(performance.timeOrigin + performance.now() - m.t); created.push(performance.timeOrigin + e.timeStamp - m.t); };
window.open_ = new Promise((r) => ws.onopen = r);
</script>`

// TestTablesBench measures tables across devices (make bench runs it with
// TABSYNC_TABLES_BENCH=1, =latency runs only the latency; make test skips it): set-to-event latency between
// two devices next to the bare WebSocket hub in the same run, sets per
// second from one tab, the drain of 10,000 offline writes, and the start-up
// of a page restoring 10,000 records. It writes docs/bench/tables.json
// (or $TABSYNC_TABLES_BENCH_OUT).
func TestTablesBench(t *testing.T) {
	if os.Getenv("TABSYNC_TABLES_BENCH") == "" {
		t.Skip("a benchmark: make bench runs it (TABSYNC_TABLES_BENCH=1)")
	}
	const rounds = 200
	res := map[string]any{"date": time.Now().UTC().Format(time.RFC3339), "rounds": rounds}

	hubURL := servertest.RunHub(t).URL

	srv := newRestartable(t)
	devs := devices(t, 2, 1, srv.url(), "bench&tables=lat,rate,big")
	a, b := devs[0].tabs[0], devs[1].tabs[0]
	for _, d := range devs {
		d.waitStatus(t, "online", 20*time.Second)
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "hub.html"), []byte(hubPage), 0o644))
	pair := func(u string) (*Tab, *Tab) {
		a := devs[0].b.OpenTab(t, devs[0].b.Serve(map[string]string{"/": dir})+"/hub.html?hub="+url.QueryEscape(u))
		b := devs[1].b.OpenTab(t, devs[1].b.Serve(map[string]string{"/": dir})+"/hub.html?hub="+url.QueryEscape(u))
		a.Eval(t, `open_.then(() => true)`, nil)
		b.Eval(t, `open_.then(() => true)`, nil)
		return a, b
	}
	hubA, hubB := pair(hubURL)
	// The storing hub is the bare hub plus a JetStream publish before it
	// forwards (servertest.RunStoringHub): the floor of a relay on
	// JetStream, so that what is tabsync's own can be told from what any
	// relay storing in JetStream pays.
	storeA, storeB := pair(servertest.RunStoringHub(t).URL)

	// Latency, one change at a time, alternating the two paths. Each step
	// of the tables' path is timed too (epoch ms, one clock: both browsers
	// and the server run on this machine): on A, set called, its frame
	// sent (WebSocket.prototype.send wrapped) and its promise resolved; the
	// server's storing time (the update's timestamp, whole ms); on B, the
	// browser's message event (its timeStamp), the update received (the
	// bridge reading the event's data, wrapped) and its idb-sync-update
	// event. The wrappers only take the time and keep the text: it is read
	// after the rounds (steps), so that the hub's path, which has no
	// wrapper, is not measured against a tables' path that parses every
	// frame twice.
	a.Eval(t, `(() => { window.sent = []; const send = WebSocket.prototype.send;
		WebSocket.prototype.send = function (d) {
			sent.push(performance.timeOrigin + performance.now(), d);
			return send.call(this, d);
		};
		window.unwrap = () => { WebSocket.prototype.send = send; sent.length = 0; return true; };
		window.steps = () => {
			const out = {};
			for (let j = 0; j < sent.length; j += 2) {
				const d = sent[j + 1];
				const m = typeof d === 'string' && d.includes('"operation"') && d.match(/"i":(\d+)/);
				if (m) out[m[1]] = sent[j];
			}
			return out;
		}; return true; })()`, nil)
	b.Eval(t, `(() => { window.lat = []; window.recv = []; window.evAt = {};
		const data = Object.getOwnPropertyDescriptor(MessageEvent.prototype, 'data');
		Object.defineProperty(MessageEvent.prototype, 'data', {configurable: true, get() {
			const at = performance.timeOrigin + performance.now();
			const d = data.get.call(this);
			recv.push(at, performance.timeOrigin + this.timeStamp, d);
			return d;
		}});
		window.addEventListener('idb-sync-update', (e) => {
			if (!e.detail.origin.startsWith('server')) return;
			const at = performance.timeOrigin + performance.now();
			lat.push(at - e.detail.op.value.t);
			evAt[e.detail.op.value.i] = at;
		});
		window.unwrap = () => { Object.defineProperty(MessageEvent.prototype, 'data', data); recv.length = 0; return true; };
		window.steps = () => {
			const out = {};
			for (let j = 0; j < recv.length; j += 3) {
				const d = recv[j + 2];
				if (typeof d !== 'string' || !d.includes('"update"')) continue;
				const v = JSON.parse(d);
				if (v.type === 'update' && v.table === 'lat' && !(v.payload.value.i in out)) {
					out[v.payload.value.i] = {recv: recv[j], created: recv[j + 1], stored: v.timestamp, event: evAt[v.payload.value.i]};
				}
			}
			return out;
		}; return true; })()`, nil)
	var set, resolved []float64
	for i := 0; i < rounds; i++ {
		var ts []float64
		a.Eval(t, fmt.Sprintf(`(() => { const t = performance.timeOrigin + performance.now();
			return db.set('lat', 'k', {t, i: %d}).then(() => [t, performance.timeOrigin + performance.now()]); })()`, i), &ts)
		set, resolved = append(set, ts[0]), append(resolved, ts[1])
		b.WaitFor(t, fmt.Sprintf(`lat.length === %d`, i+1), 10*time.Second)
		for _, p := range [][2]*Tab{{hubA, hubB}, {storeA, storeB}} {
			p[0].Eval(t, `ws.send(JSON.stringify({t: performance.timeOrigin + performance.now()})), true`, nil)
			p[1].WaitFor(t, fmt.Sprintf(`lat.length === %d`, i+1), 10*time.Second)
		}
	}
	var tl, hl []float64
	b.Eval(t, `lat`, &tl)
	hubB.Eval(t, `lat`, &hl)
	res["latency_tables_ms"] = quantiles(tl)
	res["latency_hub_ms"] = quantiles(hl)
	var sl []float64
	storeB.Eval(t, `lat`, &sl)
	res["latency_storing_hub_ms"] = quantiles(sl)
	var hc []float64
	hubB.Eval(t, `created`, &hc)
	res["latency_hub_to_message_event_ms"] = quantiles(hc)
	t.Logf("latency: tables %v, hub %v (to its message event %v), storing hub %v", res["latency_tables_ms"], res["latency_hub_ms"],
		res["latency_hub_to_message_event_ms"], res["latency_storing_hub_ms"])
	var sent map[string]float64
	var got map[string]struct{ Recv, Stored, Event, Created float64 }
	a.Eval(t, `steps()`, &sent)
	b.Eval(t, `steps()`, &got)
	// The wrappers keep every frame's text: gone before the other phases.
	a.Eval(t, `unwrap()`, nil)
	b.Eval(t, `unwrap()`, nil)
	var aSend, aStore, hop, bRecv, bEvent, bCreated, bGo []float64
	for i := range rounds {
		k := fmt.Sprint(i)
		s, g := sent[k], got[k]
		aSend, aStore = append(aSend, s-set[i]), append(aStore, resolved[i]-set[i])
		hop = append(hop, g.Recv-s)
		bRecv, bEvent = append(bRecv, g.Recv-g.Stored), append(bEvent, g.Event-g.Recv)
		bCreated, bGo = append(bCreated, g.Created-s), append(bGo, g.Recv-g.Created)
	}
	res["latency_steps_ms"] = map[string]any{
		"a_set_to_frame_sent": quantiles(aSend), "a_set_to_resolved": quantiles(aStore),
		"frame_sent_to_b_received": quantiles(hop), "server_stored_to_b_received": quantiles(bRecv),
		"b_received_to_event":           quantiles(bEvent),
		"frame_sent_to_b_message_event": quantiles(bCreated), "b_message_event_to_received": quantiles(bGo),
	}
	t.Logf("latency steps: %v", res["latency_steps_ms"])
	if os.Getenv("TABSYNC_TABLES_BENCH") == "latency" {
		t.Logf("TABSYNC_TABLES_BENCH=latency: the latency only, nothing written")
		return
	}

	// Sets per second from one tab, online, until every one is acknowledged.
	const sets = 2000
	var setsMs []float64
	evalLong(t, a, fmt.Sprintf(`(async () => {
		const t0 = performance.now();
		const ps = [];
		for (let i = 0; i < %d; i++) ps.push(db.set('rate', 'k' + i, {i}));
		await Promise.all(ps);
		const stored = performance.now() - t0;
		while (db.pending > 0) await new Promise((r) => setTimeout(r, 5));
		return [stored, performance.now() - t0];
	})()`, sets), &setsMs)
	b.WaitFor(t, fmt.Sprintf(`db.getAll('rate').then((a) => Object.keys(a).length === %d)`, sets), 60*time.Second)
	res["sets"] = sets
	res["sets_per_s_stored"] = float64(sets) / setsMs[0] * 1000
	res["sets_per_s_acked"] = float64(sets) / setsMs[1] * 1000
	t.Logf("sets/s: %.0f stored, %.0f acknowledged", res["sets_per_s_stored"], res["sets_per_s_acked"])

	// 10,000 writes while the server is down, then the drain.
	const offline = 10000
	srv.stop()
	devs[0].waitStatus(t, "offline", 20*time.Second)
	var storeMs float64
	evalLong(t, a, fmt.Sprintf(`(async () => {
		const t0 = performance.now();
		const ps = [];
		for (let i = 0; i < %d; i++) ps.push(db.set('big', 'k' + i, {i, name: 'player' + i, score: i * 7}));
		await Promise.all(ps);
		return performance.now() - t0;
	})()`, offline), &storeMs)
	a.WaitFor(t, fmt.Sprintf(`db.pending === %d`, offline), 10*time.Second)
	began := time.Now()
	srv.start()
	a.WaitFor(t, `db.pending === 0`, 5*time.Minute)
	res["offline_writes"] = offline
	res["offline_store_ms"] = storeMs
	res["outbox_drain_ms"] = float64(time.Since(began).Milliseconds())
	t.Logf("10,000 offline writes stored in %.0f ms, drained in %.0f ms", storeMs, res["outbox_drain_ms"])
	b.WaitFor(t, fmt.Sprintf(`db.getAll('big').then((a) => Object.keys(a).length === %d)`, offline), 2*time.Minute)

	// Start-up of a page restoring 10,000 records from IndexedDB.
	a.Close(t)
	// Same origin as a, so the same IndexedDB.
	c := devs[0].b.OpenTab(t, strings.Replace(a.URL(), "tables=lat,rate,big", "tables=big", 1))
	var startup []float64
	evalLong(t, c, `(async () => {
		await db._start();
		const ready = performance.now();
		const n = Object.keys(await db.getAll('big')).length;
		return [ready, performance.now(), n];
	})()`, &startup)
	require.Equal(t, float64(offline), startup[2])
	res["startup_restore_ms"] = startup[0]
	res["startup_getall_ms"] = startup[1]
	load, _ := os.ReadFile("/proc/loadavg")
	res["loadavg"] = strings.TrimSpace(string(load))

	out := os.Getenv("TABSYNC_TABLES_BENCH_OUT")
	if out == "" {
		out = filepath.Join(RepoRoot(t), "docs", "bench", "tables.json")
	}
	buf, err := json.MarshalIndent(res, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(out, append(buf, '\n'), 0o644))
	t.Logf("tables benchmark (%s):\n%s", out, buf)
}

// evalLong is Eval with a timeout for a benchmark's long steps.
func evalLong(t *testing.T, tab *Tab, js string, out any) {
	t.Helper()
	require.NoError(t, tab.eval(5*time.Minute, js, out))
}

func quantiles(v []float64) map[string]float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	q := func(p float64) float64 { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return map[string]float64{"p50": q(0.5), "p99": q(0.99), "n": float64(len(s))}
}
