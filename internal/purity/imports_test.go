package purity

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The core packages: stepped by inputs, returning outputs, tested natively.
// jsbridge, wasm and the server are the edges that touch the world.
var core = []string{"sync", "leader", "conflict", "protocol", "persist", "tables", "tableproto"}

// What no core package may reach, built as the browser builds it (natively
// tableproto adds its JSON codec for the server and the Go client).
var banned = []string{"time", "os", "net", "syscall/js", "fmt", "encoding/json", "reflect"}

func TestCoreImports(t *testing.T) {
	for _, pkg := range core {
		t.Run(pkg, func(t *testing.T) {
			cmd := exec.Command("go", "list", "-deps", "github.com/tabsync/tabsync/"+pkg)
			cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
			out, err := cmd.Output()
			require.NoError(t, err)
			deps := strings.Fields(string(out))
			for _, b := range banned {
				assert.NotContains(t, deps, b, "package %s must not depend on %s", pkg, b)
			}
			for _, d := range deps {
				assert.False(t, strings.HasPrefix(d, "github.com/nats-io/"), "package %s must not depend on %s", pkg, d)
			}
		})
	}
}

// TestTheModuleWithoutPersistenceImportsNoStrings: strings links the
// unicode package and its initialised tables into tabsync-nopersist.wasm
// (3 KB gzipped); internal/gostring has what the module needs of it.
func TestTheModuleWithoutPersistenceImportsNoStrings(t *testing.T) {
	cmd := exec.Command("go", "list", "-deps", "-tags", "nopersist", "github.com/tabsync/tabsync/wasm")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	out, err := cmd.Output()
	require.NoError(t, err)
	deps := strings.Fields(string(out))
	assert.NotContains(t, deps, "strings")
	assert.NotContains(t, deps, "unicode")
}
