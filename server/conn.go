//go:build !js

package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/tabsync/tabsync/tableproto"
)

// Short names for the codes and close statuses used here.
const (
	codeShuttingDown = tableproto.CodeShuttingDown
	statusGoingAway  = websocket.StatusGoingAway
	maxOpsInFlight   = 256 // per connection; the reader waits beyond it
	writeTimeout     = 10 * time.Second
	storeTimeout     = 10 * time.Second
)

// conn is one client connection: a reader (the handler's goroutine) and a
// writer goroutine draining a queue of encoded frames.
type conn struct {
	s        *Server
	ws       *websocket.Conn
	ctx      context.Context
	cancel   context.CancelFunc
	id       string
	token    *Token      // nil with open access
	hello    bool        // reader only
	welcomed atomic.Bool // hello accepted: the timer is the idle timeout

	mu       sync.Mutex
	queue    [][]byte
	qbytes   int
	closing  bool
	status   websocket.StatusCode
	reason   string
	tables   map[string]*table
	writing  bool // a drain goroutine is running
	resident bool // subscribed: the drain goroutine stays, waiting on wake
	wake     chan struct{}
	writers  sync.WaitGroup // drain goroutines

	timer  *time.Timer // hello, then idle timeout
	tokens float64     // rate limit bucket (reader only)
	last   time.Time
	sem    chan struct{}
	ops    sync.WaitGroup

	// The operations of one key are stored one after another, in the order
	// the connection sent them: those of different keys are stored
	// concurrently, so without this a set and a delete of one key sent
	// together could be stored delete first and leave the key set.
	keyMu   sync.Mutex
	keyLast map[opKey]chan struct{} // closed when the key's last operation is done
}

type opKey struct{ table, key string }

func (s *Server) serveSync(w http.ResponseWriter, r *http.Request) {
	if !isClosed(s.ready) {
		http.Error(w, "starting", http.StatusServiceUnavailable)
		return
	}
	ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		OriginPatterns:     s.opts.AllowOrigins,
		InsecureSkipVerify: len(s.opts.AllowOrigins) == 0, // any origin: the token is the credential (TABLES.md)
		CompressionMode:    websocket.CompressionDisabled,
	})
	if err != nil {
		s.log.Debug("websocket accept failed", "remote", r.RemoteAddr, "origin", r.Header.Get("Origin"), "err", err)
		s.metrics.rejectedOrigin.Add(1)
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &conn{s: s, ws: ws, ctx: ctx, cancel: cancel, tables: map[string]*table{},
		sem: make(chan struct{}, maxOpsInFlight), wake: make(chan struct{}, 1),
		tokens: float64(s.opts.OpsPerSecond), last: time.Now()}
	ws.SetReadLimit(int64(s.opts.MaxMessageBytes))

	s.mu.Lock()
	if s.stopping.Load() {
		s.mu.Unlock()
		cancel()
		ws.Close(statusGoingAway, "shutting down")
		return
	}
	full := s.nconns.Load() >= int64(s.opts.MaxConnections)
	if !full {
		s.conns[c] = struct{}{}
		s.nconns.Add(1)
	}
	s.connWG.Add(1)
	s.mu.Unlock()
	defer s.connWG.Done()
	if full {
		s.metrics.refused(tableproto.CodeTooManyConnections)
		b, _ := tableproto.Encode(tableproto.Frame{Type: tableproto.Error, Code: tableproto.CodeTooManyConnections,
			Message: "the server has " + strconv.Itoa(s.opts.MaxConnections) + " connections; try another or later"})
		wctx, wcancel := context.WithTimeout(ctx, writeTimeout)
		ws.Write(wctx, websocket.MessageText, b)
		wcancel()
		ws.Close(websocket.StatusTryAgainLater, "too many connections")
		cancel()
		return
	}
	s.metrics.connections.Add(1)
	c.timer = time.AfterFunc(s.opts.HelloTimeout, func() {
		if c.welcomed.Load() {
			s.metrics.refused(tableproto.CodeIdleTimeout)
			c.fail(tableproto.CodeIdleTimeout, "nothing received for "+s.opts.IdleTimeout.String(), websocket.StatusGoingAway)
		} else {
			s.metrics.refused(tableproto.CodeAuthTimeout)
			c.fail(tableproto.CodeAuthTimeout, "no hello within "+s.opts.HelloTimeout.String(), websocket.StatusPolicyViolation)
		}
	})
	c.readLoop()

	c.timer.Stop()
	c.mu.Lock()
	tables := c.tables
	c.tables = map[string]*table{}
	c.mu.Unlock()
	for _, t := range tables {
		t.unsubscribe(c)
		s.metrics.subscriptions.Add(-1)
	}
	c.ops.Wait() // their acks go into the queue before it is closed
	c.fail("", "", websocket.StatusNormalClosure)
	c.writers.Wait()
	cancel()
	s.mu.Lock()
	delete(s.conns, c)
	s.nconns.Add(-1)
	s.mu.Unlock()
	s.metrics.connections.Add(-1)
}

func (c *conn) readLoop() {
	for {
		typ, b, err := c.ws.Read(c.ctx)
		if err != nil {
			if errors.Is(err, websocket.ErrMessageTooBig) {
				c.s.metrics.refused(tableproto.CodeMessageTooBig)
			}
			return
		}
		if c.hello {
			c.timer.Reset(c.s.opts.IdleTimeout)
		}
		if typ != websocket.MessageText {
			c.refuse(&tableproto.Frame{}, tableproto.CodeBadMessage, "frames are JSON text messages, not binary")
			continue
		}
		if !c.handle(b) {
			return
		}
	}
}

// handle processes one frame; false ends the connection.
func (c *conn) handle(b []byte) bool {
	s := c.s
	f, perr := tableproto.Decode(b)
	if perr == nil {
		perr = tableproto.CheckClient(&f, s.opts.MaxValueBytes)
	}
	if !c.hello {
		switch {
		case perr != nil:
			c.refuseFatal(perr.Code, perr.Message, websocket.StatusPolicyViolation)
		case f.Type != tableproto.Hello:
			c.refuseFatal(tableproto.CodeHelloRequired, "the first frame must be a hello", websocket.StatusPolicyViolation)
		default:
			return c.doHello(&f)
		}
		return false
	}
	if perr != nil {
		c.refuse(&f, perr.Code, perr.Message)
		return true
	}
	switch f.Type {
	case tableproto.Hello:
		c.refuse(&f, tableproto.CodeHelloRequired, "hello was already sent")
	case tableproto.Ping:
		c.sendFrame(tableproto.Frame{Type: tableproto.Pong, ID: f.ID}, false)
	case tableproto.Subscribe:
		c.doSubscribe(&f)
	case tableproto.Unsubscribe:
		c.mu.Lock()
		t := c.tables[f.Table]
		delete(c.tables, f.Table)
		c.mu.Unlock()
		if t != nil {
			t.unsubscribe(c)
			s.metrics.subscriptions.Add(-1)
		}
	case tableproto.Operation:
		c.doOperation(&f)
	}
	return true
}

func (c *conn) doHello(f *tableproto.Frame) bool {
	s := c.s
	if len(s.opts.Tokens) > 0 {
		c.token = s.matchToken(f.Token)
		if c.token == nil {
			msg := "wrong token"
			if f.Token == "" {
				msg = "this server needs a token in hello"
			}
			c.refuseFatal(tableproto.CodeUnauthorized, msg, websocket.StatusPolicyViolation)
			return false
		}
	}
	c.id = f.ClientID
	if c.id == "" {
		var rnd [12]byte
		rand.Read(rnd[:])
		c.id = "c-" + b64.EncodeToString(rnd[:])
	}
	c.hello = true
	c.welcomed.Store(true)
	c.timer.Reset(s.opts.IdleTimeout)
	c.sendFrame(tableproto.Frame{Type: tableproto.Welcome, V: tableproto.Version, ClientID: c.id, Limits: &tableproto.Limits{
		MaxMessageBytes: s.opts.MaxMessageBytes, MaxValueBytes: s.opts.MaxValueBytes, MaxTables: s.opts.MaxTables,
		OpsPerSecond: s.opts.OpsPerSecond, IdleTimeoutMs: s.opts.IdleTimeout.Milliseconds()}}, false)
	return true
}

// matchToken compares the given token with every configured one in
// constant time (over SHA-256 digests, so lengths do not leak either).
func (s *Server) matchToken(given string) *Token {
	g := sha256.Sum256([]byte(given))
	var found *Token
	for i := range s.opts.Tokens {
		t := sha256.Sum256([]byte(s.opts.Tokens[i].Secret))
		if subtle.ConstantTimeCompare(g[:], t[:]) == 1 && found == nil {
			found = &s.opts.Tokens[i]
		}
	}
	return found
}

func (c *conn) doSubscribe(f *tableproto.Frame) {
	s := c.s
	if c.token != nil && !c.token.Allows(f.Table) {
		c.refuse(f, tableproto.CodeForbidden, "this token does not cover table "+f.Table)
		return
	}
	c.mu.Lock()
	old := c.tables[f.Table]
	if old == nil && len(c.tables) >= s.opts.MaxTables {
		c.mu.Unlock()
		c.refuse(f, tableproto.CodeTooManyTables, "this connection already subscribes to "+strconv.Itoa(s.opts.MaxTables)+" tables")
		return
	}
	c.mu.Unlock()
	t := s.table(f.Table)
	ctx, cancel := context.WithTimeout(c.ctx, storeTimeout)
	err := t.load(ctx)
	cancel()
	if err != nil {
		s.log.Warn("subscribe failed", "table", f.Table, "err", err)
		c.refuse(f, tableproto.CodeUnavailable, "the table could not be loaded; subscribe again later")
		return
	}
	if old != nil {
		old.unsubscribe(c)
	} else {
		s.metrics.subscriptions.Add(1)
	}
	c.mu.Lock()
	c.tables[f.Table] = t
	c.resident = true
	c.mu.Unlock()
	t.subscribe(c, f.Since)
}

func (c *conn) doOperation(f *tableproto.Frame) {
	s := c.s
	if c.token != nil && (c.token.ReadOnly || !c.token.Allows(f.Table)) {
		msg := "this token may not write"
		if !c.token.Allows(f.Table) {
			msg = "this token does not cover table " + f.Table
		}
		c.refuse(f, tableproto.CodeForbidden, msg)
		return
	}
	now := time.Now()
	rate := float64(s.opts.OpsPerSecond)
	c.tokens = min(rate, c.tokens+now.Sub(c.last).Seconds()*rate)
	c.last = now
	if c.tokens < 1 {
		c.refuse(f, tableproto.CodeRateLimited, "more than "+strconv.Itoa(s.opts.OpsPerSecond)+" operations per second; send it again later")
		return
	}
	c.tokens--
	if !s.beginOp() {
		c.refuse(f, tableproto.CodeShuttingDown, "the server is shutting down; send it again after reconnecting")
		return
	}
	c.sem <- struct{}{}
	c.ops.Add(1)
	op := *f
	prev, done := c.after(opKey{op.Table, op.Change.Key})
	go func() {
		defer func() { c.finished(opKey{op.Table, op.Change.Key}, done); <-c.sem; c.ops.Done(); s.inflight.Done() }()
		if prev != nil {
			<-prev // started earlier, so it holds a place in sem already
		}
		t := s.table(op.Table)
		ctx, cancel := context.WithTimeout(context.Background(), storeTimeout)
		defer cancel()
		err := t.ensure(ctx)
		var version uint64
		var dup bool
		published := time.Now()
		if err == nil {
			version, dup, err = t.publish(ctx, &op, c.id)
		}
		if err != nil {
			s.log.Warn("operation not stored", "table", op.Table, "opId", op.OpID, "err", err)
			s.metrics.ops("unavailable")
			c.refuse(&op, tableproto.CodeUnavailable, "storage did not confirm the operation; send it again with the same opId")
			return
		}
		ack := tableproto.Frame{Type: tableproto.Ack, Table: op.Table, OpID: op.OpID, TableVersion: version, Duplicate: dup}
		queued := false
		if dup {
			s.metrics.ops("duplicate")
		} else {
			s.metrics.ops("stored")
			// The ack goes out between the writer's own update and the
			// other clients' (table.apply says why).
			queued = t.acked(version, &op, c.id, published, func() { c.sendFrame(ack, false) })
		}
		if !queued {
			c.sendFrame(ack, false)
		}
	}()
}

// after registers an operation of k and returns the channel of the one
// before it still being stored (nil if none) and its own.
func (c *conn) after(k opKey) (prev, done chan struct{}) {
	done = make(chan struct{})
	c.keyMu.Lock()
	defer c.keyMu.Unlock()
	if c.keyLast == nil {
		c.keyLast = map[opKey]chan struct{}{}
	}
	prev = c.keyLast[k]
	c.keyLast[k] = done
	return prev, done
}

// finished marks the operation of k whose channel is done as stored or
// refused, letting the next one of k go.
func (c *conn) finished(k opKey, done chan struct{}) {
	c.keyMu.Lock()
	defer c.keyMu.Unlock()
	if c.keyLast[k] == done {
		delete(c.keyLast, k)
	}
	close(done)
}

// refuse answers f with an error frame and counts it; the connection stays.
func (c *conn) refuse(f *tableproto.Frame, code tableproto.Code, msg string) {
	c.s.metrics.refused(code)
	if f.Type == tableproto.Operation {
		c.s.metrics.ops("refused")
	}
	c.sendFrame(f.Err(code, msg), false)
}

// refuseFatal counts code and closes the connection after sending it.
func (c *conn) refuseFatal(code tableproto.Code, msg string, status websocket.StatusCode) {
	c.s.metrics.refused(code)
	c.fail(code, msg, status)
}

func (c *conn) sendFrame(f tableproto.Frame, force bool) {
	b, err := tableproto.Encode(f)
	if err != nil {
		c.s.log.Error("encoding a frame", "type", f.Type, "err", err)
		return
	}
	c.send(b, force)
}

// send queues b for the writer. Unless force is set (catch-up frames, which
// are bounded by the table), a queue over MaxQueueBytes closes the
// connection as a slow consumer: it reconnects and resumes with since.
func (c *conn) send(b []byte, force bool) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	if !force && c.qbytes+len(b) > c.s.opts.MaxQueueBytes {
		c.mu.Unlock()
		c.s.metrics.refused(tableproto.CodeSlowConsumer)
		c.fail(tableproto.CodeSlowConsumer, "more than "+strconv.Itoa(c.s.opts.MaxQueueBytes)+
			" bytes waiting to be sent; reconnect and subscribe with since", websocket.StatusPolicyViolation)
		return
	}
	c.queue = append(c.queue, b)
	c.qbytes += len(b)
	c.kick()
	c.mu.Unlock()
}

// kick starts a drain goroutine unless one runs; c.mu is held. An idle
// connection has no writer goroutine (its stack would cost about 8 KB).
func (c *conn) kick() {
	if !c.writing {
		c.writing = true
		c.writers.Add(1)
		go c.drain()
		return
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// fail queues an error frame with code (none if empty), then has the writer
// close the connection with status once the queue is sent. Only the first
// call counts.
func (c *conn) fail(code tableproto.Code, msg string, status websocket.StatusCode) {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return
	}
	if code != "" {
		b, _ := tableproto.Encode(tableproto.Frame{Type: tableproto.Error, Code: code, Message: msg})
		c.queue = append(c.queue, b)
	}
	c.closing, c.status, c.reason = true, status, string(code)
	c.kick()
	c.mu.Unlock()
}

// drain writes the queue until it is empty, then ends; once closing, it
// closes the connection with the status fail gave after the last frame.
func (c *conn) drain() {
	defer c.writers.Done()
	for {
		c.mu.Lock()
		q := c.queue
		c.queue = nil
		c.qbytes = 0
		if len(q) == 0 {
			closing, resident := c.closing, c.resident
			if !resident || closing {
				c.writing = closing // a closed connection gets no new writer
			}
			c.mu.Unlock()
			if closing {
				c.ws.Close(c.status, c.reason)
				c.cancel()
				return
			}
			if !resident {
				return
			}
			// A subscriber's writer stays (fan-out would otherwise start a
			// goroutine per update per subscriber).
			select {
			case <-c.wake:
			case <-c.ctx.Done():
				c.mu.Lock()
				c.closing, c.queue = true, nil
				c.mu.Unlock()
				return
			}
			continue
		}
		c.mu.Unlock()
		ctx, cancel := context.WithTimeout(c.ctx, writeTimeout)
		for _, b := range q {
			err := c.ws.Write(ctx, websocket.MessageText, b)
			if err != nil {
				cancel()
				c.ws.CloseNow()
				c.cancel()
				c.mu.Lock()
				c.closing, c.writing, c.queue = true, true, nil
				c.mu.Unlock()
				return
			}
		}
		cancel()
	}
}
