// Package persist holds the pure decisions of tabsync's IndexedDB
// persistence: which writes reach the database, in how many transactions,
// and what a schema migration writes. Like package sync it does no I/O: the
// browser layer (package jsbridge) carries out what it decides.
//
// # What is stored
//
// One record per synced key: the key, the value (a JavaScript value, stored
// by IndexedDB's structured clone) and its [conflict.Version] in the wire
// form of protocol.FormatVersion. A record with no version is a value that a
// migration added: it is restored like a default, which any tab's write
// beats.
//
// # Only newer writes
//
// Tabs write concurrently, and a transaction may reach the database after a
// later one from another tab. Each record is therefore written by reading
// the stored record and putting the new one only when [ShouldWrite] says it
// is newer, both in one readwrite transaction: IndexedDB runs readwrite
// transactions over the same store one after the other, across tabs, so
// nothing older ever overwrites something newer. "Newer" is the order of the
// conflict strategy, the same that makes tabs converge, so the database ends
// holding the state the tabs converge to.
//
// # Coalescing
//
// A [Queue] collects the entries the sync engine asks to persist
// (sync.Ready.Persist, one list per flush) and hands them out one batch per
// transaction: while a transaction runs, further entries wait and are merged
// by key, the latest version of a key replacing an earlier one, so a burst
// of changes costs one transaction per flush at most, and often fewer.
//
// # Migrations
//
// [Migrate] turns the stored records and the object the application's
// migrate(state, fromVersion) returned into the puts and deletes that bring
// the database to the new schema. A migrated value keeps the version of the
// write it came from: a migration reinterprets the stored writes, it is not a
// new write that would beat the same write held by a tab of the older app.
package persist
