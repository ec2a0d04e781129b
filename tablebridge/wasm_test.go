//go:build !js

package tablebridge_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/tabsync/tabsync/server/servertest"
)

// TestWasm starts a real tabsync-server on loopback, then runs this
// package's browser tests (GOOS=js, in headless Chromium through
// tools/wasmtest.sh) against it, as coder/websocket's TestWasm does. It
// needs a browser and the pinned tools: make wasm-test runs it with
// TABSYNC_WASM_TEST=1; a plain go test skips it.
func TestWasm(t *testing.T) {
	if os.Getenv("TABSYNC_WASM_TEST") == "" {
		t.Skip("set TABSYNC_WASM_TEST=1 (make wasm-test does) to run the browser tests against a real server")
	}
	srv := servertest.Run(t, nil)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(filepath.Join(root, "tools", "wasmtest.sh"), "-timeout", "3m", "-count=1", "./tablebridge")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "TABSYNC_SERVER_URL="+srv.URL())
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatal(err)
	}
}
