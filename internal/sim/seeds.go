package sim

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

// The flags of every test binary that runs simulation properties (only
// tests import this package):
//
//	go test ./sync -seeds 20000          more random runs
//	go test ./sync -run X -seed 163 -v   replay one run
var (
	seeds      = flag.Int("seeds", 1000, "how many seeds each simulation property runs")
	oneSeed    = flag.Int64("seed", -1, "run the simulation properties with this seed only")
	firstSeed  = flag.Int64("first-seed", 1, "the first seed of the simulation properties")
	traceLines = flag.Int("tracelines", 60, "how many trace lines a failed property prints")
)

// Seeds returns how many seeds a property runs (-seeds).
func Seeds() int { return *seeds }

// ForSeeds runs prop for each seed the flags name: -seeds of them from
// -first-seed (at most limit when limit > 0, and at most 100 with -short),
// or -seed alone. It stops at the first failure, printing the seed, the
// command that replays it and the last lines of the run's trace.
func ForSeeds(t testing.TB, limit int, prop func(seed int64) (*Net, string)) {
	t.Helper()
	ForSeedsOf(t, limit, prop)
}

// Tracer is a simulated run that can print the tail of its trace.
type Tracer interface{ Trace(lines int) string }

// ForSeedsOf is ForSeeds for any simulator whose runs have a trace (such
// as internal/tablesim's World).
func ForSeedsOf[T Tracer](t testing.TB, limit int, prop func(seed int64) (T, string)) {
	t.Helper()
	first, count := *firstSeed, int64(*seeds)
	if limit > 0 {
		count = min(count, int64(limit))
	}
	if *oneSeed >= 0 {
		first, count = *oneSeed, 1
	}
	if testing.Short() && count > 100 {
		count = 100
	}
	pkg := "."
	if wd, err := os.Getwd(); err == nil {
		pkg = "./" + filepath.Base(wd) // a test runs in its package's directory
	}
	for seed := first; seed < first+count; seed++ {
		n, failure := prop(seed)
		if failure != "" {
			t.Fatalf("seed %d: %s\n\nreplay: go test %s -run '%s' -seed %d -v\n\ntrace (last lines):\n%s",
				seed, failure, pkg, t.Name(), seed, n.Trace(*traceLines))
		}
	}
}
