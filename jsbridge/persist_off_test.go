//go:build js && wasm && nopersist

package jsbridge

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The module without persistence syncs an instance that asks for persist,
// and says once that nothing is stored.
func TestPersistAskedOfTheModuleWithoutItIsReportedAndSyncs(t *testing.T) {
	a, b := pair(t, "{n: 0}", "{throttleMs: 0, persist: true}")
	a.set("{n: 1}")
	eventually(t, "b to get n = 1", func() bool { return b.get("n") == "1" })
	require.Len(t, a.errors(), 1)
	assert.Contains(t, a.errors()[0], "persist: persist is on, but this page loaded tabsync's module without persistence")
	a.stop()
	a.start()
	assert.Len(t, a.errors(), 1, "said once")
}
