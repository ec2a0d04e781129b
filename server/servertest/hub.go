//go:build !js

package servertest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"
)

// Hub is the bare WebSocket hub the benchmarks measure the relay against,
// the physical limit of relaying on this machine: every text message a
// connection sends goes to every other connection, and nothing is checked
// or stored.
type Hub struct {
	URL string // ws://127.0.0.1:port

	mu    sync.Mutex
	conns map[*websocket.Conn]bool
}

// RunHub starts a Hub on 127.0.0.1 with a free port and closes it when the
// test ends.
func RunHub(t testing.TB) *Hub {
	t.Helper()
	h := &Hub{conns: map[*websocket.Conn]bool{}}
	srv := httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(srv.Close)
	h.URL = "ws" + strings.TrimPrefix(srv.URL, "http")
	return h
}

// Conns returns how many connections the hub holds.
func (h *Hub) Conns() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.conns)
}

func (h *Hub) serve(w http.ResponseWriter, r *http.Request) {
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	defer c.CloseNow()
	h.mu.Lock()
	h.conns[c] = true
	h.mu.Unlock()
	defer func() { h.mu.Lock(); delete(h.conns, c); h.mu.Unlock() }()
	for {
		_, msg, err := c.Read(context.Background())
		if err != nil {
			return
		}
		h.mu.Lock()
		for o := range h.conns {
			if o != c {
				_ = o.Write(context.Background(), websocket.MessageText, msg)
			}
		}
		h.mu.Unlock()
	}
}
