package tables_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The core stays pure: no clock, no I/O, no browser, no fmt or JSON (as
// built for the browser: natively tableproto adds its JSON codec).
func TestCoreImports(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "github.com/tabsync/tabsync/tables")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	require.NoError(t, err)
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"time", "os", "net", "syscall/js", "fmt", "encoding/json"} {
			require.NotEqual(t, banned, dep, "package tables must not depend on %s", banned)
		}
	}
}
