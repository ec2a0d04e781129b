package sync

import (
	"github.com/tabsync/tabsync/conflict"
	"github.com/tabsync/tabsync/protocol"
)

// Restore takes entries read from storage. Each is resolved against what
// the engine holds as a copy of state (never merged): a restored write beats
// an older one and the values a tab starts with (which have no version), and
// loses to a newer one, whether made in this tab or received. An entry with
// no version (a key a migration added) only fills a key the engine holds no
// write of. The winners come back as a Patch with no Source, to apply to the
// store. Keys the filter excludes and function values are ignored.
//
// Call Restore before Start, so that the versions are in place when the tab
// asks the others for their state; called later it is still safe.
func (e *Engine) Restore(now int64, entries []protocol.Entry) Ready {
	var rd Ready
	var patch Patch
	for _, in := range entries {
		if !e.Synced(in.Key) || e.m.Kind(in.Value) == conflict.Function {
			continue
		}
		en := e.entries[in.Key]
		if in.Version.IsZero() {
			if en != nil && !en.version.IsZero() {
				continue
			}
		} else {
			e.hlc.Observe(in.Version.Clock)
			local := conflict.Entry{}
			if en != nil && !e.expired(en, in.Version) {
				local = conflict.Entry{Value: en.value, Version: en.version}
			}
			if d := e.res.Resolve(local, in.Entry, false); d.Outcome != conflict.Take {
				continue
			}
		}
		if en == nil {
			en = &entry{}
			e.entries[in.Key] = en
		}
		en.value, en.version = in.Value, in.Version
		e.unqueue(in.Key)
		patch.Keys = append(patch.Keys, in.Key)
		patch.Values = append(patch.Values, in.Value)
	}
	if len(patch.Keys) > 0 {
		rd.Patch = &patch
	}
	return rd
}

// Versioned returns every synced key the engine holds a write of, sorted by
// key: what to store again when the database was lost.
func (e *Engine) Versioned() []protocol.Entry {
	var out []protocol.Entry
	for _, k := range e.Keys() {
		if en := e.entries[k]; !en.version.IsZero() && e.Synced(k) {
			out = append(out, protocol.Entry{Key: k, Entry: conflict.Entry{Value: en.value, Version: en.version}})
		}
	}
	return out
}

// persistOrphans stores, once a peer has left or gone silent, the writes of
// that peer this tab holds: the peer may have died before its own
// transaction committed. The database keeps them only if they are newer
// than what it holds, so this costs a read when nothing was lost.
func (e *Engine) persistOrphans(tab string, rd *Ready) {
	if !e.cfg.Persist {
		return
	}
	for _, k := range e.Keys() {
		if en := e.entries[k]; en.version.Clock.Tab == tab && e.Synced(k) {
			rd.Persist = append(rd.Persist, protocol.Entry{Key: k, Entry: conflict.Entry{Value: en.value, Version: en.version}})
		}
	}
}

// adopt stores a write taken from sender when its writer is neither the
// sender nor a tab known to be alive: nobody else may be left to store it
// (its writer may have died before its transaction committed, and the tab
// that relayed it may close). Usually the database has it already, and this
// costs a read.
func (e *Engine) adopt(sender string, in protocol.Entry, rd *Ready) {
	w := in.Version.Clock.Tab
	if !e.cfg.Persist || w == sender || w == e.cfg.Tab || e.peers[w] != nil {
		return
	}
	rd.Persist = append(rd.Persist, in)
}
