//go:build !js

package tableproto

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWasmImports keeps the js/wasm build of this package free of the
// packages the browser module avoids for size.
func TestWasmImports(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", ".")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	require.NoError(t, err)
	deps := strings.Fields(string(out))
	for _, banned := range []string{"encoding/json", "fmt", "reflect", "time", "os", "net"} {
		assert.NotContains(t, deps, banned)
	}
}
