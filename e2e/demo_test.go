//go:build e2e && !(js && wasm)

package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestDemoLoads is a smoke test of the built package as a user gets it: the
// plain demo, served like `make demo` serves it, loads the script-tag build
// and the brotli-compressed module in two tabs without an uncaught
// exception. The tabsync behaviour itself is for the other e2e tests.
func TestDemoLoads(t *testing.T) {
	b := NewBrowser(t)
	base := b.ServeRepo(t)
	a := b.OpenTab(t, base+"/plain/")
	c := b.OpenTab(t, base+"/plain/")

	// The module sets globalThis.__tabsync when it has started (see
	// docs/WASM-CONTRACT.md).
	for _, tab := range []*Tab{a, c} {
		tab.WaitFor(t, `globalThis.__tabsync !== undefined`, 20*time.Second)
		assert.Empty(t, tab.Exceptions(), "uncaught exceptions in %s", tab.URL())
	}

	var encoding string
	a.Eval(t, `fetch("/tabsync/tabsync.wasm").then(() =>
		performance.getEntriesByType("resource")
			.filter((e) => e.name.endsWith("/tabsync.wasm"))
			.map((e) => e.encodedBodySize < e.decodedBodySize ? "compressed" : "identity")
			.pop())`, &encoding)
	assert.Equal(t, "compressed", encoding, "the module travels compressed")
}
