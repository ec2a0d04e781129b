//go:build !(js && wasm)

package main

import (
	"math"
	"slices"
)

// Implementations, as named in the table.
const (
	implBC      = "BroadcastChannel"
	implTabsync = "tabsync"
	implBCL     = "broadcast-channel"
	implZST     = "zustand-sync-tabs"
	// implFloor is the Go floor of start-up: tools/sizefloor/jsonly, a
	// module that imports only syscall/js, loaded by tabsync's loader.
	implFloor = "Go floor"
	// implTabsyncNoPreload is tabsync's start-up page without the
	// README's preload recipe.
	implTabsyncNoPreload = "tabsync, no preload"
	// implTabsyncWorker is the Worker experiment of figures 9 and 10:
	// tabsync's engine and module in a dedicated Worker, the store in the
	// page behind a thin proxy (bench/web/src/worker.js). Not shipped.
	implTabsyncWorker = "tabsync in a Worker"
)

// implParam maps a table name to the page's impl parameter.
var implParam = map[string]string{
	implBC:      "bc",
	implTabsync: "tabsync",
	implBCL:     "bcl",
	implZST:     "zst",
	implFloor:   "floor",

	implTabsyncWorker: "tabsync-worker",
}

// syncImpls are measured in the store-sync figures, the physical limit
// first: ratios are taken against it.
var syncImpls = []string{implBC, implTabsync, implBCL, implZST}

// workerImpls are compared in the Worker experiment (figure 10).
var workerImpls = []string{implBC, implTabsync, implTabsyncWorker}

// Results is everything a run measured, written as docs/bench/results.json.
type Results struct {
	Date     string   `json:"date"`
	Machine  Machine  `json:"machine"`
	Quick    bool     `json:"quick"`
	Seconds  float64  `json:"seconds"`
	Figures  []Figure `json:"figures"`
	Settings []string `json:"settings"`
}

// Machine describes where the run happened.
type Machine struct {
	CPU       string `json:"cpu"`
	Cores     int    `json:"cores"`
	Browser   string `json:"browser"`
	Go        string `json:"go"`
	LoadStart string `json:"loadStart"` // /proc/loadavg
	LoadEnd   string `json:"loadEnd"`
}

// Figure is one of the numbered figures of the issue.
type Figure struct {
	ID    int      `json:"id"`
	Title string   `json:"title"`
	Unit  string   `json:"unit"`
	Rows  []Row    `json:"rows"`
	Error string   `json:"error,omitempty"` // the figure broke: why
	Notes []string `json:"notes,omitempty"`
	// Date is set on a figure kept from an earlier run when -only
	// measured the others again.
	Date string `json:"date,omitempty"`
}

// Row is one measurement: an implementation in one case of a figure.
type Row struct {
	Case string `json:"case"`
	Impl string `json:"impl"`
	// Stats of a distribution, or Value alone.
	N      int      `json:"n,omitempty"`
	Median *float64 `json:"median,omitempty"`
	P95    *float64 `json:"p95,omitempty"`
	P99    *float64 `json:"p99,omitempty"`
	Max    *float64 `json:"max,omitempty"`
	Value  *float64 `json:"value,omitempty"`
	Unit   string   `json:"unit,omitempty"` // when it differs from the figure's
	// Ratio to the reference implementation of the same case and run
	// (the plain BroadcastChannel, or broadcast-channel's Web Locks
	// elector in figure 5).
	Ratio *float64 `json:"ratio,omitempty"`
	// Extra figures of the row, such as lost changes.
	Extra map[string]float64 `json:"extra,omitempty"`
	// Missing says why there is no number (not yet available, failed).
	Missing string `json:"missing,omitempty"`
	// Samples are the raw values, kept in the JSON.
	Samples []float64 `json:"samples,omitempty"`
}

// main returns the number that represents the row: the median, or the value.
func (r Row) main() (float64, bool) {
	switch {
	case r.Median != nil:
		return *r.Median, true
	case r.Value != nil:
		return *r.Value, true
	}
	return 0, false
}

func ptr(v float64) *float64 { return &v }

// distRow summarises samples into a row.
func distRow(cas, impl string, samples []float64) Row {
	r := Row{Case: cas, Impl: impl, N: len(samples), Samples: roundAll(samples)}
	if len(samples) == 0 {
		r.Missing = "no samples"
		return r
	}
	s := slices.Clone(samples)
	slices.Sort(s)
	r.Median = ptr(round(quantile(s, 0.5)))
	r.P95 = ptr(round(quantile(s, 0.95)))
	r.P99 = ptr(round(quantile(s, 0.99)))
	r.Max = ptr(round(s[len(s)-1]))
	return r
}

// valueRow is a row of one number.
func valueRow(cas, impl string, v float64) Row {
	return Row{Case: cas, Impl: impl, Value: ptr(round(v))}
}

// quantile of sorted s, by the nearest-rank method.
func quantile(s []float64, q float64) float64 {
	if len(s) == 0 {
		return math.NaN()
	}
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

// round keeps four significant digits, enough for noisy timings.
func round(v float64) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	d := math.Pow(10, 3-math.Floor(math.Log10(math.Abs(v))))
	return math.Round(v*d) / d
}

func roundAll(s []float64) []float64 {
	out := make([]float64, len(s))
	for i, v := range s {
		out[i] = round(v)
	}
	return out
}

// addRatios sets each row's ratio to the row of ref in the same case.
func (f *Figure) addRatios(ref string) {
	base := map[string]float64{}
	for _, r := range f.Rows {
		if v, ok := r.main(); ok && r.Impl == ref {
			base[r.Case] = v
		}
	}
	for i, r := range f.Rows {
		v, ok := r.main()
		b, okb := base[r.Case]
		if ok && okb && b != 0 {
			f.Rows[i].Ratio = ptr(round(v / b))
		}
	}
}

// row returns the row of impl in case cas.
func (f *Figure) row(cas, impl string) (Row, bool) {
	for _, r := range f.Rows {
		if r.Case == cas && r.Impl == impl {
			return r, true
		}
	}
	return Row{}, false
}
