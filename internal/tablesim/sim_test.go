package tablesim

import (
	"testing"

	"github.com/tabsync/tabsync/internal/sim"
)

// Over many seeds, once quiet: every device's tables (in every tab and in
// IndexedDB) equal the server's; every write whose promise resolved was
// applied once; none twice; every tab's events add up to what it shows,
// with no duplicate and the right origin.
func TestRandomRunsConverge(t *testing.T) {
	sim.ForSeedsOf(t, 0, RandomRun)
}
