// Package sync is tabsync's core: one tab's synchronization state machine.
//
// # The model
//
// Like etcd's raft package, an [Engine] does no I/O, keeps no timers, starts
// no goroutines and never reads the clock. It is a deterministic state
// machine that the caller steps, passing the current time in milliseconds:
//
//	Restore(now, entries)        entries read from storage (before Start)
//	Start(now, state)            the tab begins syncing
//	Stop(now)                    the tab stops (or closes)
//	LocalChange(now, prev, next, changed)  the store changed in this tab
//	Receive(now, raw)            a message arrived on the channel
//	Deliver(now, msg), Drop(now, err)  the same, decoded by the caller (jsbridge
//	                             reads the envelope in JavaScript; see Receiver)
//	Tick(now)                    a deadline passed
//	Flush(now)                   send pending changes now (page hidden or closing)
//	RequestState(now)            ask the other tabs for their state again
//	BroadcastState(now, keys)    push this tab's versions of keys to everyone
//
// Each step returns a [Ready]: the Messages to post on the BroadcastChannel,
// in order; a [Patch] of remote values to apply to the store in one setState
// (so subscribers see one change); Errors to report through onError; and,
// with Config.Persist on, the entries to Persist. The caller does all four and then asks [Engine.NextDeadline] when to call
// Tick next (0: no timer needed). In the browser the caller is the wasm
// bridge, driven by the JS event loop; in tests it is the test itself or the
// simulator in internal/sim, which replays any run from a seed.
//
// Application values are opaque [conflict.Value]s, read only through the
// configured [conflict.Model]. In the browser they are JavaScript values
// kept as they are: the store's objects go onto the channel untouched and
// BroadcastChannel clones them natively, so nothing is serialized or copied
// into Go. Tests use [conflict.GoModel].
//
// # Versions
//
// The engine keeps, for every synced key, the value and a
// [conflict.Version]: the Clock of the write that made it (a hybrid logical
// clock reading, wall time plus a counter plus the writer's tab id, so that
// all tabs order all writes the same way and a write made after seeing
// another orders after it), the Base clock it was written over, and its
// Depth (the base's depth plus one); under merge and custom also a
// [conflict.Lineage], the writes of other tabs the value was built on. A
// receiving tab compares the remote version with its own, key by key, under
// the configured [conflict.Strategy]; package conflict documents the rules.
// Only changed keys travel on a local change.
//
// Under merge and custom, when a tab takes a later concurrent write over a
// write of its own before any tab combined the two, it remembers its write
// and combines it into its next write of the key (Ready.Patch then hands the
// combined value to the store): its versions claim every earlier write of
// their tab (see "Lineage" in package conflict), and this keeps the claim
// true.
//
// The values a tab holds when it starts have no version: any write another
// tab has made wins over them, so a new or reloaded tab never pushes its
// defaults onto the others, and [Engine.BroadcastState] never sends them.
//
// # Removed keys
//
// A key that leaves the store (zustand's setState(next, true), or a key set
// to undefined) is a write like any other, whose value is undefined: a
// tombstone. It has a version, is sent, answered and stored as any write,
// and is resolved by the same strategy, so a late update, a STATE_RESPONSE
// or a record restored from storage that holds an older value of the key
// loses to it, and a later write (one made after seeing it, or with a
// later clock under last-write-wins) sets the key again. A [Patch] value
// that is undefined removes its key from the store. Under merge, fields
// removed from a key's object are remembered in its version (see "Removed
// fields" in package conflict). Tombstones do not count in the ping's
// Digest: a tab that holds one and a tab that never had the key show the
// same state.
//
// A tombstone is collected (forgotten, and with Config.Persist on its
// stored record deleted: [Ready].Unpersist) when it is safe, at a ping:
//
//  1. it is older than Config.TombstoneMs (default [DefaultTombstoneMs],
//     a minute), far longer than a message takes between tabs, and
//  2. every live peer has pinged, since the removal, the same digest as
//     this tab: none holds a value of the key, and each peer's writes sent
//     before that ping have arrived (the channel keeps each sender's order).
//
// A tab that missed the removal holds the old value, its digest differs,
// and nobody collects until anti-entropy has handed it the tombstone. A
// write made TombstoneMs or more after a removal meets the tombstone as if
// it were collected (the key is written afresh), so that tabs that
// collected and tabs that have not yet decide alike under every strategy.
// At most [MaxTombstones] are held: past it the oldest go at the next ping
// whatever the peers say. What can still bring a collected key back is a
// message or a write delayed longer than TombstoneMs: a tab frozen that
// long with an unsent write of the key, or one whose removal was lost and
// which was counted out while frozen. Over many rounds of adding and
// removing keys, a tab holds the tombstones of the last TombstoneMs (plus
// up to two ping intervals) and no more.
//
// # Filters
//
// A key is synced when Config.SyncKeys is empty (nil or []: every key) or
// names it, and Config.ExcludeKeys does not: ExcludeKeys always wins. The
// filter applies when sending, when answering a state request, and on
// receipt: a tab ignores the keys its own filter excludes whatever the
// sender sent. Function values (zustand actions) are never synced and cause
// no error. Config.ShouldSync(prev, next) is asked before a local change is
// recorded: false keeps the change in this tab; an error does the same and is
// reported with phase "send". A value larger than Limits.MaxBytes stays in
// the tab and is reported (phase "send") while the other keys of the change
// still sync.
//
// # Throttle and debounce
//
// With Config.ThrottleMs > 0 (and no debounce) a local change goes out at
// once when no window is open (leading edge) and opens a window of
// ThrottleMs; changes made inside the window go out together when it closes
// (trailing edge), in one STATE_UPDATE carrying the latest value of every key
// changed in the window. A burst never loses its final value. With
// Config.DebounceMs > 0 the throttle is off: pending changes go out once no
// change has been made for DebounceMs. With both 0 every change goes out at
// once. A burst is one write as far as other tabs are concerned: its version
// names the version they saw as its base. A STATE_RESPONSE or
// BroadcastState sends the pending burst first, so that no version another
// tab holds is later replaced by a sibling with the same base.
// [Engine.Flush] sends what is pending at once.
//
// # State requests
//
// A starting tab pings and broadcasts a STATE_REQUEST. To avoid an answer
// storm, at most two tabs answer: each ranks itself among the tabs it knows
// by start time (ties broken by id); the oldest answers at once, the second
// oldest after Config.StaggerMs unless it has seen the first answer by then,
// and the others stay silent. A tab started less than a stagger ago may not
// know the older tabs yet (tabs opened together): it answers a stagger later. When Config.Responder gives an opinion (leader
// election sets it so that the leader answers) it decides instead. The answer
// is a STATE_RESPONSE addressed to the requester with every versioned synced
// key, split into chunks (the last without More) each under 3/4 of
// Limits.MaxBytes. A request with no complete answer is repeated after
// RequestRetryMs, then twice that, while peers are known; three attempts in
// all. A repeated request is addressed to one known tab (the oldest first),
// so an answer that is only slow draws one more answer, not another round. Responses are resolved like any other write but never merged (see
// package conflict), so a late or duplicate response is harmless.
//
// # Presence
//
// Every tab sends a TAB_PING every Config.PingMs (default 5000) with its
// start time, a digest of its synced versions and a fingerprint of its key
// filter and strategy. The first message from a tab it did not know makes a
// tab answer with a TAB_PONG addressed to it, so a newcomer learns of
// everyone at once. A stopping tab says goodbye with a TAB_PING marked
// leaving, and the others count it out at once; a tab that vanishes without
// one (crash, killed process) is counted out once silent for
// Config.PeerTimeoutMs (default 3×PingMs+1000), checked at each ping.
// [Engine.ConnectedTabs] counts the live peers plus this tab. Browsers
// throttle timers in hidden tabs (to once a second, then once a minute):
// a hidden tab's pings come late, so the peer timeout is generous, and a
// caller should Tick as soon as a hidden tab becomes visible again.
//
// # Anti-entropy
//
// A tab compares each peer's ping digest with its own, when both use the same
// filter and strategy and it has nothing pending. When a peer names the same
// differing digest on two pings in a row (its state is settled, not just
// ahead by a message in flight), the tab sends it a targeted STATE_REQUEST
// (To set) and that peer answers at once. Lost messages thus heal within a
// few ping intervals.
//
// # Leader election
//
// With Config.Election set the engine owns a leader.Elector (package
// leader documents the model): it passes LEADER_ELECTION, LEADER_ANNOUNCE
// and HEARTBEAT to it, tells it when a peer says goodbye or goes silent,
// sends its messages with the engine's sequence numbers, and returns its Web
// Locks operations in Ready.Locks and a change of role in Ready.Role. The
// caller carries out the lock operations and reports back with
// [Engine.LockGranted], [Engine.LockLost] and [Engine.LockHeld];
// [Engine.IsLeader] takes the time, because a leader's lease can run out
// while it is not running. While a leader is known, only the leader answers
// a new tab's STATE_REQUEST.
//
// # Drops and errors
//
// [Engine.Receive] validates every message (package protocol) and drops what
// is malformed, of an unknown type or protocol version, of another
// Config.AppVersion, oversized, claiming this tab's id, repeated (a sequence
// number already seen from that sender) or stale (older than what the tab
// holds). Every drop is counted in [Stats].Dropped and DroppedByReason under
// the [protocol.Reason]'s name. A drop is reported (phase "protocol") at most
// once per Config.ErrorCooldownMs for each reason; the next report says how
// many were not. A foreign app version is reported once per version;
// duplicates and stale messages are ordinary on a busy channel and are
// counted silently. Nothing received can make a step fail or stop syncing; a
// failing custom resolver is reported with phase "resolve" and the local value
// stays.
//
// # Persistence
//
// With Config.Persist on, the engine says which writes to store (in
// IndexedDB, in the browser); package persist decides how. A tab that starts
// reads the stored entries and hands them to [Engine.Restore] before
// [Engine.Start]: they enter with their versions, so the STATE_REQUEST that
// Start sends is answered like for any tab holding them, and a restored
// value loses to a newer write from a peer and wins over an older one (and
// over the store's defaults, which have no version).
//
// Which tab writes: the writer of a change stores it, in the same step that
// broadcasts it ([Ready].Persist lists the entries of each STATE_UPDATE this
// tab sends, merge and custom results included), so one change is stored
// once, not once per open tab, and a throttled burst costs one write per
// flush. Receivers store nothing for a live update. A tab killed right after
// a change, before its transaction committed, loses nothing as long as
// another tab holds the change: when a peer says goodbye or is counted out
// as silent, every remaining tab lists that peer's writes it still holds,
// and a write taken in a STATE_RESPONSE whose writer is not a known live tab
// is listed too (nobody else may be left to store it). The database keeps
// an entry only when it is newer than the stored one under the strategy
// (persist.ShouldWrite), so these safety writes usually cost a read, and
// nothing older ever replaces something newer, whichever tab's transaction
// lands first. (The browser layer adds one case: the last open tab, as its
// page is unloaded, writes what it has not stored yet without reading
// first, since a read would never come back; see jsbridge.)
//
// # Stop and Start
//
// [Engine.Stop] takes effect at once: pending changes are flushed, the
// goodbye is sent, and from then on Active is false, NextDeadline is 0, and
// nothing is sent or received. Local changes made while stopped are
// recorded, and the next Start sends them, after announcing the tab and
// asking for the state it missed.
package sync
