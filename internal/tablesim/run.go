package tablesim

import (
	"fmt"
	"strings"
)

// RandomRun is one randomized run: two or three devices of one to three tabs
// write to two tables for FaultMs while tabs crash (the connected one
// too), close and open, the server goes down and comes back, devices are
// partitioned and connections drop; then everything heals, every device
// keeps at least one tab, and the run goes on for QuietMs. It returns the
// world and the properties violated, joined (empty: none).
func RandomRun(seed int64) (*World, string) {
	w := New(seed, Faults{MaxDelayMs: 1 + int64(seed%20)})
	r := w.Rand
	w.Server.Unavailable = []float64{0, 0, 0.05}[r.Intn(3)]
	tbls := []string{"scores", "items"}
	for i := 0; i < 2+r.Intn(2); i++ {
		d := w.AddDevice()
		for j := 0; j < 1+r.Intn(3); j++ {
			w.Open(d, tbls[:1+r.Intn(2)]...)
		}
	}
	const faultMs, quietMs = 12000, 20000
	end := w.Now + faultMs
	n := 0
	for w.Now < end {
		w.RunFor(20 + r.Int63n(300))
		d := w.Devices[r.Intn(len(w.Devices))]
		live := d.LiveTabs()
		switch p := r.Intn(100); {
		case p < 55:
			if len(live) == 0 {
				continue
			}
			t := live[r.Intn(len(live))]
			tbl, key := tbls[r.Intn(2)], fmt.Sprintf("k%d", r.Intn(5))
			if r.Intn(5) == 0 {
				w.Delete(t, tbl, key)
			} else {
				n++
				w.Set(t, tbl, key, fmt.Sprintf(`{"n":%d,"by":%q}`, n, t.ID))
			}
		case p < 61:
			if ls := d.Leaders(); len(ls) > 0 && r.Intn(2) == 0 {
				w.Crash(ls[0])
			} else if len(live) > 0 {
				w.Crash(live[r.Intn(len(live))])
			}
		case p < 64:
			if len(live) > 0 {
				w.Close(live[r.Intn(len(live))])
			}
		case p < 72:
			if len(live) < 4 {
				w.Open(d, tbls[:1+r.Intn(2)]...)
			}
		case p < 77:
			if w.Server.Up {
				w.ServerDown()
			} else {
				w.ServerUp()
			}
		case p < 84:
			if d.Partitioned {
				w.Heal(d)
			} else {
				w.Partition(d, r.Intn(3) == 0)
			}
		case p < 88:
			if cs := w.conns(); len(cs) > 0 {
				w.closeConn(cs[r.Intn(len(cs))], "connection reset")
			}
		}
	}
	w.tracef("quiet")
	w.ServerUp()
	for _, d := range w.Devices {
		w.Heal(d)
		if len(d.LiveTabs()) == 0 {
			w.Open(d, tbls[0])
		}
	}
	w.RunFor(quietMs)
	return w, strings.Join(w.Check(), "\n")
}
