// Package leader elects one leader among the tabs on a channel, so that an
// application can run something (poll a server, hold a WebSocket) in one tab
// only.
//
// Like package sync, an [Elector] is a pure state machine: it does no I/O,
// keeps no timers and never reads the clock. The sync engine owns one when
// leader election is on (sync.Config.Election): it routes LEADER_ELECTION,
// LEADER_ANNOUNCE and HEARTBEAT messages to it, sends what it asks for, and
// passes its lock operations ([Op]) and role changes out in sync.Ready. Web
// Locks are I/O, so the Elector only asks for them (request, steal, release,
// query) and is told the results (LockGranted, LockLost, LockHeld); package
// jsbridge does the navigator.locks calls and internal/sim simulates them.
//
// # Modes
//
// [Locks]: every tab queues an exclusive request for one Web Lock per
// channel; the holder leads, announces itself (LEADER_ANNOUNCE) and sends a
// HEARTBEAT every heartbeat interval. When the leader closes or crashes the
// browser releases its lock and grants it to the next tab in line, which
// leads at once. This is what 'auto' picks where navigator.locks exists.
//
// [Heartbeat], for browsers without Web Locks: a tab that knows no leader
// sends LEADER_ELECTION with its priority (its start time) and collects the
// others' for one Window; the best candidate (the oldest tab, ties broken by
// the lower tab id, so two tabs started in the same millisecond never both
// win) announces itself with a new term. A leader answers every
// LEADER_ELECTION with a LEADER_ANNOUNCE. Two leaders that hear each other
// settle it by term, then by id: the loser steps down.
//
// # A silent, frozen or unresponsive leader
//
// A frozen tab (page lifecycle freeze, a discarded or suspended tab, a hung
// page) keeps its Web Lock and runs nothing. So in both modes a follower that
// has not heard the leader for Suspect (2 heartbeats) probes it with a
// LEADER_ELECTION; a leader that runs answers at once. A probe unanswered for
// Probe (2 more heartbeats) lets the best candidate among the probers take
// over: it steals the lock in locks mode and announces a new term in
// heartbeat mode. From the leader's last heartbeat that is at most 4
// heartbeats plus message delays, plus in locks mode a grace of a quarter
// heartbeat (below): a frozen or unresponsive leader is replaced within 5 ×
// leaderHeartbeatMs. A leader that closes says goodbye (TAB_PING leaving):
// in heartbeat mode that starts an election at once.
//
// # Never two leaders in locks mode
//
// A leader acts only within a lease of 3 heartbeats, renewed by each of its
// heartbeats; [Elector.IsLeader] takes the time. A leader that did not run for
// longer (frozen, or its timers held back) does not act again until it has
// asked the lock manager whether the lock is still its own (QueryLock): then
// it carries on, or steps down. Followers steal only after 4 heartbeats of
// silence, by when the lease of the leader they heard has run out. A tab that
// stole the lock (a takeover or forceLeader) announces itself but does not
// act until every tab heard leading within a lease has stepped down (a tab
// that loses its lock steps down without a fight and endorses the new leader
// with a LEADER_ANNOUNCE naming it) or let its lease run out, and until a
// grace for a holder it has not heard of has passed (a quarter heartbeat
// after a silence, a twentieth after forceLeader). A lock granted in turn,
// not stolen, was given up by a holder that no longer acts, so it is used
// at once.
//
// In heartbeat mode, overlaps can happen (concurrent candidates, a frozen
// leader waking up) and end as soon as the two leaders hear each other: the
// simulator asserts they last less than 3 heartbeats, message loss included.
//
// # Throttled hidden tabs
//
// Browsers run the timers of hidden tabs at most once a second, and after
// some minutes once a minute, but deliver messages and settle promises
// without delay. Takeover never rests on a timer of the leader alone: a
// follower takes over only when its probe, a message, goes unanswered for
// Probe, and a live leader answers probes from its message handler. A
// follower whose own timers are throttled only probes later. A leader whose
// heartbeat timer fires late (past its lease) asks the lock manager, a
// promise, and carries on. So throttling causes no handover at all, and
// hence no flapping; the simulator checks six minutes of tabs throttled to
// 1 s and 1 min with the leader kept. Only a leader that runs nothing at all
// (frozen) is replaced, once.
//
// # Forged messages
//
// Any script of the origin can post a LEADER_ANNOUNCE or HEARTBEAT naming a
// tab that does not exist, with any term. Followers follow it until it
// fails to answer a probe; then they forget it, and the best candidate
// takes over (stealing the lock in locks mode, where the real holder also
// keeps leading until the lock says otherwise). Terms count up from the
// highest seen but stop at 2^53-1, the largest a message can carry: past a
// forged term that high, terms tie and ties are settled as always, so the
// tabs never end up unable to read each other's terms.
//
// # Bounds
//
// With heartbeat interval H (leaderHeartbeatMs, default 1000 ms, at least
// 20 ms): heartbeat every H; probe after 2H of silence; take over after 2H
// more (a starting tab in locks mode waits the same 4H); candidates
// collected for H when no leader is known; lease 3H; after a steal, a grace
// of H/4 (H/20 after forceLeader with a known leader). The simulator (1,000
// seeds per mode in `go test`: tabs joining, closing, crashing, freezing
// with their messages kept or lost, resuming, being throttled and forcing
// leadership while messages are delayed up to 40 ms and lost up to 5%)
// checks: in locks mode never two tabs acting as leader at once; in
// heartbeat mode no overlap of 3H or more; and once the faults stop, exactly
// one leader that every live tab knows within 10H (the longest seen over
// 6,000 seeds: 4.3 s in locks mode, 5.9 s in heartbeat mode, with H = 1 s),
// kept for 20H more.
package leader
