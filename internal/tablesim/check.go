package tablesim

import (
	"fmt"
	"sort"
	"strings"

	"github.com/tabsync/tabsync/tables"
)

// checkOrigins checks, as a tab fires events, that each names the right
// origin: 'local' for this tab's writes, 'local-tab' for another tab's of
// the same device, 'server' for another device's change received by this
// tab's own connection and 'server-tab' for one relayed by another tab.
func (w *World) checkOrigins(t *Tab, evs []tables.Event) {
	for _, ev := range evs {
		wr := w.Writes[ev.OpID]
		if ev.OpID != "" && wr == nil {
			w.violate("%s: event for opId %q, which no tab wrote", t.ID, ev.OpID)
			continue
		}
		if ev.OpID == "" && ev.Operation == tables.OpSet && !w.Server.OldSnapshots {
			w.violate("%s: event set %s/%s has no opId, and the server names every change", t.ID, ev.Table, ev.Key)
		}
		want := ""
		switch {
		case wr == nil: // a row from an older server's snapshot: some other device's
			want = "server"
		case wr.Tab == t.ID:
			want = tables.OriginLocal
		case wr.Device == t.Dev.ID:
			want = tables.OriginLocalTab
		default:
			want = "server"
		}
		if want == "server" {
			want = tables.OriginServerTab
			if t.Engine.Leading() {
				want = tables.OriginServer
			}
		}
		if ev.Origin != want {
			w.violate("%s: event %s %s/%s (%s) has origin %s, want %s", t.ID, ev.Operation, ev.Table, ev.Key, ev.OpID, ev.Origin, want)
		}
	}
}

// Check returns the violations of the properties that hold once the run is
// quiet (no faults, the server up, every device connected for a while),
// with those noticed while running.
func (w *World) Check() []string {
	v := append([]string(nil), w.Violations...)
	add := func(format string, args ...any) { v = append(v, fmt.Sprintf(format, args...)) }

	server := map[string]map[string]string{}
	for name, t := range w.Server.Tables {
		m := map[string]string{}
		for k, r := range t.Rows {
			m[k] = r.Value
		}
		server[name] = m
	}
	// No resolved write lost, none applied twice.
	ids := make([]string, 0, len(w.Writes))
	for id := range w.Writes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		wr := w.Writes[id]
		n := w.Server.Applied[id]
		if wr.Resolved && n != 1 {
			add("write %s (%s/%s by %s, resolved) applied %d times", id, wr.Table, wr.Key, wr.Tab, n)
		}
		if !wr.Resolved && n > 1 {
			add("write %s (unresolved) applied %d times", id, n)
		}
	}
	for _, d := range w.Devices {
		if len(d.DB.Ops) != 0 {
			add("%s: %d writes still in the outbox", d.ID, len(d.DB.Ops))
		}
		db := map[string]map[string]string{}
		for _, r := range d.DB.Rows {
			if r.Deleted {
				continue
			}
			if db[r.Table] == nil {
				db[r.Table] = map[string]string{}
			}
			db[r.Table][r.Key] = r.Value
		}
		known := map[string]bool{}
		for _, t := range d.LiveTabs() {
			for _, n := range t.Engine.Tables() {
				known[n] = true
			}
		}
		if diff := diffTables(only(server, known), db); diff != "" {
			add("%s: IndexedDB differs from the server: %s", d.ID, diff)
		}
		live := d.LiveTabs()
		if len(live) > 0 && len(d.Leaders()) != 1 {
			add("%s: %d tabs lead", d.ID, len(d.Leaders()))
		}
		for _, t := range live {
			e := t.Engine
			if e.Pending() != 0 {
				add("%s: %d writes pending", t.ID, e.Pending())
			}
			if e.Status() != tables.StatusOnline {
				add("%s: status %s", t.ID, e.Status())
			}
			now := shown(e)
			mine := map[string]bool{}
			for _, n := range e.Tables() {
				mine[n] = true
			}
			if diff := diffTables(only(server, mine), now); diff != "" {
				add("%s: shows something else than the server: %s", t.ID, diff)
			}
			if diff := diffTables(now, replay(t)); diff != "" {
				add("%s: its events do not add up to what it shows: %s", t.ID, diff)
			}
			last := map[string]tables.Event{}
			for _, ev := range t.Events {
				k := ev.Table + "/" + ev.Key
				if p, ok := last[k]; ok && p.OpID == ev.OpID && p.Version == ev.Version && p.Operation == ev.Operation {
					add("%s: two events in a row for the same change of %s (%s v%d)", t.ID, k, ev.OpID, ev.Version)
				}
				last[k] = ev
			}
		}
	}
	return v
}

// only returns the tables of m named in names: a device holds only the
// tables it subscribed to.
func only(m map[string]map[string]string, names map[string]bool) map[string]map[string]string {
	out := map[string]map[string]string{}
	for n, t := range m {
		if names[n] {
			out[n] = t
		}
	}
	return out
}

// replay applies a tab's events to what it showed after restoring.
func replay(t *Tab) map[string]map[string]string {
	out := map[string]map[string]string{}
	for tbl, m := range t.Initial {
		out[tbl] = map[string]string{}
		for k, val := range m {
			out[tbl][k] = val
		}
	}
	for _, ev := range t.Events {
		if out[ev.Table] == nil {
			out[ev.Table] = map[string]string{}
		}
		if ev.Operation == tables.OpDelete {
			delete(out[ev.Table], ev.Key)
		} else {
			out[ev.Table][ev.Key] = ev.Value
		}
	}
	return out
}

// diffTables describes how b differs from a (empty tables count as absent).
func diffTables(a, b map[string]map[string]string) string {
	var d []string
	names := map[string]bool{}
	for n := range a {
		names[n] = true
	}
	for n := range b {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, n := range sorted {
		keys := map[string]bool{}
		for k := range a[n] {
			keys[k] = true
		}
		for k := range b[n] {
			keys[k] = true
		}
		ks := make([]string, 0, len(keys))
		for k := range keys {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			av, aok := a[n][k]
			bv, bok := b[n][k]
			if av != bv || aok != bok {
				d = append(d, fmt.Sprintf("%s/%s: %q (%v) vs %q (%v)", n, k, av, aok, bv, bok))
			}
		}
	}
	if len(d) > 4 {
		d = append(d[:4], fmt.Sprintf("and %d more", len(d)-4))
	}
	return strings.Join(d, "; ")
}
