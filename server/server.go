//go:build !js

package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	natsserver "github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Errors of the lifecycle.
var (
	ErrStarted  = errors.New("server: already started")
	ErrShutdown = errors.New("server: shut down")
)

// Server is a tabsync relay: WebSocket clients at /sync, tables in NATS
// JetStream. It is an http.Handler (/sync, /healthz, /metrics), so it can
// also be mounted in another server; Start serves it on Options.Listen.
type Server struct {
	opts Options
	log  *slog.Logger

	ns *natsserver.Server // the embedded NATS server; nil with NATSURLs
	nc *nats.Conn
	js jetstream.JetStream

	ln      net.Listener
	httpSrv *http.Server
	mux     *http.ServeMux

	mu     sync.Mutex
	tables map[string]*table
	conns  map[*conn]struct{}

	nconns   atomic.Int64
	opGate   sync.RWMutex   // orders inflight.Add before Shutdown's Wait
	inflight sync.WaitGroup // operations being stored
	connWG   sync.WaitGroup // connection goroutines
	started  atomic.Bool
	stopping atomic.Bool // no new operations; set first in Shutdown
	shutdown atomic.Bool
	ready    chan struct{}
	done     chan struct{}
	metrics  metrics
}

// New checks opts, fills in defaults and returns a Server. It does no I/O:
// Start does.
func New(opts *Options) (*Server, error) {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	o.defaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	s := &Server{
		opts:   o,
		log:    o.Logger,
		tables: map[string]*table{},
		conns:  map[*conn]struct{}{},
		ready:  make(chan struct{}),
		done:   make(chan struct{}),
	}
	s.metrics.init()
	s.mux = http.NewServeMux()
	s.mux.HandleFunc("/sync", s.serveSync)
	s.mux.HandleFunc("/healthz", s.serveHealth)
	s.mux.HandleFunc("/metrics", s.serveMetrics)
	return s, nil
}

// Options returns the options in effect, defaults filled in.
func (s *Server) Options() Options { return s.opts }

// ServeHTTP serves /sync (WebSocket), /healthz and /metrics. Before Start
// has connected to NATS, /sync and /healthz answer 503.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Start connects to NATS (starting the embedded server unless NATSURLs is
// set), then listens on Options.Listen. It does not block; it returns once
// the server accepts connections, or with the error that prevented it.
func (s *Server) Start() error {
	if !s.started.CompareAndSwap(false, true) {
		return ErrStarted
	}
	if s.shutdown.Load() {
		return ErrShutdown
	}
	if err := s.connectNATS(); err != nil {
		s.stopNATS()
		return err
	}
	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		s.stopNATS()
		return fmt.Errorf("server: --listen %s: %w", s.opts.Listen, err)
	}
	s.ln = ln
	s.httpSrv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	tls := s.opts.TLSCert != ""
	go func() {
		var err error
		if tls {
			err = s.httpSrv.ServeTLS(ln, s.opts.TLSCert, s.opts.TLSKey)
		} else {
			err = s.httpSrv.Serve(ln)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("serving stopped", "err", err)
		}
	}()
	close(s.ready)
	s.logStart()
	return nil
}

func (s *Server) logStart() {
	scheme := "ws"
	if s.opts.TLSCert != "" {
		scheme = "wss"
	}
	storage := "embedded NATS JetStream in " + s.opts.DataDir
	if s.ns == nil {
		storage = "NATS cluster " + strings.Join(s.opts.NATSURLs, ",")
	}
	s.log.Info("tabsync-server listening", "url", s.URL(), "scheme", scheme, "storage", storage,
		"replicas", s.opts.Replicas, "dedupeWindow", s.opts.DedupeWindow.String(), "syncAlways", s.opts.SyncAlways)
	if len(s.opts.Tokens) == 0 {
		s.log.Warn("no TOKEN and no --token-file: open access, any client may read and write every table")
	} else {
		s.log.Info("token auth on", "tokens", len(s.opts.Tokens))
	}
	if len(s.opts.AllowOrigins) == 0 {
		s.log.Info("no --allow-origin: WebSockets from pages of any origin are accepted (the token is the credential)")
	}
}

func (s *Server) connectNATS() error {
	o := &s.opts
	var err error
	if len(o.NATSURLs) == 0 {
		s.ns, err = natsserver.NewServer(&natsserver.Options{
			ServerName: "tabsync",
			DontListen: true, // no NATS port: clients reach it in process
			JetStream:  true,
			StoreDir:   o.DataDir,
			SyncAlways: o.SyncAlways,
			MaxPayload: int32(o.MaxMessageBytes + 64<<10),
			NoLog:      true,
			NoSigs:     true,
		})
		if err != nil {
			return fmt.Errorf("server: embedded NATS: %w", err)
		}
		s.ns.Start()
		if !s.ns.ReadyForConnections(30 * time.Second) {
			return fmt.Errorf("server: embedded NATS in %s did not start within 30 s", o.DataDir)
		}
		s.nc, err = nats.Connect("", nats.InProcessServer(s.ns), nats.Name("tabsync-server"))
	} else {
		s.nc, err = nats.Connect(strings.Join(o.NATSURLs, ","), nats.Name("tabsync-server"),
			nats.MaxReconnects(-1), nats.ReconnectWait(100*time.Millisecond), nats.RetryOnFailedConnect(false),
			nats.DisconnectErrHandler(func(_ *nats.Conn, err error) { s.log.Warn("NATS disconnected", "err", err) }),
			nats.ReconnectHandler(func(nc *nats.Conn) { s.log.Info("NATS reconnected", "url", nc.ConnectedUrlRedacted()) }))
	}
	if err != nil {
		return fmt.Errorf("server: connecting to NATS: %w", err)
	}
	s.js, err = jetstream.New(s.nc)
	if err != nil {
		return fmt.Errorf("server: JetStream: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.js.AccountInfo(ctx); err != nil {
		return fmt.Errorf("server: JetStream is not available on NATS: %w", err)
	}
	return nil
}

func (s *Server) stopNATS() {
	if s.nc != nil {
		s.nc.Close()
	}
	if s.ns != nil {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
	}
}

// Addr is the address the server listens on (useful with port 0), or nil
// before Start.
func (s *Server) Addr() net.Addr {
	if s.ln == nil {
		return nil
	}
	return s.ln.Addr()
}

// URL is the WebSocket URL of /sync, e.g. ws://127.0.0.1:8081/sync, or ""
// before Start.
func (s *Server) URL() string {
	if s.ln == nil {
		return ""
	}
	scheme := "ws"
	if s.opts.TLSCert != "" {
		scheme = "wss"
	}
	return scheme + "://" + s.ln.Addr().String() + "/sync"
}

// ReadyForConnections waits up to d for Start to finish and reports whether
// the server accepts connections.
func (s *Server) ReadyForConnections(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.ready:
		return !s.shutdown.Load()
	case <-t.C:
		return false
	}
}

// Done is closed when Shutdown has finished.
func (s *Server) Done() <-chan struct{} { return s.done }

// Shutdown stops the server: it stops accepting connections, refuses new
// operations with shuttingDown, waits (up to ctx and ShutdownTimeout) for the
// operations in flight to be stored and acknowledged, closes every
// connection with status 1001 (going away) so clients reconnect elsewhere,
// then closes NATS and stops the embedded server. Calling it again does
// nothing and returns nil.
func (s *Server) Shutdown(ctx context.Context) error {
	if !s.shutdown.CompareAndSwap(false, true) {
		return nil
	}
	defer close(s.done)
	s.opGate.Lock()
	s.mu.Lock()
	s.stopping.Store(true)
	s.mu.Unlock()
	s.opGate.Unlock()
	var firstErr error
	if s.httpSrv != nil {
		hctx, cancel := context.WithTimeout(ctx, s.opts.ShutdownTimeout)
		if err := s.httpSrv.Shutdown(hctx); err != nil {
			firstErr = fmt.Errorf("server: stopping the listener: %w", err)
		}
		cancel()
	}
	if !waitGroup(ctx, &s.inflight, s.opts.ShutdownTimeout) {
		s.log.Warn("shutdown: operations still in flight after the timeout; their clients get no ack and will retry")
	}
	s.mu.Lock()
	for c := range s.conns {
		c.fail(codeShuttingDown, "the server is shutting down; reconnect", statusGoingAway)
	}
	s.mu.Unlock()
	if !waitGroup(ctx, &s.connWG, s.opts.ShutdownTimeout) {
		s.mu.Lock()
		for c := range s.conns {
			c.ws.CloseNow()
		}
		s.mu.Unlock()
		s.connWG.Wait()
	}
	s.mu.Lock()
	for _, t := range s.tables {
		t.stop()
	}
	s.mu.Unlock()
	s.stopNATS()
	s.log.Info("tabsync-server stopped")
	return firstErr
}

// beginOp registers an operation in flight; false once shutting down.
func (s *Server) beginOp() bool {
	s.opGate.RLock()
	defer s.opGate.RUnlock()
	if s.stopping.Load() {
		return false
	}
	s.inflight.Add(1)
	return true
}

// waitGroup waits for wg, at most d or until ctx ends; false if it gave up.
func waitGroup(ctx context.Context, wg *sync.WaitGroup, d time.Duration) bool {
	ch := make(chan struct{})
	go func() { wg.Wait(); close(ch) }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-ctx.Done():
	case <-t.C:
	}
	return false
}

func (s *Server) serveHealth(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	switch {
	case s.nc == nil || !isClosed(s.ready):
		http.Error(w, "starting", http.StatusServiceUnavailable)
	case s.stopping.Load():
		http.Error(w, "shutting down", http.StatusServiceUnavailable)
	case !s.nc.IsConnected():
		http.Error(w, "NATS: "+s.nc.Status().String(), http.StatusServiceUnavailable)
	default:
		fmt.Fprintln(w, "ok")
	}
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
