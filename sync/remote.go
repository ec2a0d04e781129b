package sync

import (
	"errors"
	"strconv"

	"github.com/tabsync/tabsync/conflict"
	"github.com/tabsync/tabsync/internal/gostring"
	"github.com/tabsync/tabsync/protocol"
)

// Receive takes a message from the channel. Anything malformed, foreign,
// repeated or stale is dropped and counted; nothing received can make the
// engine fail. It is protocol.Decode followed by Deliver, or by Drop.
func (e *Engine) Receive(now int64, raw conflict.Value) Ready {
	if !e.active {
		return Ready{}
	}
	msg, derr := protocol.Decode(e.m, raw, e.Receiver())
	if derr != nil {
		return e.Drop(now, derr)
	}
	return e.Deliver(now, msg)
}

// Receiver is what a decoder needs to know of this tab to read its
// messages (protocol.Decode, or jsbridge's decoder in JavaScript).
func (e *Engine) Receiver() protocol.Receiver {
	return protocol.Receiver{Tab: e.cfg.Tab, AppVersion: e.cfg.AppVersion, Limits: e.cfg.Limits}
}

// Drop counts and reports a received message that the decoder rejected,
// as Receive does.
func (e *Engine) Drop(now int64, derr *protocol.Error) Ready {
	var rd Ready
	if !e.active {
		return rd
	}
	e.stats.Received++
	e.dropped(now, derr.Reason, derr.Detail, &rd)
	return rd
}

// Deliver takes a received message that a decoder accepted for this tab
// (see Receiver): Receive without the decoding, for a caller that decodes
// elsewhere (jsbridge reads the envelope in JavaScript).
func (e *Engine) Deliver(now int64, msg protocol.Message) Ready {
	var rd Ready
	if !e.active {
		return rd
	}
	e.stats.Received++
	w := e.lastSeq[msg.Tab]
	if w == nil {
		w = &seqWindow{}
		e.lastSeq[msg.Tab] = w
	}
	if !w.admit(msg.Seq) {
		e.dropped(now, protocol.Duplicate, msg.Type.String()+" seq "+strconv.FormatUint(msg.Seq, 10)+" from "+msg.Tab+" was already seen", &rd)
		return rd
	}
	box := &delivered{msg: msg}
	rd.Received = &box.msg
	if msg.Type == protocol.TabPing && msg.Leaving {
		e.forget(now, msg.Tab, &rd)
		e.persistOrphans(msg.Tab, &rd)
		return rd
	}
	if e.seen(now, msg.Tab, msg.Started) && msg.Type != protocol.TabPong {
		// First word from this tab: tell it we exist (it counts us, and
		// ranks us when deciding who answers state requests).
		e.send(&rd, protocol.Message{Type: protocol.TabPong, To: msg.Tab, Started: e.started})
	}

	switch msg.Type {
	case protocol.StateUpdate:
		e.apply(now, msg, true, box, &rd)
	case protocol.StateResponse:
		delete(e.answers, msg.Req) // someone answered: we need not
		if msg.To == e.cfg.Tab {
			if msg.Req == e.req && !msg.More {
				e.req, e.reqRetry = "", 0
			}
			e.apply(now, msg, false, box, &rd)
		}
	case protocol.StateRequest:
		e.onRequest(now, msg)
		if a, ok := e.answers[msg.Req]; ok && a.at <= now {
			// Due at once: answered here, not at the next Tick, which the
			// caller runs from a timer, and a hidden tab's timers can be a
			// second late or more (Firefox clamps them; docs/BROWSERS.md).
			delete(e.answers, msg.Req)
			e.respond(now, msg.Req, a.to, &rd)
		}
	case protocol.TabPing:
		e.onPing(now, msg, &rd)
	case protocol.TabPong:
		// seen() recorded the peer; nothing else to do.
	case protocol.LeaderElection, protocol.LeaderAnnounce, protocol.Heartbeat:
		if e.el != nil {
			e.lead(e.el.Receive(now, msg), &rd)
		}
	}
	return rd
}

// seqWindow remembers which of a sender's sequence numbers were seen: the
// highest, and the 63 below it as bits. A BroadcastChannel delivers one
// sender's messages in order and once, so a number seen again is a replay.
// A number further below than the window is let through to be judged by
// its versions (stale writes change nothing): dropping it instead would let
// one forged message with a huge seq under another tab's id silence that tab
// for good.
type seqWindow struct {
	max  uint64
	seen uint64 // bit i: max-i was seen
}

// admit reports whether seq was not seen yet, and records it.
func (w *seqWindow) admit(seq uint64) bool {
	switch {
	case seq > w.max:
		if d := seq - w.max; d < 64 {
			w.seen = w.seen<<d | 1
		} else {
			w.seen = 1
		}
		w.max = seq
		return true
	case w.max-seq < 64:
		bit := uint64(1) << (w.max - seq)
		if w.seen&bit != 0 {
			return false
		}
		w.seen |= bit
		return true
	}
	return true
}

// delivered is what a Deliver step hands out, in one allocation: the
// message (Ready.Received) and the patch, with room for one key, the
// usual update, in its lists.
type delivered struct {
	msg   protocol.Message
	patch Patch
	key   [1]string
	value [1]conflict.Value
}

// apply resolves each entry of a STATE_UPDATE or STATE_RESPONSE against the
// local value and collects the winners into one patch (box's).
func (e *Engine) apply(now int64, msg protocol.Message, live bool, box *delivered, rd *Ready) {
	patch := &box.patch
	patch.Keys, patch.Values = box.key[:0], box.value[:0]
	var group []protocol.Entry // custom: the keys to combine in one call
	stale := 0
	for _, in := range msg.Entries {
		if !e.Synced(in.Key) {
			continue // the receiver's own filter: never let in what it would not send
		}
		e.hlc.Observe(in.Version.Clock)
		if e.m.Kind(in.Value) == conflict.Function {
			continue // cannot arrive through a structured clone; ignore if it does
		}
		local := conflict.Entry{}
		en := e.entries[in.Key]
		if en != nil && !e.expired(en, in.Version) {
			local = conflict.Entry{Value: en.value, Version: en.version}
		}
		d := e.res.Resolve(local, in.Entry, live)
		if d.Conflict {
			e.stats.Conflicts++
		}
		if d.Stale {
			stale++
		}
		if d.Err != nil {
			rd.Errors = append(rd.Errors, Error{Phase: PhaseResolve, Message: "customResolver failed for " + gostring.Quote(in.Key) + "; the local value stays: " + d.Err.Error(), Cause: d.Err})
		}
		switch d.Outcome {
		case conflict.Take:
			if d.Conflict && e.pending[in.Key] && e.lineage {
				// Our unsent write is concurrent with a later one: send it
				// now rather than drop it, so that the tab holding the
				// later write combines the two.
				e.flush(now, rd)
			}
			if en == nil {
				en = &entry{}
				e.entries[in.Key] = en
			}
			if d.Conflict && e.lineage && en.version.Clock.Tab == e.cfg.Tab {
				// A write of ours, replaced before anyone combined it.
				en.unmerged = &entry{value: en.value, version: en.version}
			}
			en.value, en.version = in.Value, in.Version
			e.unqueue(in.Key)
			e.adopt(msg.Tab, in, rd)
			patch.Keys = append(patch.Keys, in.Key)
			patch.Values = append(patch.Values, in.Value)
		case conflict.Write:
			// Merge: this tab combines the two writes and publishes the
			// result as its own write, a successor of both, so every tab
			// ends with this one value.
			e.combined(now, in, d.Value, patch)
		case conflict.Combine:
			group = append(group, in)
		case conflict.Keep:
			if d.Absorb && en != nil {
				en.version = en.version.Absorb(in.Version)
				if len(in.Version.Gone) > 0 {
					// The removals the remote write knew of are this
					// value's too now.
					en.version.Gone = conflict.Gone(e.m, en.value, now, e.cfg.TombstoneMs, en.version.Gone, in.Version.Gone)
				}
			}
		}
	}
	if len(group) > 0 {
		e.resolveGroup(now, group, patch, rd)
	}
	if len(patch.Keys) > 0 {
		patch.Source = msg.Tab
		rd.Patch = patch
		e.stats.Applied++
	} else if stale > 0 && stale == len(msg.Entries) {
		e.stats.Dropped++
		e.stats.DroppedByReason[protocol.Stale.String()]++
	}
	if len(e.pendingKeys) > 0 && e.flushAt == 0 {
		e.schedule(now, rd)
	}
}

// combined records v, the combination of the local value of in.Key with the
// remote write in, as a write of this tab, and adds it to the patch.
func (e *Engine) combined(now int64, in protocol.Entry, v conflict.Value, patch *Patch) {
	if w := e.write(now, in.Key, v, in.Version); w != nil {
		v = w
	}
	if en := e.entries[in.Key]; en.version.Depth <= in.Version.Depth {
		en.version.Depth = in.Version.Depth + 1
	}
	patch.Keys = append(patch.Keys, in.Key)
	patch.Values = append(patch.Values, v)
}

// resolveGroup calls the custom resolver once for the conflicting keys of
// one update (see Config.Custom) and applies what it returns.
func (e *Engine) resolveGroup(now int64, group []protocol.Entry, patch *Patch, rd *Ready) {
	m := e.m
	keys := make([]string, len(group))
	lv := make([]conflict.Value, len(group))
	rv := make([]conflict.Value, len(group))
	for i, in := range group {
		keys[i], lv[i], rv[i] = in.Key, e.entries[in.Key].value, in.Value
	}
	out, err := e.cfg.Custom(m.MakeObject(keys, lv), m.MakeObject(keys, rv))
	if err == nil && m.Kind(out) != conflict.Object {
		err = errNotPartial
	}
	if err != nil {
		// Named by its first key: one report per update.
		rd.Errors = append(rd.Errors, Error{Phase: PhaseResolve, Message: "customResolver failed for " + gostring.Quote(keys[0]) + "; the local value stays: " + err.Error(), Cause: err})
		return
	}
	for i, in := range group {
		v := m.Get(out, in.Key)
		if k := m.Kind(v); k == conflict.Undefined || k == conflict.Function || m.Equal(v, lv[i]) {
			// Left out (or undefined), a function (never synced), or this
			// tab's value: the later write stays, and holds the remote
			// one now.
			en := e.entries[in.Key]
			en.version = en.version.Absorb(in.Version)
			continue
		}
		e.combined(now, in, v, patch)
	}
}

var errNotPartial = errors.New("it returned no object of the keys to set")

// unqueue drops a pending local change that a remote write has beaten.
func (e *Engine) unqueue(key string) {
	if !e.pending[key] {
		return
	}
	delete(e.pending, key)
	for i, k := range e.pendingKeys {
		if k == key {
			e.pendingKeys = append(e.pendingKeys[:i], e.pendingKeys[i+1:]...)
			break
		}
	}
	if len(e.pendingKeys) == 0 {
		e.flushAt = 0
	}
}

// onRequest decides whether and when to answer a STATE_REQUEST. A request
// addressed to this tab (anti-entropy) is answered at once. A new tab's
// request is answered by the leader when leader election is on and a leader
// is known, or when Config.Responder decides; otherwise
// by the oldest tab at once and by the second oldest after StaggerMs unless
// the first answer has been seen by then: one answer in the common case, two
// at most, whatever the number of tabs.
func (e *Engine) onRequest(now int64, msg protocol.Message) {
	if msg.To != "" {
		if msg.To == e.cfg.Tab {
			e.answers[msg.Req] = answer{to: msg.Tab, at: now}
		}
		return
	}
	if e.el != nil {
		if l := e.el.Leader(); l != "" && l != msg.Tab {
			if l == e.cfg.Tab {
				e.answers[msg.Req] = answer{to: msg.Tab, at: now}
			}
			return
		}
	}
	if e.cfg.Responder != nil {
		if yes, ok := e.cfg.Responder(); ok {
			if yes {
				e.answers[msg.Req] = answer{to: msg.Tab, at: now}
			}
			return
		}
	}
	rank := 0
	for id := range e.peers {
		if id != msg.Tab && e.older(id, e.cfg.Tab) {
			rank++
		}
	}
	if rank > 1 {
		return
	}
	at := now + int64(rank)*e.cfg.StaggerMs
	if now-e.started < e.cfg.StaggerMs {
		// This tab has just started (tabs opened together, as when a
		// browser restores a session): the pongs of older tabs may not
		// have reached it yet, so it may rank itself first wrongly. It
		// answers a stagger later, and not at all if a better-informed
		// tab answers first.
		at += e.cfg.StaggerMs
	}
	e.answers[msg.Req] = answer{to: msg.Tab, at: at}
}

// split cuts entries into runs each under 3/4 of Limits.MaxBytes, in
// order; one entry, or none, is one run, unmeasured (LocalChange measured
// every value it took).
func (e *Engine) split(entries []protocol.Entry) [][]protocol.Entry {
	if len(entries) < 2 {
		return [][]protocol.Entry{entries}
	}
	limit := e.cfg.Limits.MaxBytes * 3 / 4
	var chunks [][]protocol.Entry
	start, size := 0, 0
	for i, en := range entries {
		n, _ := e.m.Size(en.Value, e.cfg.Limits.MaxBytes, e.cfg.Limits.MaxDepth)
		// What the entry adds to the payload: the key in state, meta
		// and seen, the value, and the version and lineage strings.
		n += 3*(len(en.Key)+4) + len(protocol.FormatStoredVersion(en.Version)) + 8
		if size+n > limit && i > start {
			chunks = append(chunks, entries[start:i])
			start, size = i, 0
		}
		size += n
	}
	return append(chunks, entries[start:])
}

// respond sends every versioned synced key to the requester, split into
// chunks under the size limit.
func (e *Engine) respond(now int64, req, to string, rd *Ready) {
	if len(e.pendingKeys) > 0 {
		// A response must not carry a version of a throttled burst that the
		// next write of the burst would then replace as if nobody had seen
		// it: send the burst first, so that its versions are published.
		e.flush(now, rd)
	}
	limit := e.cfg.Limits.MaxBytes * 3 / 4
	var entries []protocol.Entry
	for _, k := range e.Keys() {
		en := e.entries[k]
		if en.version.IsZero() || !e.Synced(k) || !en.sendable() {
			continue
		}
		if n, _ := e.m.Size(en.value, e.cfg.Limits.MaxBytes, e.cfg.Limits.MaxDepth); n > limit {
			continue // LocalChange reported it already; it never leaves this tab
		}
		entries = append(entries, protocol.Entry{Key: k, Entry: conflict.Entry{Value: en.value, Version: en.version}})
	}
	chunks := e.split(entries)
	for i, c := range chunks {
		e.send(rd, protocol.Message{Type: protocol.StateResponse, Req: req, To: to, Entries: c, More: i < len(chunks)-1})
	}
}

// maxForeignReported bounds the foreign app versions reported once each
// (and remembered): a script posting a new version in every message must
// not flood onError or grow memory.
const maxForeignReported = 8

// dropped counts a rejected message and reports it, at most once per
// ErrorCooldownMs for each reason (a foreign app version once per version),
// so that a hostile or chatty sender cannot flood onError.
func (e *Engine) dropped(now int64, r protocol.Reason, detail string, rd *Ready) {
	e.stats.Dropped++
	e.stats.DroppedByReason[r.String()]++
	key := r.String()
	if r == protocol.ForeignVersion {
		if e.foreignSeen[detail] {
			return
		}
		if len(e.foreignSeen) < maxForeignReported {
			e.foreignSeen[detail] = true
			rd.Errors = append(rd.Errors, Error{Phase: PhaseProtocol, Message: "ignoring a tab of another app version: " + detail + " (reload the older tab)"})
			return
		}
		// More versions than a deploy leaves open: a forger. Rate-limit
		// like any other drop, and remember no more of them.
	}
	if r == protocol.Duplicate || r == protocol.Stale {
		return // ordinary on a busy channel: counted, not reported
	}
	if last, ok := e.lastReported[key]; ok && now-last < e.cfg.ErrorCooldownMs {
		e.suppressed[key]++
		return
	}
	msg := detail
	if n := e.suppressed[key]; n > 0 {
		msg += " (and " + strconv.Itoa(n) + " more dropped for the same reason since the last report)"
	}
	e.lastReported[key] = now
	e.suppressed[key] = 0
	rd.Errors = append(rd.Errors, Error{Phase: PhaseProtocol, Message: "dropped a message: " + msg})
}
