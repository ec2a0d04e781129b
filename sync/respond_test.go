package sync_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/protocol"
	tsync "github.com/tabsync/tabsync/sync"
)

// A tab inside a throttle window answers a new tab: the burst goes out
// first, so the response never carries a version that the next write of the
// burst would replace as if nobody had seen it (under first-write-wins the
// earlier, unsent version would win and the tabs would keep different values).
// This flush is the one rule that prevents it, for responses and for
// BroadcastState alike (TestBroadcastInsideAThrottleWindowSendsTheBurstFirst);
// the simulator's first-write-wins property fails on seed 35 without it.
func TestResponseInsideAThrottleWindowSendsTheBurstFirst(t *testing.T) {
	a := newTab(t, "a", tsync.Config{ThrottleMs: 100})
	a.start(t0)
	a.set(t0+1, "count", 1.0)  // leading edge
	a.set(t0+10, "count", 2.0) // pending in the window

	b := newTab(t, "b", tsync.Config{})
	start := b.start(t0 + 90)
	// a is the oldest tab and answers at once, from Receive.
	rd := a.deliver(t0+90, start.Messages...)
	rd.Messages = slices.DeleteFunc(rd.Messages, func(m protocol.Message) bool { return m.Type == protocol.TabPong })
	require.Equal(t, []protocol.Type{protocol.StateUpdate, protocol.StateResponse}, msgTypes(rd.Messages))
	assert.Equal(t, rd.Messages[0].Entries[0].Version, rd.Messages[1].Entries[0].Version)

	// The burst's next write builds on the published version.
	a.set(t0+95, "count", 3.0)
	rd = a.tick(t0 + 200)
	require.Len(t, rd.Messages, 1)
	assert.Equal(t, rd.Messages[0].Entries[0].Version.Base, a.sentOf(protocol.StateUpdate)[1].Entries[0].Version.Clock)
}

func msgTypes(msgs []protocol.Message) []protocol.Type {
	var out []protocol.Type
	for _, m := range msgs {
		out = append(out, m.Type)
	}
	return out
}

// A write the browser could not clone (the bridge calls Unsendable when
// postMessage fails on it) stays out of the digest and of state responses
// until the key is written again: peers, which never get it, do not ask for
// it every two pings, and the failure is not met again at each answer.
func TestUnsendableWriteLeavesDigestAndResponsesAlone(t *testing.T) {
	a := newTab(t, "a", tsync.Config{})
	b := newTab(t, "b", tsync.Config{})
	a.start(t0)
	b.deliver(t0, b.start(t0).Messages...)
	a.deliver(t0, b.sent...)
	a.set(t0+10, "n", 1.0)
	b.deliver(t0+10, a.sentOf(protocol.StateUpdate)...)
	require.Equal(t, a.e.Digest(), b.e.Digest())

	rd := a.set(t0+20, "bad", map[string]any{"f": "cannot be cloned"})
	require.Len(t, rd.Messages, 1)
	a.e.Unsendable("bad", a.version("bad").Clock)
	assert.Equal(t, b.e.Digest(), a.e.Digest(), "the digest leaves the write out")

	n := len(a.sent)
	a.deliver(t0+30, protocol.Message{Type: protocol.StateRequest, Tab: "b", Seq: 99, Req: "r1", To: "a"})
	var resp []protocol.Message
	for _, m := range a.sent[n:] {
		if m.Type == protocol.StateResponse {
			resp = append(resp, m)
		}
	}
	require.Len(t, resp, 1)
	for _, en := range resp[0].Entries {
		assert.NotEqual(t, "bad", en.Key, "a response leaves the write out")
	}
	assert.Empty(t, a.do(a.e.BroadcastState(t0+40, []string{"bad"})).Messages, "so does a broadcast")

	// The next write of the key is sent as usual.
	a.set(t0+50, "bad", "fine now")
	assert.NotEqual(t, b.e.Digest(), a.e.Digest())
	b.deliver(t0+50, a.sentOf(protocol.StateUpdate)[2])
	assert.Equal(t, b.e.Digest(), a.e.Digest())
}
