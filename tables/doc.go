// Package tables is the core of tabsync's table sync across devices: one
// tab's state machine for the keyed tables a browser keeps in IndexedDB and
// in step with tabsync-server (see docs/TABLES.md for the browser API and
// docs/SERVER-PROTOCOL.md for the wire protocol, package tableproto).
//
// # The model
//
// Like package sync, an [Engine] does no I/O, keeps no timers, starts no
// goroutines and never reads the clock: the caller steps it with the time
// in milliseconds and carries out the [Ready] each step returns.
//
//	Restore(stored)                 what IndexedDB holds (before Start)
//	Start(now) / Stop(now)          join / leave the browser's election
//	Set / Delete(now, table, key)   a local write (the promise resolves once Ready.Store commits)
//	Touch(now, table)               a read of a table not held yet: subscribe to it
//	ReceiveTab(now, msg)            a BroadcastChannel message from another tab
//	LockGranted / LockLost / LockHeld(now)   results of the election's Web Locks operations
//	Connected(now) / Disconnected(now, why)  the WebSocket asked for by Ready.Dial
//	Receive(now, frame)             a frame from the server
//	OutboxLoaded(now, ops)          the outbox read for Ready.LoadOutbox
//	Tick(now)                       NextDeadline passed
//
// The caller's loop (jsbridge in the browser, internal/tablesim in tests):
//
//	r := e.Set(now, "scores", "p1", `{"score":1}`)
//	send r.Frames; post r.Posts; dispatch r.Events; do r.Locks;
//	if r.Close { close the socket }; if r.Dial { open one, then Connected or Disconnected }
//	report r.Errors; show r.Status; arm one timer for e.NextDeadline()
//	once every earlier Ready's Store committed:
//	  if r.Store != nil { commit r.Store in one IndexedDB transaction; on failure stop here }
//	  post r.PostsAfterStore
//	  if r.LoadOutbox { read the outbox, then OutboxLoaded }
//	  resolve the set's promise
//
// Only what must wait for IndexedDB does (see [Ready]): a write's frame
// leaves and a server change's events fire while the transaction runs.
//
// # State
//
// Per table: the server's rows (deleted ones as tombstones, so that a late
// change cannot bring a key back), each with the tableVersion the server
// gave it, and the table's version: every change up to it is applied, and
// a reconnect resumes from it (subscribe with since). Per browser: the
// outbox of local writes the server has not acknowledged, each with an opId
// (tab id, a dot and a counter) that stays the same through every resend.
// What a tab shows for a key is the newest pending write of the key (by
// writer clock, tab id and sequence), else the server's row: the overlay of
// pending writes on server state.
//
// Server rows are applied per key by version: a row replaces the one held
// only if its version is higher. So acks, updates and snapshots may arrive
// in any order (an ack before or after the update of the same write, a
// snapshot taken before an ack arrived) and still end in the server's
// state. A snapshot replaces a table up to its version and keeps pending
// writes; they are sent again with their opIds, and the server applies each
// once.
//
// A key has at most one write in flight: the next write of a key is sent
// once the server acknowledged (or refused for good) the one before it.
// tabsync-server stores the operations of a connection concurrently, so a
// set and a delete of one key sent together could be stored delete first,
// and the deleted key would come back.
//
// # One connection per browser
//
// Every tab runs an Engine; the one that leads the browser's election
// (package leader, in Locks mode, over the tabs' BroadcastChannel) holds
// the WebSocket. Its steps write server rows and versions to IndexedDB and
// relay them to the other tabs (KindChange); the others only update their
// memory. A tab's own write is stored by that tab (the value and its outbox
// entry in one transaction) and posted (KindOp); the connected tab sends it.
// A tab that crashes after storing a write but before posting it loses
// nothing: the connected tab rereads the outbox when it takes over and
// every SweepMs.
//
// # Events
//
// A step fires an [Event] for every key whose shown write changed, once,
// with the origin of the write now shown: 'local' (this tab's), 'local-tab'
// (another tab of this browser: a pending write, or a row whose originId is
// this browser's clientId), 'server' (another device's, received on this
// tab's connection) or 'server-tab' (relayed by the connected tab). An
// acknowledgement changes nothing shown and fires nothing.
//
// Two tabs of one browser writing the same key at once both show the newer
// write by their clocks until the server has ordered both; if the server
// orders them the other way, the key then changes to the write the server
// kept, with an event.
//
// # Hostile servers
//
// Frames a server must not send are dropped, counted in Engine.Dropped and
// reported (at most once per ErrorCooldownMs per kind) without touching
// anything stored: updates not after the table's version, snapshots older
// than it or after synced, frames for tables not subscribed, acks for
// operations never sent, unknown or client frame types.
//
// internal/tablesim checks the properties over 1,000 seeds in go test.
package tables
