//go:build !(js && wasm)

package main

import (
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
)

// colors of the implementations in the charts.
var colors = map[string]string{
	implBC:      "#9aa0a6",
	implTabsync: "#1a73e8",
	implBCL:     "#f29900",
	implZST:     "#a142f4",
}

type bar struct {
	impl    string
	value   float64
	whisker float64 // p95, or 0
	label   string
}

type group struct {
	name string
	bars []bar
}

// charts draws the SVG charts of a run, by file name.
func charts(res *Results) map[string]string {
	out := map[string]string{}
	var lat []group
	for _, id := range []int{1, 3} {
		f, ok := figureByID(res, id)
		if !ok {
			continue
		}
		prefix := ""
		if id == 3 {
			prefix = "2 tabs, other state "
		}
		lat = append(lat, groups(f, prefix, true)...)
	}
	if len(lat) > 0 {
		out["latency.svg"] = barChart("Cross-tab latency: median (bar) and p95 (line)", subtitle(res), "ms", lat)
	}
	if f, ok := figureByID(res, 2); ok {
		if g := groups(f, "", false); len(g) > 0 {
			out["throughput.svg"] = barChart("Throughput of a burst: changes per second, slowest receiving tab", subtitle(res), "changes/s", g)
		}
	}
	return out
}

// groups turns a figure's rows into chart groups, one per case.
func groups(f *Figure, prefix string, whiskers bool) []group {
	var out []group
	index := map[string]int{}
	for _, r := range f.Rows {
		v, ok := r.main()
		if !ok {
			continue
		}
		i, seen := index[r.Case]
		if !seen {
			i = len(out)
			index[r.Case] = i
			out = append(out, group{name: prefix + r.Case})
		}
		b := bar{impl: r.Impl, value: v, label: short(v)}
		if whiskers && r.P95 != nil {
			b.whisker = *r.P95
		}
		if r.Ratio != nil && r.Impl != implBC {
			b.label += fmt.Sprintf(" (%.2f×)", *r.Ratio)
		}
		out[i].bars = append(out[i].bars, b)
	}
	return out
}

// barChart draws horizontal grouped bars, each group on its own linear
// scale (a group compares the implementations in one case; the cases differ
// by orders of magnitude), with the scale's end written at the group's
// heading.
func barChart(title, subtitle, unit string, gs []group) string {
	const (
		width  = 860
		left   = 150 // implementation names
		right  = 170 // value labels
		barH   = 16
		gap    = 4
		head   = 22 // group heading
		groupG = 14
		top    = 56
	)
	plot := float64(width - left - right)
	var body strings.Builder
	y := top
	for _, g := range gs {
		scale := 0.0
		for _, b := range g.bars {
			scale = max(scale, b.value, b.whisker)
		}
		scale = niceCeil(scale)
		x := func(v float64) float64 { return left + v/scale*plot }
		fmt.Fprintf(&body, `<text x="8" y="%d" class="group">%s</text>`+"\n", y+14, html.EscapeString(g.name))
		fmt.Fprintf(&body, `<text x="%d" y="%d" class="axis" text-anchor="end">0 to %s %s</text>`+"\n", width-right, y+14, trimFloat(scale), html.EscapeString(unit))
		y += head
		top := y
		for _, b := range g.bars {
			c := colors[b.impl]
			if c == "" {
				c = "#5f6368"
			}
			fmt.Fprintf(&body, `<text x="%d" y="%d" class="impl" text-anchor="end">%s</text>`+"\n", left-6, y+12, html.EscapeString(b.impl))
			fmt.Fprintf(&body, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"/>`+"\n", left, y, max(x(b.value)-left, 1), barH, c)
			end := x(b.value)
			if b.whisker > b.value {
				fmt.Fprintf(&body, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#202124" stroke-width="1.5"/>`+"\n", x(b.value), y+barH/2, x(b.whisker), y+barH/2)
				fmt.Fprintf(&body, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#202124" stroke-width="1.5"/>`+"\n", x(b.whisker), y+3, x(b.whisker), y+barH-3)
				end = x(b.whisker)
			}
			fmt.Fprintf(&body, `<text x="%.1f" y="%d" class="value">%s</text>`+"\n", end+5, y+12, html.EscapeString(b.label))
			y += barH + gap
		}
		fmt.Fprintf(&body, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#dadce0"/>`+"\n", left, top-2, left, y-gap+2)
		y += groupG
	}
	height := y + 20
	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif">`+"\n", width, height, width, height)
	s.WriteString(`<style>text{font-size:12px;fill:#202124}.title{font-size:15px;font-weight:600}.group{font-weight:600}.value{fill:#3c4043}.axis{fill:#5f6368;font-size:11px}</style>` + "\n")
	fmt.Fprintf(&s, `<rect width="%d" height="%d" fill="#fff"/>`+"\n", width, height)
	fmt.Fprintf(&s, `<text x="8" y="22" class="title">%s</text>`+"\n", html.EscapeString(title))
	fmt.Fprintf(&s, `<text x="8" y="40" class="axis">%s</text>`+"\n", html.EscapeString(subtitle))
	s.WriteString(body.String())
	fmt.Fprintf(&s, `<text x="8" y="%d" class="axis">Each group on its own scale. In brackets: the ratio to the plain BroadcastChannel of the same run.</text>`+"\n", height-8)
	s.WriteString("</svg>\n")
	return s.String()
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

func trimFloat(v float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.3f", v), "0"), ".")
}

// subtitle says when and where a chart was measured.
func subtitle(res *Results) string {
	return fmt.Sprintf("make bench, %s; %s, %d cores (%s); %s", res.Date, res.Machine.CPU, res.Machine.Cores, res.Machine.LoadStart, res.Machine.Browser)
}

// short formats v with three significant digits.
func short(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%.0f", v)
	}
	return strconvFormat(v)
}

func strconvFormat(v float64) string {
	return strconv.FormatFloat(v, 'g', 3, 64)
}
