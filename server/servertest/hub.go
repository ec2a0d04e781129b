//go:build !js

package servertest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Hub is the bare WebSocket hub the benchmarks measure the relay against,
// the physical limit of relaying on this machine: every text message a
// connection sends goes to every other connection, and nothing is checked
// or stored.
type Hub struct {
	URL string // ws://127.0.0.1:port

	mu    sync.Mutex
	conns map[*websocket.Conn]bool
	store func(msg []byte) error // RunStoringHub's, before a message is forwarded
}

// RunHub starts a Hub on 127.0.0.1 with a free port and closes it when the
// test ends.
func RunHub(t testing.TB) *Hub {
	t.Helper()
	return runHub(t, &Hub{conns: map[*websocket.Conn]bool{}})
}

func runHub(t testing.TB, h *Hub) *Hub {
	srv := httptest.NewServer(http.HandlerFunc(h.serve))
	t.Cleanup(srv.Close)
	h.URL = "ws" + strings.TrimPrefix(srv.URL, "http")
	return h
}

// RunStoringHub is RunHub with the one step every relay that stores a
// change before it relays it takes: each message is published to a
// JetStream file stream of an embedded NATS server, as tabsync-server's
// embedded one is configured (no NATS port, a message id for JetStream's
// dedupe), and forwarded once JetStream acknowledged it. It is the floor of
// tabsync-server's hop: what no relay built on JetStream can go under, with
// nothing of tabsync's own (no frame read, no checks, no version kept).
func RunStoringHub(t testing.TB) *Hub {
	t.Helper()
	ns, err := natsserver.NewServer(&natsserver.Options{ServerName: "storing-hub", DontListen: true, JetStream: true,
		StoreDir: t.TempDir(), NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatalf("servertest: storing hub: %v", err)
	}
	ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(30 * time.Second) {
		t.Fatal("servertest: storing hub: NATS did not start within 30 s")
	}
	nc, err := nats.Connect("", nats.InProcessServer(ns))
	if err != nil {
		t.Fatalf("servertest: storing hub: %v", err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("servertest: storing hub: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "HUB", Subjects: []string{"hub.>"},
		Storage: jetstream.FileStorage, MaxMsgsPerSubject: 64, Duplicates: 24 * time.Hour}); err != nil {
		t.Fatalf("servertest: storing hub: %v", err)
	}
	var n atomic.Int64
	return runHub(t, &Hub{conns: map[*websocket.Conn]bool{}, store: func(msg []byte) error {
		m := nats.NewMsg("hub.k")
		m.Header.Set(jetstream.MsgIDHeader, "m-"+strconv.FormatInt(n.Add(1), 10))
		m.Data = msg
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := js.PublishMsg(ctx, m)
		return err
	}})
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
		if h.store != nil && h.store(msg) != nil {
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
