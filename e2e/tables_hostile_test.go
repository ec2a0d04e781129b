//go:build e2e && !(js && wasm)

package e2e

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostileFrames are what a broken or malicious relay might send after one
// good update: each must be dropped and reported, and change nothing.
var hostileFrames = []string{
	`not json at all`,
	`{"type":"update","table":"scores","tableVersion":"seven","opId":"x.2","payload":{"operation":"set","key":"k","value":1}}`,
	`{"type":"update","table":"scores","tableVersion":3,"opId":"x.3","payload":{"operation":"set","key":"k","value":"backwards"}}`,
	`{"type":"update","table":"scores","tableVersion":6,"opId":"x.4","payload":{"operation":"set","key":"k","value":"replayed"}}`,
	`{"type":"ack","table":"scores","opId":"forged.1","tableVersion":99}`,
	`{"type":"snapshot","table":"scores","tableVersion":1,"payload":{}}`,
	`{"type":"update","table":"other","tableVersion":9,"opId":"x.5","payload":{"operation":"set","key":"k","value":1}}`,
	`{"type":"surprise"}`,
	`{"type":"update","table":"scores","tableVersion":10,"opId":"x.6","payload":{"operation":"explode","key":"k"}}`,
	`[1,2,3]`,
}

// A server that sends hostile frames: they are dropped and reported through
// onError, the local table stays as it was, and no event fires for them.
func TestTablesHostileServerFramesAreDroppedAndReported(t *testing.T) {
	sent := make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx, cancel := context.WithTimeout(r.Context(), 60*time.Second)
		defer cancel()
		write := func(s string) { _ = c.Write(ctx, websocket.MessageText, []byte(s)) }
		for {
			_, msg, err := c.Read(ctx)
			if err != nil {
				return
			}
			switch m := string(msg); {
			case strings.Contains(m, `"hello"`):
				write(`{"type":"welcome","v":1,"clientId":"c"}`)
			case strings.Contains(m, `"subscribe"`):
				write(`{"type":"synced","table":"scores","tableVersion":5}`)
				write(`{"type":"update","table":"scores","tableVersion":6,"opId":"x.1","originId":"other","payload":{"operation":"set","key":"k","value":"good"}}`)
				for _, f := range hostileFrames {
					write(f)
				}
				select {
				case <-sent:
				default:
					close(sent)
				}
			}
		}
	}))
	t.Cleanup(hs.Close)
	wsURL := "ws" + strings.TrimPrefix(hs.URL, "http") + "/sync"

	b := NewBrowser(t)
	tab := b.OpenTab(t, serveTables(t, b)+"/tables.html?db=hostile&server="+url.QueryEscape(wsURL))
	tab.WaitFor(t, `window.db && db.status === 'online'`, 20*time.Second)
	select {
	case <-sent:
	case <-time.After(10 * time.Second):
		t.Fatal("the hostile server never sent its frames")
	}
	tab.WaitFor(t, `errors.length >= 5`, 10*time.Second)
	time.Sleep(300 * time.Millisecond)
	evs := events(t, tab)
	require.Len(t, evs, 1, "only the good update is a change")
	assert.Equal(t, "good", evs[0].Op.Value)
	var v string
	tab.Eval(t, `db.get('scores', 'k')`, &v)
	assert.Equal(t, "good", v)
	var phases []string
	tab.Eval(t, `errors.map((e) => e.phase)`, &phases)
	for _, p := range phases {
		assert.Equal(t, "protocol", p)
	}
	var status string
	tab.Eval(t, `db.status`, &status)
	assert.Equal(t, "online", status, "the connection stays usable")
}
