//go:build e2e && !(js && wasm)

package e2e

import (
	"bytes"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/server/servertest"
)

// TestTablesDemoAcrossDevices uses the game-scores demo as two people on two
// devices would: what one saves shows on the other, with the events' origins
// and the connection status. The picture of the two side by side goes to
// $TABSYNC_TABLES_SCREENSHOT when set (docs/images/tables-demo.png is made
// that way), else to a temporary file.
func TestTablesDemoAcrossDevices(t *testing.T) {
	srv := servertest.Run(t, nil)
	const w, h, gap, scale = 596, 800, 8, 0.8
	var tabs []*Tab
	for i := 0; i < 2; i++ {
		b := NewBrowser(t)
		tab := b.OpenTab(t, b.ServeRepo(t)+"/tables/?server="+url.QueryEscape(srv.URL()))
		tab.SetViewport(t, int64(w/scale), int64(h/scale), scale)
		tab.WaitFor(t, `window.db !== undefined && db.status === 'online'`, 20*time.Second)
		tabs = append(tabs, tab)
	}
	add := func(tab *Tab, name string, score int) {
		tab.Eval(t, `((name, score) => {
			const $ = (id) => document.getElementById(id);
			$("name").value = name;
			$("score").value = String(score);
			$("add").requestSubmit();
			return true;
		})(`+"`"+name+"`"+`, `+strconv.Itoa(score)+`)`, nil)
	}
	add(tabs[0], "ada", 1500)
	add(tabs[1], "grace", 1700)
	add(tabs[0], "linus", 900)
	for _, tab := range tabs {
		// A change may show in getAll a moment before its event (the tab's
		// copy is updated as the frame arrives, the event fires once the
		// change is in IndexedDB): wait for both.
		tab.WaitFor(t, `document.querySelectorAll("#rows tr").length === 3 && db.pending === 0 &&
			document.querySelectorAll("#log li").length === 3`, 20*time.Second)
		tab.WaitFor(t, `document.getElementById("status").textContent === "online"`, 5*time.Second)
	}
	var origins []string
	tabs[1].Eval(t, `[...document.querySelectorAll("#log .origin")].map((e) => e.textContent)`, &origins)
	var logText []string
	tabs[1].Eval(t, `[...document.querySelectorAll("#log li")].map((e) => e.textContent)`, &logText)
	assert.ElementsMatch(t, []string{"server", "local", "server"}, origins, "the second device's log: %q", logText)
	for _, tab := range tabs {
		assert.Empty(t, tab.Exceptions(), "uncaught exceptions in %s", tab.URL())
	}

	out := os.Getenv("TABSYNC_TABLES_SCREENSHOT")
	if out == "" {
		out = filepath.Join(t.TempDir(), "tables-demo.png")
	}
	picture := image.NewRGBA(image.Rect(0, 0, 2*w+gap, h))
	draw.Draw(picture, picture.Bounds(), image.NewUniform(color.RGBA{0x2b, 0x2f, 0x45, 0xff}), image.Point{}, draw.Src)
	for i, tab := range tabs {
		shot, err := png.Decode(bytes.NewReader(tab.ViewportPNG(t)))
		require.NoError(t, err)
		at := image.Pt(i*(w+gap), 0)
		draw.Draw(picture, shot.Bounds().Add(at), shot, shot.Bounds().Min, draw.Src)
	}
	var buf bytes.Buffer
	require.NoError(t, (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, picture))
	require.NoError(t, os.MkdirAll(filepath.Dir(out), 0o755))
	require.NoError(t, os.WriteFile(out, buf.Bytes(), 0o644))
	t.Logf("screenshot of the two devices: %s (%d bytes)", out, buf.Len())
}
