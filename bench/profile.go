//go:build !(js && wasm)

package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/profiler"

	"github.com/tabsync/tabsync/e2e"
)

// profiledDist prepares, for -cpuprofile, a copy of npm/dist whose
// tabsync.wasm and tabsync-nopersist.wasm keep their function names (make
// build strips them), without
// the precompressed copies that the server would send in its place. It
// returns the folder to serve at /tabsync/.
func profiledDist(t *tb, root string) string {
	dir := t.TempDir()
	dist := filepath.Join(root, "npm", "dist")
	entries, err := os.ReadDir(dist)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, "tabsync.wasm") || strings.HasPrefix(name, "tabsync-nopersist.wasm") {
			continue
		}
		copyFile(t, filepath.Join(dist, name), filepath.Join(dir, name))
	}
	for file, tags := range map[string]string{"tabsync.wasm": "", "tabsync-nopersist.wasm": "nopersist"} {
		cmd := exec.Command("go", "build", "-tags", tags, "-trimpath", "-o", filepath.Join(dir, file), "./wasm")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building %s with symbols: %v\n%s", file, err, out)
		}
	}
	return dir
}

func copyFile(t *tb, from, to string) {
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// profiling records a CPU profile of tabsync's pages while f runs, when
// the run was asked to (-cpuprofile), and writes each as name-<i>.cpuprofile (open it
// in Chrome DevTools' Performance panel), printing its heaviest functions.
func (r *run) profiling(impl, name string, pages []*page, f func()) {
	if r.profileDir == "" || impl != implTabsync {
		f()
		return
	}
	for _, p := range pages {
		e2e.Call(r.t, p.Tab, profiler.Enable, cdp.Empty{})
		e2e.Call(r.t, p.Tab, profiler.SetSamplingInterval, profiler.SetSamplingIntervalParams{Interval: 100})
		e2e.Call(r.t, p.Tab, profiler.Start, cdp.Empty{})
	}
	f()
	for i, p := range pages {
		res := e2e.Call(r.t, p.Tab, profiler.Stop, cdp.Empty{})
		if res.Profile == nil {
			continue
		}
		b, err := json.Marshal(res.Profile)
		if err != nil {
			r.t.Fatal(err)
		}
		role := "sender"
		if i > 0 {
			role = fmt.Sprint("receiver", i)
		}
		path := filepath.Join(r.profileDir, name+"-"+role+".cpuprofile")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			r.t.Fatal(err)
		}
		r.log("  profile %s; heaviest functions by self time:\n%s", path, topFunctions(res.Profile, 15))
		if name == "mainthread" {
			r.log("%s", longestBusy(res.Profile, 30))
		}
	}
}

// topFunctions lists the n functions of the profile with the most self
// time, with their share of the samples that were not idle.
func topFunctions(p *profiler.Profile, n int) string {
	byID := map[int64]*profiler.ProfileNode{}
	for _, node := range p.Nodes {
		byID[node.ID] = node
	}
	self := map[string]int64{}
	var total int64
	for i, id := range p.Samples {
		node := byID[id]
		if node == nil || node.CallFrame == nil || i >= len(p.TimeDeltas) {
			continue
		}
		name := node.CallFrame.FunctionName
		if name == "(idle)" || name == "(program)" {
			continue
		}
		if name == "" {
			name = "(anonymous) " + filepath.Base(node.CallFrame.URL)
		}
		// The sample's time is the delta to the next one.
		d := int64(100)
		if i+1 < len(p.TimeDeltas) {
			d = p.TimeDeltas[i+1]
		}
		self[name] += d
		total += d
	}
	type fn struct {
		name string
		us   int64
	}
	var fns []fn
	for k, v := range self {
		fns = append(fns, fn{k, v})
	}
	slices.SortFunc(fns, func(a, b fn) int { return cmp.Compare(b.us, a.us) })
	var s strings.Builder
	for _, f := range fns[:min(n, len(fns))] {
		fmt.Fprintf(&s, "    %6.1f ms %5.1f%%  %s\n", float64(f.us)/1000, 100*float64(f.us)/float64(max(total, 1)), f.name)
	}
	return s.String()
}

// goFloor builds tools/sizefloor/jsonly, the Go floor (a module that
// imports only syscall/js and registers what tabsync's loader waits for),
// as make build builds tabsync's modules, with a gzip copy beside it as
// the test server would send tabsync's, and returns the folder to serve
// at /floor/.
func goFloor(t *tb, root string) string {
	dir := t.TempDir()
	wasm := filepath.Join(dir, "floor.wasm")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", wasm, "./tools/sizefloor/jsonly")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the Go floor: %v\n%s", err, out)
	}
	cmd = exec.Command(filepath.Join(root, "tools", "precompress.sh"), wasm)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("compressing the Go floor: %v\n%s", err, out)
	}
	return dir
}

// longestBusy describes the longest run of samples of the profile in which
// the thread was never idle (a task, or tasks back to back): its length and
// the functions on the stack through it, by the time they were on it
// (inclusive: a function counts once per sample however deep), the n
// heaviest. It is what figure 9's profile (-cpuprofile) says about the
// longest main-thread callback.
func longestBusy(p *profiler.Profile, n int) string {
	byID := map[int64]*profiler.ProfileNode{}
	parent := map[int64]int64{}
	for _, node := range p.Nodes {
		byID[node.ID] = node
		for _, c := range node.Children {
			parent[c] = node.ID
		}
	}
	idle := func(id int64) bool {
		node := byID[id]
		return node == nil || node.CallFrame == nil || node.CallFrame.FunctionName == "(idle)"
	}
	// The sample's time is the delta to the next one.
	dur := func(i int) int64 {
		if i+1 < len(p.TimeDeltas) {
			return p.TimeDeltas[i+1]
		}
		return 100
	}
	bestStart, bestEnd, bestUs := 0, 0, int64(0)
	for i := 0; i < len(p.Samples); {
		if idle(p.Samples[i]) {
			i++
			continue
		}
		j, us := i, int64(0)
		for j < len(p.Samples) && !idle(p.Samples[j]) {
			us += dur(j)
			j++
		}
		if us > bestUs {
			bestStart, bestEnd, bestUs = i, j, us
		}
		i = j
	}
	incl := map[string]int64{}
	for i := bestStart; i < bestEnd; i++ {
		seen := map[string]bool{}
		for id, ok := p.Samples[i], true; ok; id, ok = parent[id] {
			node := byID[id]
			if node == nil || node.CallFrame == nil {
				break
			}
			name := node.CallFrame.FunctionName
			if name == "" {
				name = "(anonymous) " + filepath.Base(node.CallFrame.URL)
			}
			if name == "(root)" || seen[name] {
				continue
			}
			seen[name] = true
			incl[name] += dur(i)
		}
	}
	type fn struct {
		name string
		us   int64
	}
	var fns []fn
	for k, v := range incl {
		fns = append(fns, fn{k, v})
	}
	slices.SortFunc(fns, func(a, b fn) int { return cmp.Or(cmp.Compare(b.us, a.us), cmp.Compare(a.name, b.name)) })
	var s strings.Builder
	fmt.Fprintf(&s, "    the longest busy stretch: %.1f ms (%d samples); on the stack through it:\n", float64(bestUs)/1000, bestEnd-bestStart)
	for _, f := range fns[:min(n, len(fns))] {
		fmt.Fprintf(&s, "    %6.1f ms %5.1f%%  %s\n", float64(f.us)/1000, 100*float64(f.us)/float64(max(bestUs, 1)), f.name)
	}
	return s.String()
}
