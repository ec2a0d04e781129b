// Package server is tabsync-server: a relay that keeps keyed tables in step
// between devices over WebSockets, storing them in NATS JetStream.
//
// Clients speak the protocol of package tableproto (docs/SERVER-PROTOCOL.md)
// at /sync; /healthz answers "ok" while the relay can serve, and /metrics
// exposes counters in the Prometheus text format.
//
// # Usage
//
// Embedded in a Go program or a test (servertest.Run does this for tests):
//
//	srv, err := server.New(&server.Options{Listen: "127.0.0.1:0", DataDir: dir})
//	if err != nil { … }
//	if err := srv.Start(); err != nil { … }  // does not block
//	fmt.Println(srv.URL())                   // ws://127.0.0.1:40123/sync
//	…
//	srv.Shutdown(ctx)                        // idempotent
//
// The command cmd/tabsync-server chains ConfigureOptions, New, Start and, on
// SIGTERM or SIGINT, Shutdown.
//
// # Storage
//
// By default the relay embeds a NATS server with JetStream file storage in
// Options.DataDir; it opens no NATS port. With Options.NATSURLs it uses an
// existing NATS cluster instead, and any number of relays share the tables.
//
// Table T is the JetStream KV bucket "tabsync_T" (History 1, no TTL). A key
// is stored under its base64url encoding, so any UTF-8 key fits. The stream
// sequence of a change is its tableVersion: monotonic per table, kept across
// restarts, and a delete takes one like a set. Operations are published with
// their opId as Nats-Msg-Id, and the stream's duplicate window is raised to
// Options.DedupeWindow (24 h by default), so a retried opId is stored once and
// acknowledged with the original version, across relays and restarts.
//
// Each relay keeps, for every table someone subscribed to through it, a copy
// of the table's latest rows (deletes as tombstones) fed by one ordered
// JetStream consumer. Subscribers are served from that copy: a snapshot or
// the changes after since, then the live updates, under one lock, so each
// subscriber sees every version once and in order. The copy costs memory of
// the order of the table's size per relay. A change stored through this
// relay is fanned out on JetStream's publish acknowledgement when its version
// follows the copy's, and otherwise once the versions before it arrived; the
// consumer's later delivery of it is skipped (see table.acked).
//
// # Durability
//
// An ack is sent once JetStream has stored the change (with Replicas > 1,
// on a majority of the replicas). What survives:
//   - relay kill -9: every acked write (it is in JetStream); unacked ones are
//     retried by the clients with their opIds and applied once.
//   - NATS node loss (cluster, Replicas 3): every acked write; the cluster
//     elects a new leader within about a second and the relays reconnect.
//   - power loss: JetStream fsyncs every 2 minutes by default, so acked writes
//     of the last 2 minutes may be lost; SyncAlways (--sync-always) fsyncs
//     before every ack, at a large cost in write rate (see docs/SERVER.md).
package server
