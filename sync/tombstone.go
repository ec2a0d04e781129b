package sync

import (
	"github.com/tabsync/tabsync/conflict"
	"github.com/tabsync/tabsync/protocol"
)

// tomb reports whether en is the tombstone of a removed key: a write whose
// value is undefined.
func (e *Engine) tomb(en *entry) bool {
	return !en.version.IsZero() && e.m.Kind(en.value) == conflict.Undefined
}

// collect forgets the tombstones that are safe to forget, at a ping: those
// older than TombstoneMs, once every live peer has pinged, after the
// removal was made, the digest this tab has (so none of them holds a value
// of the key, and every write they sent before that ping has arrived: the
// channel keeps each sender's order). Past MaxTombstones the oldest go
// anyway. With Config.Persist on, each one collected is listed in
// Ready.Unpersist: its record goes too, unless something newer replaced
// it. See "Removed keys" in the package documentation.
func (e *Engine) collect(now int64, rd *Ready) {
	if len(e.pendingKeys) > 0 {
		return
	}
	var tombs []string
	for k, en := range e.entries {
		if e.tomb(en) {
			tombs = append(tombs, k)
		}
	}
	if len(tombs) == 0 {
		return
	}
	// Oldest first, so that the cap takes the oldest.
	sortFunc(tombs, func(a, b string) bool {
		ca, cb := e.entries[a].version.Clock, e.entries[b].version.Clock
		if ca != cb {
			return ca.Less(cb)
		}
		return a < b
	})
	digest := e.Digest()
	for i, k := range tombs {
		en := e.entries[k]
		over := len(tombs)-i > MaxTombstones
		if !over && (now-en.version.Clock.Wall < e.cfg.TombstoneMs || !e.agreed(digest, en.version.Clock.Wall)) {
			continue
		}
		delete(e.entries, k)
		if e.cfg.Persist {
			rd.Unpersist = append(rd.Unpersist, protocol.Entry{Key: k, Entry: conflict.Entry{Value: en.value, Version: en.version}})
		}
	}
}

// agreed reports whether every live peer's latest ping, received after
// since, carried digest.
func (e *Engine) agreed(digest string, since int64) bool {
	for _, p := range e.peers {
		if p.digest != digest || p.pingedAt <= since {
			return false
		}
	}
	return true
}

// expired reports whether en is a tombstone that a write made TombstoneMs
// or more after it meets as if it were collected: as the write of a key
// absent here. Every tab may have collected it by then, and a tab that has
// not must decide as they do; first-write-wins would otherwise keep a deep
// tombstone over the shallower writes made after other tabs collected it.
func (e *Engine) expired(en *entry, v conflict.Version) bool {
	return e.tomb(en) && v.Clock.Wall-en.version.Clock.Wall >= e.cfg.TombstoneMs
}
