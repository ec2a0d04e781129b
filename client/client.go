//go:build !js

package client

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/tabsync/tabsync/tableproto"
)

// Options configure a Client.
type Options struct {
	// URLs of /sync endpoints, e.g. ws://127.0.0.1:8081/sync. The client
	// connects to the first and moves to the next when a connection fails.
	URLs     []string
	Token    string
	ClientID string // empty: the server picks one (see Client.ID)
	// OnUpdate, when set, is called for every update and snapshot frame
	// after it is applied, on the client's reader goroutine (keep it short).
	OnUpdate func(f *tableproto.Frame)
	// OnError, when set, is called for every error frame and connection
	// failure.
	OnError func(err error)
	// MinBackoff and MaxBackoff bound the wait between reconnects
	// (defaults 50 ms and 5 s).
	MinBackoff, MaxBackoff time.Duration
	// HTTPHeader is sent with the WebSocket handshake (e.g. Origin).
	HTTPHeader map[string][]string
}

// ServerError is an error frame from the server.
type ServerError struct {
	Code    tableproto.Code
	Message string
	Table   string
	OpID    string
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("tabsync server: %s: %s", e.Code, e.Message)
}

// ErrClosed is returned by calls on a closed Client.
var ErrClosed = errors.New("client: closed")

type table struct {
	rows     map[string]json.RawMessage
	version  uint64
	synced   bool
	waiters  []chan error
	snapshot map[string]json.RawMessage // chunks of a snapshot being received
	// Stats for tests.
	gaps, dupes int
}

type pending struct {
	frame tableproto.Frame
	key   string        // table and key: the writes of one key go one at a time
	turn  chan struct{} // closed once the writes of its key before it are done
	done  chan result
	retry chan struct{} // a retryable error came back
}

type result struct {
	version uint64
	dup     bool
	err     error
}

// Client is a connection to tabsync-server that reconnects by itself. Its
// methods are safe for concurrent use.
type Client struct {
	opts Options

	mu      sync.Mutex
	ws      *websocket.Conn // nil while disconnected
	id      string
	limits  tableproto.Limits
	tables  map[string]*table
	pending map[string]*pending // by opId, sent (its turn came), not yet acked
	order   []string            // opIds in sending order
	// keys queues the operations of each table and key: only the first is
	// sent. The server stores a connection's operations of one key in the
	// order they arrive, but a write refused as rateLimited and sent again
	// later would land after a later write of its key sent meanwhile.
	keys   map[string][]*pending
	closed bool
	online chan struct{} // closed while connected; replaced on disconnect
	stats  Stats

	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// Stats count what the client saw.
type Stats struct {
	Connects   int // successful hellos
	Updates    int // update frames applied
	Duplicates int // update frames at or below the table's version (should stay 0)
	Gaps       int // live updates whose version skipped numbers (should stay 0)
}

// Dial connects to the server and returns once the hello is answered (or
// the first attempt failed: then the error, and no Client).
func Dial(ctx context.Context, opts Options) (*Client, error) {
	if len(opts.URLs) == 0 {
		return nil, errors.New("client: Options.URLs is empty")
	}
	if opts.MinBackoff <= 0 {
		opts.MinBackoff = 50 * time.Millisecond
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Second
	}
	c := &Client{opts: opts, tables: map[string]*table{}, pending: map[string]*pending{}, keys: map[string][]*pending{},
		online: make(chan struct{}), done: make(chan struct{})}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	ws, err := c.connect(ctx, opts.URLs[0])
	if err != nil {
		c.cancel()
		return nil, err
	}
	go c.run(ws)
	return c, nil
}

// ID is the client id the server knows this client by (the originId of its
// updates).
func (c *Client) ID() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.id
}

// Limits are the server's limits from its welcome.
func (c *Client) Limits() tableproto.Limits {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.limits
}

// Stats returns the client's counters.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

func (c *Client) connect(ctx context.Context, url string) (*websocket.Conn, error) {
	ws, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: c.opts.HTTPHeader})
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(64 << 20)
	if err := write(ctx, ws, tableproto.Frame{Type: tableproto.Hello, V: tableproto.Version, ClientID: c.opts.ClientID, Token: c.opts.Token}); err != nil {
		ws.CloseNow()
		return nil, err
	}
	_, b, err := ws.Read(ctx)
	if err != nil {
		ws.CloseNow()
		return nil, err
	}
	f, perr := tableproto.Decode(b)
	if perr != nil {
		ws.CloseNow()
		return nil, perr
	}
	if f.Type == tableproto.Error {
		ws.CloseNow()
		return nil, &ServerError{Code: f.Code, Message: f.Message}
	}
	if f.Type != tableproto.Welcome || f.Limits == nil {
		ws.CloseNow()
		return nil, fmt.Errorf("client: expected welcome, got %q", f.Type)
	}
	c.mu.Lock()
	c.id = f.ClientID
	c.limits = *f.Limits
	c.stats.Connects++
	c.mu.Unlock()
	return ws, nil
}

func write(ctx context.Context, ws *websocket.Conn, f tableproto.Frame) error {
	b, err := tableproto.Encode(f)
	if err != nil {
		return err
	}
	return ws.Write(ctx, websocket.MessageText, b)
}

// run serves one connection after another until Close.
func (c *Client) run(ws *websocket.Conn) {
	defer close(c.done)
	attempt := 0
	urlIdx := 0
	for {
		if ws != nil {
			attempt = 0
			c.serve(ws)
		}
		if c.ctx.Err() != nil {
			return
		}
		attempt++
		d := min(c.opts.MaxBackoff, c.opts.MinBackoff<<min(attempt, 16))
		j, _ := rand.Int(rand.Reader, big.NewInt(int64(d/2)+1))
		select {
		case <-time.After(d/2 + time.Duration(j.Int64())):
		case <-c.ctx.Done():
			return
		}
		if ws == nil || attempt > 1 {
			urlIdx = (urlIdx + 1) % len(c.opts.URLs)
		}
		ctx, cancel := context.WithTimeout(c.ctx, 10*time.Second)
		var err error
		ws, err = c.connect(ctx, c.opts.URLs[urlIdx])
		cancel()
		if err != nil {
			ws = nil
			c.report(err)
			var se *ServerError
			if errors.As(err, &se) && se.Code == tableproto.CodeUnauthorized {
				c.failAll(err)
			}
		}
	}
}

// serve resubscribes, resends pending operations, then reads until the
// connection ends.
func (c *Client) serve(ws *websocket.Conn) {
	c.mu.Lock()
	c.ws = ws
	close(c.online)
	var frames []tableproto.Frame
	for name, t := range c.tables {
		frames = append(frames, tableproto.Frame{Type: tableproto.Subscribe, Table: name, Since: t.version})
	}
	for _, id := range c.order {
		if p := c.pending[id]; p != nil {
			frames = append(frames, p.frame)
		}
	}
	idle := time.Duration(c.limits.IdleTimeoutMs) * time.Millisecond / 3
	c.mu.Unlock()
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	go func() {
		for _, f := range frames {
			if write(ctx, ws, f) != nil {
				return
			}
		}
		if idle <= 0 {
			return
		}
		t := time.NewTicker(idle)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				if write(ctx, ws, tableproto.Frame{Type: tableproto.Ping}) != nil {
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	for {
		_, b, err := ws.Read(ctx)
		if err != nil {
			c.mu.Lock()
			closed := c.closed
			c.mu.Unlock()
			if !closed {
				c.report(fmt.Errorf("client: connection lost: %w", err))
			}
			break
		}
		f, perr := tableproto.Decode(b)
		if perr != nil {
			c.report(perr)
			continue
		}
		c.receive(&f)
	}
	ws.CloseNow()
	c.mu.Lock()
	c.ws = nil
	c.online = make(chan struct{})
	for _, t := range c.tables {
		t.synced = false
		t.snapshot = nil
	}
	c.mu.Unlock()
}

func (c *Client) report(err error) {
	if c.opts.OnError != nil {
		c.opts.OnError(err)
	}
}

func (c *Client) receive(f *tableproto.Frame) {
	c.mu.Lock()
	t := c.tables[f.Table]
	switch f.Type {
	case tableproto.Snapshot:
		if t == nil {
			break
		}
		if t.snapshot == nil {
			t.snapshot = map[string]json.RawMessage{}
		}
		for _, r := range f.Rows {
			t.snapshot[r.Key] = json.RawMessage(r.Value)
		}
		if !f.More {
			t.rows, t.snapshot, t.version = t.snapshot, nil, f.TableVersion
		}
	case tableproto.Update:
		if t == nil {
			break
		}
		switch {
		case f.TableVersion <= t.version:
			t.dupes++
			c.stats.Duplicates++
		default:
			if f.TableVersion != t.version+1 {
				t.gaps++
				c.stats.Gaps++
			}
			if f.Change.Operation == tableproto.Delete {
				delete(t.rows, f.Change.Key)
			} else {
				t.rows[f.Change.Key] = json.RawMessage(f.Change.Value)
			}
			t.version = f.TableVersion
			c.stats.Updates++
		}
	case tableproto.Synced:
		if t == nil {
			break
		}
		t.synced = true
		if f.TableVersion > t.version {
			t.version = f.TableVersion
		}
		for _, w := range t.waiters {
			w <- nil
		}
		t.waiters = nil
	case tableproto.Ack:
		if p := c.pending[f.OpID]; p != nil {
			c.finish(p)
			p.done <- result{version: f.TableVersion, dup: f.Duplicate}
		}
	case tableproto.Error:
		err := &ServerError{Code: f.Code, Message: f.Message, Table: f.Table, OpID: f.OpID}
		if p := c.pending[f.OpID]; p != nil && f.OpID != "" {
			if f.Code.Retry() {
				select {
				case p.retry <- struct{}{}:
				default:
				}
			} else {
				c.finish(p)
				p.done <- result{err: err}
			}
		}
		if t != nil && f.OpID == "" && !t.synced && f.Code != tableproto.CodeSinceAhead {
			if f.Code.Retry() {
				// The subscribe failed for now (storage busy): again, shortly.
				ws, since := c.ws, t.version
				go func() {
					select {
					case <-time.After(200 * time.Millisecond):
						write(c.ctx, ws, tableproto.Frame{Type: tableproto.Subscribe, Table: f.Table, Since: since})
					case <-c.ctx.Done():
					}
				}()
			} else {
				for _, w := range t.waiters {
					w <- err
				}
				t.waiters = nil
				delete(c.tables, f.Table)
			}
		}
		c.mu.Unlock()
		c.report(err)
		return
	}
	c.mu.Unlock()
	if c.opts.OnUpdate != nil && (f.Type == tableproto.Update || f.Type == tableproto.Snapshot) {
		c.opts.OnUpdate(f)
	}
}

// queue adds p behind the operations of its key; it is p's turn at once
// when there are none.
func (c *Client) queue(p *pending) {
	q := c.keys[p.key]
	c.keys[p.key] = append(q, p)
	if len(q) == 0 {
		close(p.turn)
	}
}

// finish removes p, acknowledged, refused or given up: the next operation
// of its key gets its turn.
func (c *Client) finish(p *pending) {
	c.forget(p.frame.OpID)
	q := c.keys[p.key]
	for i, o := range q {
		if o == p {
			q = append(q[:i], q[i+1:]...)
			if i == 0 && len(q) > 0 {
				close(q[0].turn)
			}
			break
		}
	}
	if len(q) == 0 {
		delete(c.keys, p.key)
	} else {
		c.keys[p.key] = q
	}
}

func (c *Client) forget(opID string) {
	delete(c.pending, opID)
	for i, id := range c.order {
		if id == opID {
			c.order = append(c.order[:i], c.order[i+1:]...)
			break
		}
	}
}

func (c *Client) failAll(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, q := range c.keys {
		for _, p := range q {
			p.done <- result{err: err}
		}
	}
	clear(c.keys)
	clear(c.pending)
	c.order = nil
}

// Subscribe keeps a local copy of table in step and returns once it is (the
// server sent synced), or with the server's error.
func (c *Client) Subscribe(ctx context.Context, name string) error {
	return c.SubscribeSince(ctx, name, 0)
}

// SubscribeSince is Subscribe for a client that already holds the table at
// version since: the server sends only the changes after it.
func (c *Client) SubscribeSince(ctx context.Context, name string, since uint64) error {
	w := make(chan error, 1)
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClosed
	}
	t := c.tables[name]
	if t == nil {
		t = &table{rows: map[string]json.RawMessage{}, version: since}
		c.tables[name] = t
	}
	t.waiters = append(t.waiters, w)
	ws := c.ws
	c.mu.Unlock()
	if ws != nil {
		if err := write(ctx, ws, tableproto.Frame{Type: tableproto.Subscribe, Table: name, Since: since}); err != nil {
			c.report(err) // the reconnect subscribes again
		}
	}
	select {
	case err := <-w:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Set stores value (marshalled to JSON) under key and returns the
// tableVersion the server gave the change, once it is acknowledged.
func (c *Client) Set(ctx context.Context, table, key string, value any) (uint64, error) {
	b, err := json.Marshal(value)
	if err != nil {
		return 0, err
	}
	return c.SetRaw(ctx, table, key, b)
}

// SetRaw is Set with the value as JSON text.
func (c *Client) SetRaw(ctx context.Context, table, key string, value json.RawMessage) (uint64, error) {
	v, _, err := c.Do(ctx, tableproto.Frame{Type: tableproto.Operation, Table: table, OpID: NewOpID(),
		Change: tableproto.Change{Operation: tableproto.Set, Key: key, Value: tableproto.RawValue(value)}})
	return v, err
}

// Delete removes key and returns the change's tableVersion.
func (c *Client) Delete(ctx context.Context, table, key string) (uint64, error) {
	v, _, err := c.Do(ctx, tableproto.Frame{Type: tableproto.Operation, Table: table, OpID: NewOpID(),
		Change: tableproto.Change{Operation: tableproto.Delete, Key: key}})
	return v, err
}

// Do sends an operation frame (its OpID set) and waits for its ack,
// sending it again after reconnects and after rateLimited, unavailable or
// shuttingDown errors. It returns the version and whether the server had
// seen the opId before. Operations of one table and key are sent one at a
// time, in the order Do was called: each after the one before it was
// acknowledged, refused for good or given up (its ctx ended).
func (c *Client) Do(ctx context.Context, f tableproto.Frame) (version uint64, duplicate bool, err error) {
	p := &pending{frame: f, key: f.Table + "\x00" + f.Change.Key, turn: make(chan struct{}),
		done: make(chan result, 1), retry: make(chan struct{}, 1)}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return 0, false, ErrClosed
	}
	c.queue(p)
	c.mu.Unlock()
	select {
	case <-p.turn:
	case r := <-p.done: // failAll
		return r.version, r.dup, r.err
	case <-ctx.Done():
		c.mu.Lock()
		c.finish(p)
		c.mu.Unlock()
		return 0, false, ctx.Err()
	}
	wait := 50 * time.Millisecond
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return 0, false, ErrClosed
		}
		select {
		case r := <-p.done: // answered while waiting to send it again (a reconnect sent it)
			c.mu.Unlock()
			return r.version, r.dup, r.err
		default:
		}
		if _, ok := c.pending[f.OpID]; !ok {
			c.pending[f.OpID] = p
			c.order = append(c.order, f.OpID)
		}
		ws := c.ws
		c.mu.Unlock()
		if ws != nil {
			if err := write(ctx, ws, f); err != nil && ctx.Err() == nil {
				c.report(err) // resent after the reconnect
			}
		}
		// Frames lost with a connection are sent again by the reconnect;
		// the timer covers anything else.
		resend := time.NewTimer(10 * time.Second)
		select {
		case r := <-p.done:
			resend.Stop()
			return r.version, r.dup, r.err
		case <-p.retry: // rateLimited, unavailable, shuttingDown: send again after a pause
			resend.Stop()
			select {
			case <-time.After(wait):
			case <-ctx.Done():
			}
			wait = min(2*wait, 2*time.Second)
		case <-resend.C:
		case <-ctx.Done():
			resend.Stop()
			c.mu.Lock()
			c.finish(p)
			c.mu.Unlock()
			return 0, false, ctx.Err()
		}
	}
}

// Get returns key's value in the local copy of table, as JSON text.
func (c *Client) Get(table, key string) (json.RawMessage, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tables[table]
	if t == nil {
		return nil, false
	}
	v, ok := t.rows[key]
	return v, ok
}

// Rows returns a copy of the local copy of table, and its version.
func (c *Client) Rows(table string) (map[string]json.RawMessage, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.tables[table]
	if t == nil {
		return nil, 0
	}
	out := make(map[string]json.RawMessage, len(t.rows))
	for k, v := range t.rows {
		out[k] = v
	}
	return out, t.version
}

// WaitVersion waits until the local copy of table has reached version.
func (c *Client) WaitVersion(ctx context.Context, table string, version uint64) error {
	for {
		c.mu.Lock()
		t := c.tables[table]
		ok := t != nil && t.version >= version
		c.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("client: table %s did not reach version %d: %w", table, version, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// Reconnect drops the current connection; the client reconnects at once
// (to the next URL if the dial fails), resumes every table with since and
// sends again what is not acknowledged, as after a network failure.
func (c *Client) Reconnect() {
	c.mu.Lock()
	ws := c.ws
	c.mu.Unlock()
	if ws != nil {
		ws.CloseNow()
	}
}

// Online returns a channel closed while the client is connected.
func (c *Client) Online() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.online
}

// Close ends the connection and stops reconnecting. Operations waiting for
// an ack return ErrClosed.
func (c *Client) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	ws := c.ws
	c.mu.Unlock()
	if ws != nil {
		ws.Close(websocket.StatusNormalClosure, "")
	}
	c.cancel()
	<-c.done
	c.failAll(ErrClosed)
	return nil
}

// NewOpID returns a random opId (16 bytes, base64url).
func NewOpID() string {
	var b [16]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
