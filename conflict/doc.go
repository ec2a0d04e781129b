// Package conflict decides, key by key, what a tab does when another tab's
// write of a key reaches it.
//
// # Versions
//
// Every synced key's value carries a [Version]:
//
//   - Clock, the [Clock] of the write, from the writer's hybrid logical
//     clock ([HLC]). It identifies the write: no two writes share one, and
//     every tab orders any two clocks the same way ([Clock.Compare]).
//   - Base, the clock of the value the writer replaced (zero if the key was
//     never written there).
//   - Depth, the number of writes in the value's lineage: the base's depth
//     plus one.
//   - Lineage, under merge and custom only: the other writes the value was
//     built on (see below).
//
// # Resolving
//
// [Resolver.Resolve] compares the local entry of a key with a remote one and
// returns a [Decision] whose [Outcome] is [Keep], [Take] or [Write]. Whatever
// the [Strategy]:
//
//   - A key never written locally takes the remote write.
//   - A remote write the local value already holds (a duplicate, or an
//     ancestor) is kept out: Keep, with Stale set.
//   - A remote write whose writer had seen the local value is a successor
//     and is taken.
//
// Any other pair of writes is concurrent: neither writer had seen the other's
// write. The decision then sets Conflict, and depends on the strategy.
//
// [LastWriteWins]: the write with the later clock wins. Clocks form a total
// order, and a successor's clock is always after its base's (the writer's
// clock observed the base), so every tab ends with the same value whatever
// order the writes reach it in. An ancestor is recognised by its clock being
// the local Base, a successor by its Base being the local clock; any other
// write is ordered by clock, which orders ancestors right too.
//
// [FirstWriteWins]: the write with the greater Depth wins, having been built
// on more history; between equal depths the earlier clock wins. This too is a
// total order consistent with successors (a successor is one deeper than its
// base), so tabs converge.
//
// [Merge] and [Custom], for a live write (a STATE_UPDATE its writer has just
// made): the tab that holds the later of the two writes combines them and
// returns Write with the combined value, which the caller publishes as a new
// write of its own, a successor of both; the tab that holds the earlier write
// takes the later one and then the combined write, so every tab ends with
// that one value. Merge combines two plain objects with [DeepMerge](earlier,
// later); when either is an array or a scalar the later value is kept. Custom
// calls [Resolver].Custom(local, remote) where local is the later write; if it
// fails, or is missing, or returns a function, the decision is Keep with Err
// set. Under custom with [Resolver].Tab set, only the tab that made the later
// write calls it: a third tab that holds that write when the earlier one
// reaches it keeps its value and waits for the writer's combined write.
// Application resolvers need not be idempotent (the reference's example
// concatenates arrays); were the writer and a third tab both to call it, the
// two concurrent results would be combined again, and the arrays would
// double. If the writer is gone before the earlier write reaches it, no tab
// combines the two and the later write stands, as under last-write-wins.
// When the combined value equals the local one (the local value holds the
// remote write already, or the later value is kept) no write is published: the decision is Keep with Absorb set, and the caller adds the
// remote write to its version's lineage ([Version.Absorb]). This is what
// makes combining stop: three tabs combining each other's combined writes
// would otherwise publish new ones for ever. For a copy of a tab's current
// state rather than a live write (a STATE_RESPONSE, or state restored from
// storage), concurrent writes are only ordered by clock.
//
// # Lineage
//
// Merge and custom must tell a write's ancestors (which its value already
// holds) from writes made concurrently with it (whose fields it must
// combine); clock, base and depth cannot, past one step. So under these two
// strategies a version carries a [Lineage]: a per-key version vector whose
// entries are hybrid clocks. Seen names, for each other tab that wrote into
// the value's history, the latest write of that tab it includes; the
// version's own Clock stands for its own tab. [Version.Covers] reports
// whether a write is in a version's history: Resolve keeps out a covered
// write and takes a write that covers the local one. A new write's lineage is
// the union of what it was built on ([Descend]): the value the tab held, and
// for a combined write the remote write too.
//
// One clock per tab suffices because a tab's writes form a chain: every write
// of a tab holds the tab's earlier writes. The one place this could break is
// a tab taking a later concurrent write over a write of its own before
// anyone combined the two; the engine then remembers its own write and
// combines it into its next write (sync's entry.unmerged), so the claim
// holds.
//
// Size stays bounded as tabs come and go (each page load is a new tab id):
// a lineage names at most [MaxSeen] tabs, the ones with the latest writes,
// and the others fold into Floor, a clock at or before which every write
// counts as included. The approximation: a concurrent write older than the
// latest writes of MaxSeen other tabs in a value's history is taken for an
// ancestor and not combined. On the wire a lineage is at most MaxSeen+1
// clocks, about 300 bytes with 20-character tab ids, per key that has one.
// Last-write-wins and first-write-wins carry no lineage.
//
// # Removed fields
//
// Under merge, a write that drops fields from a key's object (nested ones
// too, at most [MaxGonePath] keys deep) remembers each in its version's
// Gone: a [Removed] with the field's path, the write's clock and a
// [Fingerprint] of the value the field held. A removal has no value to
// merge, so without it the field would come back from any concurrent write
// that still holds it. The rule, applied when two concurrent writes are
// combined ([Resolver.CombineEntries], [Prune]):
//
//   - a removal beats a write it has seen (the field's value it removed);
//   - a concurrent write unaware of the removal that holds the very value
//     the removal saw only carried the field over: the field stays removed;
//   - a concurrent write that holds another value under the field wrote it
//     concurrently: the field is kept, with that value.
//
// So every field written by a concurrent write is present after merge,
// unless a later write removed it. (A concurrent write that sets a field
// back to the value it had is indistinguishable from one that carried it
// over: the removal wins.) A write that sets a removed field again, having
// seen the removal, drops it from Gone; a combined write inherits the Gone
// of both writes, and a tab that absorbs a write adds its Gone to its own.
//
// Gone is bounded: at most [MaxGone] removals per key, the latest, and a
// removal older than the engine's tombstone time to live (sync's
// Config.TombstoneMs, a minute by default) is left out of the next write
// of the key. Past those bounds a write delayed longer than that, or made
// unaware of more than MaxGone later removals, can bring a field back.
// Last-write-wins and first-write-wins replace a key's value whole, so a
// removed field never comes back under them, and custom leaves it to the
// resolver; none of them carries Gone.
//
// # Merging
//
// [DeepMerge] builds a new plain object with the keys of both inputs. Where
// both hold a plain object under a key, the two are merged the same way;
// otherwise the later value is kept, so arrays and scalars are replaced, not
// combined. The keys __proto__, constructor and prototype are never copied
// into an object DeepMerge builds; a subtree present on one side only is
// carried over as it is. The inputs are never modified, though the result
// shares the subtrees it carried over with them.
//
// # Values
//
// The core never looks inside application values except through a [Model].
// In the browser the values are JavaScript handles; [GoModel] implements the
// Model over Go values shaped like the output of encoding/json, for tests,
// the simulator and fuzzing.
package conflict
