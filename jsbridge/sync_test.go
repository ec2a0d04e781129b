//go:build js && wasm

package jsbridge

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLocalChangeReachesTheOtherStore(t *testing.T) {
	a, b := pair(t, "{count: 0, name: 'a', items: [], nested: {x: 1}}", "{throttleMs: 0}")

	a.set("{count: 1, name: 'ann', items: [1, 2], nested: {x: 2, y: [3]}}")

	eventually(t, "b to get a's change", func() bool { return b.get("count") == "1" })
	assert.Equal(t, `"ann"`, b.get("name"))
	assert.Equal(t, `[1,2]`, b.get("items"))
	assert.Equal(t, `{"x":2,"y":[3]}`, b.get("nested"))
	assert.Empty(t, a.errors())
	assert.Empty(t, b.errors())
	require.Equal(t, 1, b.log.Get("remote").Length())
	assert.Equal(t, a.tab, b.log.Get("remote").Index(0).Get("source").String(), "onRemoteUpdate names the sender")
	assert.ElementsMatch(t, []string{"count", "name", "items", "nested"}, jsStrings(b.log.Get("remote").Index(0).Get("keys")))

	// And back.
	b.set("{name: 'bob'}")
	eventually(t, "a to get b's change", func() bool { return a.get("name") == `"bob"` })
	assert.Equal(t, "1", a.get("count"))
}
