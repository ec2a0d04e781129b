package sync_test

import (
	"encoding/json"
	"strconv"
	"testing"

	"github.com/tabsync/tabsync/conflict"
	"github.com/tabsync/tabsync/protocol"
	tsync "github.com/tabsync/tabsync/sync"
)

// fuzzInput reads a fuzzer's bytes as a sequence of small choices; past the
// end every choice is 0.
type fuzzInput struct{ b []byte }

func (in *fuzzInput) more() bool { return len(in.b) > 0 }

func (in *fuzzInput) byte() byte {
	if len(in.b) == 0 {
		return 0
	}
	c := in.b[0]
	in.b = in.b[1:]
	return c
}

func (in *fuzzInput) pick(n int) int { return int(in.byte()) % n }

// rest takes up to n bytes as they are.
func (in *fuzzInput) rest(n int) []byte {
	n = min(n, len(in.b))
	out := in.b[:n]
	in.b = in.b[n:]
	return out
}

var (
	fuzzTabs = []string{"p", "q", "self", "r"}
	fuzzKeys = []string{"a", "b", "secret", "__proto__", "constructor"}
)

func (in *fuzzInput) version() conflict.Version {
	c := conflict.Clock{Wall: 1_700_000_000_000 + int64(in.pick(8)), Logical: uint32(in.pick(3)), Tab: fuzzTabs[in.pick(len(fuzzTabs))]}
	var base conflict.Clock
	if in.pick(3) != 0 {
		base = conflict.Clock{Wall: 1_700_000_000_000 + int64(in.pick(8)), Logical: uint32(in.pick(3)), Tab: fuzzTabs[in.pick(len(fuzzTabs))]}
	}
	return conflict.Version{Clock: c, Base: base, Depth: uint64(1 + in.pick(5))}
}

func (in *fuzzInput) value() any {
	switch in.pick(6) {
	case 0:
		return float64(in.pick(100))
	case 1:
		return "s" + strconv.Itoa(in.pick(10))
	case 2:
		return map[string]any{"x": float64(in.pick(3)), fuzzKeys[in.pick(len(fuzzKeys))]: map[string]any{"y": true}}
	case 3:
		return []any{float64(in.pick(3)), nil}
	case 4:
		return nil
	default:
		return func() {} // a zustand action; never on the wire
	}
}

// message builds a mostly well-formed message, so that the engine's logic
// past validation is reached, with the sender, sequence numbers, versions
// and payload fields drawn from tiny domains to make replays, echoes,
// spoofed ids and conflicts common.
func (in *fuzzInput) message() any {
	msg := protocol.Message{
		Type: protocol.Type(1 + in.pick(8)),
		Tab:  fuzzTabs[in.pick(len(fuzzTabs))],
		Seq:  uint64(1 + in.pick(12)),
	}
	for i := 0; i < in.pick(4); i++ {
		msg.Entries = append(msg.Entries, protocol.Entry{Key: fuzzKeys[in.pick(len(fuzzKeys))], Entry: conflict.Entry{Value: in.value(), Version: in.version()}})
	}
	msg.Req = "r" + strconv.Itoa(in.pick(3))
	if in.pick(2) == 0 {
		msg.To = fuzzTabs[in.pick(len(fuzzTabs))]
	}
	msg.More = in.pick(4) == 0
	msg.Started = 1_700_000_000_000 + int64(in.pick(50))
	msg.Digest = strconv.Itoa(in.pick(4))
	msg.Leaving = in.pick(8) == 0
	msg.Term = uint64(in.pick(4))
	msg.Leader = fuzzTabs[in.pick(len(fuzzTabs))]
	raw := protocol.Encode(gm, msg)
	if in.pick(8) == 0 {
		// Break one field of an otherwise valid message.
		m := raw.(map[string]any)
		m[[]string{"type", "tabId", "v", "seq", "payload"}[in.pick(5)]] = in.value()
	}
	return clone(raw)
}

// FuzzEngine feeds one engine a random sequence of received messages (well
// formed, broken, replayed, spoofed, or any JSON at all), local changes,
// ticks, stops and starts. Whatever comes in, the engine must not panic,
// must never send or apply a key its filter excludes or one that could
// change a prototype, and must keep its drop counters consistent.
func FuzzEngine(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15})
	f.Add([]byte("\x00\x00\x01\x02\x00\x05\x01\x03\x02\x00\x04\x00\x01\x01\x00\x00"))
	f.Add([]byte("\x02" + `{"type":"STATE_UPDATE","tabId":"p","v":1,"seq":1,"payload":{"state":{"__proto__":{"x":1}},"meta":{"__proto__":"1.0.p||1"}}}`))
	f.Add([]byte("\x03\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00\x01\x02\x04\x05"))
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &fuzzInput{b: data}
		strategy := conflict.Strategy(in.pick(4))
		cfg := tsync.Config{
			Tab:         "self",
			Model:       gm,
			ExcludeKeys: []string{"secret"},
			ThrottleMs:  int64(in.pick(3)) * 50,
			DebounceMs:  int64(in.pick(2)) * 30,
			Strategy:    strategy,
			Limits:      protocol.Limits{MaxBytes: 2048, MaxDepth: 8},
		}
		if strategy == conflict.Custom {
			cfg.Custom = func(local, remote conflict.Value) (conflict.Value, error) { return remote, nil }
		}
		e, err := tsync.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		now := int64(1_700_000_000_000)
		store := map[string]any{}
		check := func(step string, rd tsync.Ready) {
			t.Helper()
			for _, m := range rd.Messages {
				for _, en := range m.Entries {
					if !e.Synced(en.Key) {
						t.Fatalf("%s: sent key %q in %s", step, en.Key, m.Type)
					}
					if gm.Kind(en.Value) == conflict.Function {
						t.Fatalf("%s: sent a function for %q", step, en.Key)
					}
				}
			}
			if p := rd.Patch; p != nil {
				if len(p.Keys) != len(p.Values) {
					t.Fatalf("%s: patch of %d keys and %d values", step, len(p.Keys), len(p.Values))
				}
				for i, k := range p.Keys {
					if !e.Synced(k) {
						t.Fatalf("%s: applied key %q", step, k)
					}
					store[k] = p.Values[i]
				}
			}
			st := e.Stats()
			var sum uint64
			for _, n := range st.DroppedByReason {
				sum += n
			}
			if sum != st.Dropped {
				t.Fatalf("%s: dropped %d but %d by reason", step, st.Dropped, sum)
			}
		}
		check("start", e.Start(now, map[string]any{"a": 0.0, "secret": "s"}))
		for steps := 0; in.more() && steps < 200; steps++ {
			switch in.pick(6) {
			case 0, 1:
				check("receive", e.Receive(now, in.message()))
			case 2:
				var raw any
				if json.Unmarshal(in.rest(int(in.byte())), &raw) == nil {
					check("receive json", e.Receive(now, raw))
				}
			case 3:
				prev := copyMap(store)
				k := fuzzKeys[in.pick(len(fuzzKeys))]
				store[k] = in.value()
				check("local change", e.LocalChange(now, prev, copyMap(store), []string{k}))
			case 4:
				now += int64(in.pick(200))
				check("tick", e.Tick(now))
				if d := e.NextDeadline(); d != 0 && d <= now {
					t.Fatalf("after a tick at %d the engine asks for another at %d: its timer would spin", now, d)
				}
			case 5:
				switch in.pick(4) {
				case 0:
					check("stop", e.Stop(now))
				case 1:
					check("start", e.Start(now, copyMap(store)))
				case 2:
					check("request", e.RequestState(now))
				default:
					check("broadcast", e.BroadcastState(now, nil))
				}
			}
		}
	})
}
