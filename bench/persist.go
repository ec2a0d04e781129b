//go:build !(js && wasm)

package main

import (
	"fmt"
	"slices"
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
	impls := []string{implTabsync, implTabsync + " + persist"}
	samples := map[string][]float64{}
	for round := range r.sz.trials / 2 {
		for k := range impls {
			k = (k + round) % 2 // alternate which goes first
			if err := catch(func() { samples[impls[k]] = append(samples[impls[k]], r.writeCost(k == 1)) }); err != nil {
				r.log("  write cost of %s failed: %v", impls[k], err)
			}
		}
	}
	for _, impl := range impls {
		row := distRow(cas, impl, samples[impl])
		row.Unit = "µs"
		fig.Rows = append(fig.Rows, row)
	}
	fig.addRatios(implTabsync)
	for i := range fig.Rows {
		if fig.Rows[i].Case != cas {
			fig.Rows[i].Ratio = nil // a restore is not compared with anything
		}
	}
	fig.Notes = append(fig.Notes,
		"Restore: a tab fills the store and closes (after 2 s, as nothing tells when IndexedDB has committed); each new tab then measures from createBroadcastSync (which loads the wasm) until its store holds the data; afterReadyMs is the part after the instance's ready (negative: the data was there first). Median of 3 new tabs.",
		fmt.Sprintf("Write cost: the time setState takes in the writing tab during a burst of %d changes (after one of 200 not counted), with and without persist, each in a fresh tab, alternating; the IndexedDB writes themselves happen later, off the change.", r.sz.persistChanges))
}

// restore measures figure 8's restore time for bytes of state.
func (r *run) restore(bytes int) Row {
	u := r.url("tabsync", r.channel("restore"), "persist", "1")
	first := r.openPages(1, u)
	info := eval[struct{ Items, JSON int }](first[0], fmt.Sprintf("bench.fill(%d)", bytes))
	time.Sleep(2 * time.Second)
	r.closePages(first)
	var samples, afterReady []float64
	for range 3 {
		pages := r.openPages(1, u)
		pages[0].WaitFor(r.t, fmt.Sprintf("bench.restore.at > 0 && bench.hasFill(%d)", info.Items), 30*time.Second)
		t := eval[struct{ CreateAt, ReadyAt, At float64 }](pages[0], "bench.restore")
		samples = append(samples, t.At-t.CreateAt)
		afterReady = append(afterReady, t.At-t.ReadyAt)
		r.closePages(pages)
	}
	row := distRow("", "", samples)
	slices.Sort(afterReady)
	row.Extra = map[string]float64{"afterReadyMedianMs": round(quantile(afterReady, 0.5))}
	return row
}

// writeCost is the time in µs that one setState takes in a tab of its own,
// with or without persist, during a burst.
func (r *run) writeCost(persist bool) float64 {
	p := "0"
	if persist {
		p = "1"
	}
	pages := r.openPages(1, r.url("tabsync", r.channel("write"), "persist", p))
	defer r.closePages(pages)
	time.Sleep(500 * time.Millisecond) // let a restore finish
	n := r.sz.persistChanges
	job[any](pages[0], "bench.burst(200)", time.Minute) // warm up
	b := job[struct{ T0, T1 float64 }](pages[0], fmt.Sprintf("bench.burst(%d, 100, 1000)", n), time.Minute)
	return (b.T1 - b.T0) / float64(n) * 1000
}
