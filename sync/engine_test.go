package sync_test

import (
	"fmt"
	"math/rand"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/conflict"
	"github.com/tabsync/tabsync/protocol"
	tsync "github.com/tabsync/tabsync/sync"
)

// The scenarios in this file and in scenario_test.go wire two or three
// engines by hand, as etcd raft's tests do: every step's Ready is recorded,
// and messages cross only when the test says so.

// t0 is the scenarios' epoch, in milliseconds.
const t0 = int64(1_700_000_000_000)

var gm = conflict.GoModel{}

// tab is an engine and the store it keeps in sync, with everything its steps
// asked for.
type tab struct {
	t       *testing.T
	e       *tsync.Engine
	store   map[string]any
	sent    []protocol.Message // every message it posted, in order
	errs    []tsync.Error
	patches []tsync.Patch
	read    int // hub: how many of sent the others have received
}

func newTab(t *testing.T, id string, cfg tsync.Config) *tab {
	t.Helper()
	cfg.Tab, cfg.Model = id, gm
	e, err := tsync.New(cfg)
	require.NoError(t, err)
	return &tab{t: t, e: e, store: map[string]any{}}
}

// do records what a step asked for and carries out its patch.
func (tb *tab) do(rd tsync.Ready) tsync.Ready {
	tb.sent = append(tb.sent, rd.Messages...)
	tb.errs = append(tb.errs, rd.Errors...)
	if rd.Patch != nil {
		tb.patches = append(tb.patches, *rd.Patch)
		for i, k := range rd.Patch.Keys {
			if rd.Patch.Values[i] == conflict.Undef {
				delete(tb.store, k) // a removal
				continue
			}
			tb.store[k] = rd.Patch.Values[i]
		}
	}
	return rd
}

// remove drops keys from the store, as zustand's setState(next, true)
// does, and tells the engine.
func (tb *tab) remove(now int64, keys ...string) tsync.Ready {
	prev := copyMap(tb.store)
	for _, k := range keys {
		delete(tb.store, k)
	}
	return tb.do(tb.e.LocalChange(now, prev, copyMap(tb.store), keys))
}

func (tb *tab) start(now int64) tsync.Ready {
	return tb.do(tb.e.Start(now, copyMap(tb.store)))
}

func (tb *tab) stop(now int64) tsync.Ready { return tb.do(tb.e.Stop(now)) }

func (tb *tab) tick(now int64) tsync.Ready { return tb.do(tb.e.Tick(now)) }

// set changes keys of the store (a function value, as zustand actions are,
// stays a function) and tells the engine.
func (tb *tab) set(now int64, kv ...any) tsync.Ready {
	prev := copyMap(tb.store)
	var changed []string
	for i := 0; i < len(kv); i += 2 {
		k := kv[i].(string)
		tb.store[k] = kv[i+1]
		changed = append(changed, k)
	}
	return tb.do(tb.e.LocalChange(now, prev, copyMap(tb.store), changed))
}

// recv hands the engine raw values as if they came off the channel.
func (tb *tab) recv(now int64, raws ...conflict.Value) tsync.Ready {
	var all tsync.Ready
	for _, raw := range raws {
		rd := tb.do(tb.e.Receive(now, raw))
		all.Messages = append(all.Messages, rd.Messages...)
		all.Errors = append(all.Errors, rd.Errors...)
		all.Persist = append(all.Persist, rd.Persist...)
		if rd.Patch != nil {
			all.Patch = rd.Patch
		}
	}
	return all
}

// deliver hands msgs to the engine through their wire form.
func (tb *tab) deliver(now int64, msgs ...protocol.Message) tsync.Ready {
	raws := make([]conflict.Value, len(msgs))
	for i, m := range msgs {
		raws[i] = wire(m)
	}
	return tb.recv(now, raws...)
}

// sentOf returns the messages of type typ the tab posted, in order.
func (tb *tab) sentOf(typ protocol.Type) []protocol.Message {
	var out []protocol.Message
	for _, m := range tb.sent {
		if m.Type == typ {
			out = append(out, m)
		}
	}
	return out
}

func (tb *tab) value(key string) any {
	v, _, _ := tb.e.Value(key)
	return v
}

func (tb *tab) version(key string) conflict.Version {
	_, ver, _ := tb.e.Value(key)
	return ver
}

// wire encodes a message and clones it, as BroadcastChannel would.
func wire(m protocol.Message) conflict.Value {
	return clone(protocol.Encode(gm, m))
}

func clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = clone(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = clone(e)
		}
		return out
	}
	return v
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// hub is an instant, lossless channel between hand-wired tabs.
type hub struct{ tabs []*tab }

// settle delivers, in each sender's order, everything posted and not yet
// received, until nothing more is posted. Stopped tabs receive nothing.
func (h *hub) settle(now int64) {
	for moved := true; moved; {
		moved = false
		for _, from := range h.tabs {
			for from.read < len(from.sent) {
				m := from.sent[from.read]
				from.read++
				moved = true
				for _, to := range h.tabs {
					if to != from {
						to.deliver(now, m)
					}
				}
			}
		}
	}
}

// tickAll runs every tab's due timers at now, then settles.
func (h *hub) tickAll(now int64) {
	for _, tb := range h.tabs {
		tb.tick(now)
	}
	h.settle(now)
}

// skip marks everything posted so far as delivered: the test will hand
// those messages over itself, or never.
func (h *hub) skip() {
	for _, tb := range h.tabs {
		tb.read = len(tb.sent)
	}
}

// forger builds messages from a tab that does not exist, with increasing seqs.
type forger struct {
	tab string
	seq uint64
}

func (f *forger) msg(m protocol.Message) protocol.Message {
	f.seq++
	m.Tab, m.Seq = f.tab, f.seq
	return m
}

func (f *forger) update(kv ...any) protocol.Message {
	var entries []protocol.Entry
	for i := 0; i < len(kv); i += 2 {
		entries = append(entries, protocol.Entry{Key: kv[i].(string), Entry: conflict.Entry{
			Value:   kv[i+1],
			Version: conflict.Version{Clock: conflict.Clock{Wall: t0, Logical: uint32(f.seq), Tab: f.tab}, Depth: 1},
		}})
	}
	return f.msg(protocol.Message{Type: protocol.StateUpdate, Entries: entries})
}

func keysOf(m protocol.Message) []string {
	var keys []string
	for _, e := range m.Entries {
		keys = append(keys, e.Key)
	}
	return keys
}

func entryVersion(m protocol.Message, key string) conflict.Version {
	for _, e := range m.Entries {
		if e.Key == key {
			return e.Version
		}
	}
	return conflict.Version{}
}

func entryValue(m protocol.Message, key string) any {
	for _, e := range m.Entries {
		if e.Key == key {
			return e.Value
		}
	}
	return nil
}

// --- Engine basics -----------------------------------------------------------

func TestNewRejectsBadConfig(t *testing.T) {
	_, err := tsync.New(tsync.Config{Tab: "has space", Model: gm})
	require.Error(t, err)
	_, err = tsync.New(tsync.Config{Tab: "a"})
	require.Error(t, err, "a Model is required")
	_, err = tsync.New(tsync.Config{Tab: "a", Model: gm, Strategy: conflict.Custom})
	require.ErrorIs(t, err, conflict.ErrNoResolver)
}

func TestStartAnnouncesAndAsks(t *testing.T) {
	a := newTab(t, "a", tsync.Config{})
	require.False(t, a.e.Active())
	rd := a.start(t0)
	require.True(t, a.e.Active())
	require.Len(t, rd.Messages, 2)
	assert.Equal(t, protocol.TabPing, rd.Messages[0].Type)
	assert.Equal(t, t0, rd.Messages[0].Started)
	assert.Equal(t, protocol.StateRequest, rd.Messages[1].Type)
	assert.Empty(t, rd.Messages[1].To, "a new tab asks everyone")
	assert.Equal(t, uint64(1), rd.Messages[0].Seq)
	assert.Equal(t, uint64(2), rd.Messages[1].Seq)

	assert.Empty(t, a.start(t0+1).Messages, "Start of a started engine does nothing")
	assert.Equal(t, t0+1000, a.e.NextDeadline(), "next: the request's retry (RequestRetryMs)")
}

func TestRequestRetriedWhilePeersAreKnownThenGivenUp(t *testing.T) {
	a := newTab(t, "a", tsync.Config{})
	a.start(t0)
	// Alone on the channel: the request is not repeated.
	assert.Equal(t, t0+1000, a.e.NextDeadline())
	assert.Empty(t, a.tick(t0+1000).Messages)

	c := newTab(t, "c", tsync.Config{})
	c.start(t0 + 1)
	b := newTab(t, "b", tsync.Config{})
	b.start(t0 + 2)
	// b hears pings from a and c, but nobody answers its request.
	b.deliver(t0+3, a.sent[0], c.sent[0])
	rd := b.tick(t0 + 2 + 1000)
	require.Len(t, rd.Messages, 1)
	assert.Equal(t, protocol.StateRequest, rd.Messages[0].Type)
	assert.Equal(t, "a", rd.Messages[0].To, "the retry asks the oldest tab alone")
	rd = b.tick(t0 + 2 + 1000 + 2000)
	require.Len(t, rd.Messages, 1, "second retry, after twice the interval")
	assert.Equal(t, "c", rd.Messages[0].To, "then the next oldest")
	b.tick(t0 + 2 + 1000 + 2000 + 3000)
	assert.Len(t, b.sentOf(protocol.StateRequest), 3, "three attempts, then it stops asking")
}

// empty reports whether a step asked for nothing.
func empty(rd tsync.Ready) bool { return rd.Empty() }

func TestKeysAreSorted(t *testing.T) {
	a := newTab(t, "a", tsync.Config{})
	a.start(t0)
	r := rand.New(rand.NewSource(1))
	var kv []any
	for i := 0; i < 5000; i++ {
		kv = append(kv, fmt.Sprintf("k%05d", r.Intn(100000)), float64(i))
	}
	a.set(t0, kv...)
	keys := a.e.Keys()
	require.NotEmpty(t, keys)
	assert.True(t, sort.StringsAreSorted(keys), "Keys() must be sorted")
	assert.Len(t, keys, len(a.store))
}
