package sync

import (
	"strconv"

	"github.com/tabsync/tabsync/protocol"
)

// ping announces this tab, with a digest of its synced state for
// anti-entropy; leaving marks the goodbye of a stopping tab.
func (e *Engine) ping(now int64, leaving bool, rd *Ready) {
	e.nextPing = now + e.cfg.PingMs
	msg := protocol.Message{Type: protocol.TabPing, Started: e.started, Leaving: leaving}
	if !leaving {
		msg.Digest, msg.Filter = e.Digest(), e.filter
	}
	e.send(rd, msg)
}

// seen records that tab is alive; a tab heard from for the first time is
// answered with a TAB_PONG so that it learns of this one.
func (e *Engine) seen(now int64, tab string, started int64) (isNew bool) {
	p := e.peers[tab]
	if p == nil {
		isNew = true
		p = &peer{started: started}
		if started == 0 {
			p.started = now // unknown until its ping or pong arrives
		}
		e.peers[tab] = p
	} else if started != 0 {
		p.started = started
	}
	p.lastSeen = now
	return isNew
}

// forget counts a peer out. Its sequence window goes too: a tab that left
// sends nothing more, and the ids of reloaded tabs must not pile up in a
// page that stays open for days.
func (e *Engine) forget(now int64, tab string, rd *Ready) {
	delete(e.peers, tab)
	delete(e.lastSeq, tab)
	if e.el != nil {
		e.lead(e.el.PeerGone(now, tab), rd)
	}
	for req, a := range e.answers {
		if a.to == tab {
			delete(e.answers, req)
		}
	}
}

func (e *Engine) expirePeers(now int64, rd *Ready) {
	var gone []string
	for id, p := range e.peers {
		if now-p.lastSeen > e.cfg.PeerTimeoutMs {
			gone = append(gone, id)
		}
	}
	sortStrings(gone) // a deterministic order of steps and of Ready.Persist
	for _, id := range gone {
		e.forget(now, id, rd)
		e.persistOrphans(id, rd)
	}
}

// onPing compares digests. A peer whose digest
// differs from ours on two pings in a row while it names the same digest
// (its state is settled, and not just ahead of ours by a message in flight)
// is asked for its state: lost messages heal within a few ping intervals.
// Tabs with different key filters never compare.
func (e *Engine) onPing(now int64, msg protocol.Message, rd *Ready) {
	p := e.peers[msg.Tab]
	p.pingedAt = now
	if msg.Filter != e.filter || msg.Digest == "" || len(e.pendingKeys) > 0 {
		p.digest, p.mismatch = msg.Digest, 0
		return
	}
	if msg.Digest == e.Digest() {
		p.digest, p.mismatch = msg.Digest, 0
		return
	}
	if msg.Digest == p.digest {
		p.mismatch++
	} else {
		p.digest, p.mismatch = msg.Digest, 1
	}
	if p.mismatch >= 2 {
		p.mismatch = 0
		e.send(rd, protocol.Message{Type: protocol.StateRequest, Req: e.newID(), To: msg.Tab})
	}
}

// Digest summarizes the versions of the synced keys a tab holds a value of:
// two tabs with the same digest hold the same writes. Tombstones do not
// count: a tab that holds a removed key's tombstone and one that collected
// it, or never had the key, show the same state.
func (e *Engine) Digest() string {
	var sum uint64
	n := 0
	for k, en := range e.entries {
		if en.version.IsZero() || !en.sendable() || e.tomb(en) {
			continue
		}
		h := newHash()
		h.add(k)
		h.add("\x00")
		h.add(en.version.Clock.String())
		sum += h.sum
		n++
	}
	if n == 0 {
		return "0"
	}
	return strconv.FormatUint(sum, 36)
}
