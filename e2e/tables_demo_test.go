//go:build e2e && !(js && wasm)

package e2e

import (
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

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

	saveSideBySide(t, tabs, w, h, gap, "TABSYNC_TABLES_SCREENSHOT", "tables-demo.png")
}
