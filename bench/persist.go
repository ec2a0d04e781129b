//go:build !(js && wasm)

package main

import (
	"fmt"
	"strings"
	"time"
)

// persistence is figure 8: how long a tab takes to restore what an earlier
// tab persisted, for a few sizes, and what persisting adds to a change.
// Until tabsync's persist exists, tabsync reports so through onError and
// the rows say "not yet available".
func (r *run) persistence(fig *Figure) {
	notYet := func(row *Row) {
		if strings.Contains(row.Missing, "persist is not available") {
			row.Missing = "not yet available (this build of tabsync reports that persist is not available)"
		}
	}
	for _, bytes := range r.sz.persistBytes {
		r.try(fig, "restore "+sizeName(bytes), implTabsync, func() Row { return r.restore(bytes) })
		notYet(&fig.Rows[len(fig.Rows)-1])
		if strings.HasPrefix(fig.Rows[len(fig.Rows)-1].Missing, "not yet") {
			return
		}
	}
	cas := "setState, µs per change"
	for _, persist := range []string{"0", "1"} {
		impl := implTabsync
		if persist == "1" {
			impl += " + persist"
		}
		r.try(fig, cas, impl, func() Row {
			pages := r.openPages(1, r.url("tabsync", r.channel("write"), "persist", persist))
			defer r.closePages(pages)
			n := r.sz.persistChanges
			b := job[struct{ T0, T1 float64 }](pages[0], fmt.Sprintf("bench.burst(%d)", n), time.Minute)
			row := valueRow("", "", (b.T1-b.T0)/float64(n)*1000)
			row.Unit = "µs"
			return row
		})
	}
	fig.addRatios(implTabsync)
	fig.Notes = append(fig.Notes,
		"Restore: a tab fills the store and closes (after 2 s, as nothing tells when IndexedDB has committed); each new tab then measures from createBroadcastSync until its store holds the data. Median of 3 new tabs.",
		"Write cost: the time setState takes in the writing tab, with and without persist; the IndexedDB writes themselves happen later, off the change.")
}

// restore measures figure 8's restore time for bytes of state.
func (r *run) restore(bytes int) Row {
	u := r.url("tabsync", r.channel("restore"), "persist", "1")
	first := r.openPages(1, u)
	info := eval[struct{ Items, JSON int }](first[0], fmt.Sprintf("bench.fill(%d)", bytes))
	time.Sleep(2 * time.Second)
	r.closePages(first)
	var samples []float64
	for range 3 {
		pages := r.openPages(1, u)
		pages[0].WaitFor(r.t, fmt.Sprintf("bench.restore.at > 0 && bench.hasFill(%d)", info.Items), 30*time.Second)
		samples = append(samples, eval[float64](pages[0], "bench.restore.at - bench.restore.createAt"))
		r.closePages(pages)
	}
	return distRow("", "", samples)
}
