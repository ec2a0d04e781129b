//go:build e2e && !(js && wasm)

package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wait bounds the waits of the behaviour tests: a change normally crosses
// tabs in milliseconds, so this only tells "never" from "slow machine".
const wait = 15 * time.Second

// suite is one browser shared by many behaviour tests, each on its own
// channel, so that starting Chromium is paid once. Tabs are reused too:
// opening one and loading the module costs about a second.
type suite struct {
	b    *Browser
	base string // URL of the server of e2e/testdata

	mu   sync.Mutex
	idle []*Tab // open test pages with nothing synced, for open to reuse
}

func newSuite(t *testing.T) *suite {
	b := NewBrowser(t)
	return &suite{b: b, base: b.ServeTestPage(t)}
}

// testPage is a tab showing e2e/testdata/page.html.
type testPage struct {
	*Tab
	id string // tabsync's tab id, once setup ran

	// What the tab had logged and thrown before this test had it.
	console, exceptions int
}

// open returns a tab showing the test page with the URL query (such as
// "?build=iife"): a page an earlier test left idle for the default query,
// else a new tab. When the test ends the tab is checked for uncaught
// exceptions; then its instance is destroyed and the tab left idle, or
// closed if it was opened with a query.
func (s *suite) open(t *testing.T, query string) *testPage {
	t.Helper()
	var tab *Tab
	s.mu.Lock()
	if query == "" && len(s.idle) > 0 {
		tab = s.idle[len(s.idle)-1]
		s.idle = s.idle[:len(s.idle)-1]
	}
	s.mu.Unlock()
	if tab == nil {
		tab = s.b.OpenTab(t, s.base+"/page.html"+query)
		tab.WaitFor(t, `window.pageReady === true`, LoadTimeout)
	}
	p := &testPage{Tab: tab, console: len(tab.Console()), exceptions: len(tab.Exceptions())}
	t.Cleanup(func() {
		assert.Empty(t, p.Exceptions(), "uncaught exceptions in %s", tab.URL())
		if query != "" || tab.isClosed() {
			tab.Close(t)
			return
		}
		tab.Eval(t, `reset(), true`, nil)
		s.mu.Lock()
		s.idle = append(s.idle, tab)
		s.mu.Unlock()
	})
	return p
}

// Console returns what the tab logged since this test has had it.
func (p *testPage) Console() []string { return p.Tab.Console()[p.console:] }

// Exceptions returns what the tab threw since this test has had it.
func (p *testPage) Exceptions() []string { return p.Tab.Exceptions()[p.exceptions:] }

// openSynced opens n tabs and sets each up with config on channel.
func (s *suite) openSynced(t *testing.T, n int, channel, config string) []*testPage {
	t.Helper()
	pages := make([]*testPage, n)
	for i := range pages {
		pages[i] = s.open(t, "")
		pages[i].setup(t, channel, config, "{}")
	}
	return pages
}

// channelFor names a BroadcastChannel for the test alone.
func channelFor(t *testing.T) string {
	return "e2e-" + strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
}

// setup creates the page's store with the initial state (a JavaScript
// expression) and syncs it on channel with config, the JavaScript text of
// the config object's other fields (such as `syncKeys: ["a"]`). It waits
// until the instance is ready.
func (p *testPage) setup(t *testing.T, channel, config, initial string) {
	t.Helper()
	p.Eval(t, fmt.Sprintf(`setup({channelName: %q, %s}, %s)`, channel, config, initial), &p.id)
	require.NotEmpty(t, p.id)
}

// set calls store.setState with partial, a JavaScript expression, and
// returns the page's Date.now() at the write.
func (p *testPage) set(t *testing.T, partial string) int64 {
	t.Helper()
	var at int64
	p.Eval(t, `set(`+partial+`)`, &at)
	return at
}

// state returns the store's state (functions and DOM nodes named, see
// page.js).
func (p *testPage) state(t *testing.T) map[string]any {
	t.Helper()
	var s map[string]any
	p.Eval(t, `state()`, &s)
	return s
}

// waitFor waits until the JavaScript condition holds in the page. If it
// does not, the failure shows the store's state and the tabsync callbacks'
// record, which most conditions are about.
func (p *testPage) waitFor(t *testing.T, cond string) {
	t.Helper()
	err := p.Await(cond, wait)
	if err == nil {
		return
	}
	var seen string
	if e := p.eval(CallTimeout, `JSON.stringify({state: typeof state === "function" ? state() : undefined, calls: typeof calls === "object" ? calls : undefined})`, &seen); e != nil {
		seen = "(reading the page failed: " + e.Error() + ")"
	}
	t.Fatalf("%v\nthe page (tab %s) holds: %s", err, p.id, seen)
}

// stats is getStats().
type stats struct {
	Sent            int            `json:"sent"`
	Received        int            `json:"received"`
	Applied         int            `json:"applied"`
	Conflicts       int            `json:"conflicts"`
	Dropped         int            `json:"dropped"`
	DroppedByReason map[string]int `json:"droppedByReason"`
}

func (p *testPage) stats(t *testing.T) stats {
	t.Helper()
	var s stats
	p.Eval(t, `stats()`, &s)
	return s
}

// calls is what the page's tabsync callbacks have received.
type calls struct {
	Errors []struct {
		Phase   string `json:"phase"`
		Message string `json:"message"`
		TabID   string `json:"tabId"`
	} `json:"errors"`
	Remote []struct {
		Keys   []string `json:"keys"`
		Source string   `json:"source"`
	} `json:"remote"`
	States   []string `json:"states"`
	Resolver int      `json:"resolver"`
}

func (p *testPage) calls(t *testing.T) calls {
	t.Helper()
	var c calls
	p.Eval(t, `calls`, &c)
	return c
}

// errorText joins the onError reports of the page, one per line.
func (c calls) errorText() string {
	var b strings.Builder
	for _, e := range c.Errors {
		fmt.Fprintf(&b, "[%s] %s\n", e.Phase, e.Message)
	}
	return b.String()
}

// wireMessage is a message seen on the channel by a plain BroadcastChannel
// listener (see watch in page.js).
type wireMessage struct {
	Type    string         `json:"type"`
	TabID   string         `json:"tabId"`
	Payload map[string]any `json:"payload"`
	Raw     string         `json:"-"`
}

// wire returns the messages the page's watcher has seen so far.
func (p *testPage) wire(t *testing.T) []wireMessage {
	t.Helper()
	var raw []json.RawMessage
	p.Eval(t, `wire`, &raw)
	out := make([]wireMessage, len(raw))
	for i, r := range raw {
		require.NoError(t, json.Unmarshal(r, &out[i]))
		out[i].Raw = string(r)
	}
	return out
}

// stateKeys returns the keys of a STATE_UPDATE's or STATE_RESPONSE's state
// and meta.
func (m wireMessage) stateKeys() []string {
	var keys []string
	for _, part := range []string{"state", "meta"} {
		if obj, ok := m.Payload[part].(map[string]any); ok {
			for k := range obj {
				keys = append(keys, part+"."+k)
			}
		}
	}
	return keys
}
