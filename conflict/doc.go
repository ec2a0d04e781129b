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
//
// # Resolving
//
// [Resolver.Resolve] compares the local entry of a key with a remote one and
// returns a [Decision] whose [Outcome] is [Keep], [Take] or [Write]. Whatever
// the [Strategy]:
//
//   - A key never written locally takes the remote write.
//   - A remote write whose Clock is the local Clock (a duplicate) or the local
//     Base (the very write the local one replaced) is kept out: Keep, with
//     Stale set.
//   - A remote write whose Base is the local Clock was made by a tab that had
//     seen the local value: it is a plain successor and is taken.
//
// Any other pair of writes is concurrent: neither writer had seen the other's
// write. The decision then sets Conflict, and depends on the strategy.
//
// [LastWriteWins]: the write with the later clock wins. Clocks form a total
// order, and a successor's clock is always after its base's (the writer's
// clock observed the base), so every tab ends with the same value whatever
// order the writes reach it in.
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
// set. For a copy of a tab's current state rather than a live write (a
// STATE_RESPONSE, or state restored from storage), merge and custom only
// order the two writes by clock, so that a lagging copy cannot bring back
// fields that a later write removed. Under merge and custom, a remote write
// that is both shallower and earlier than the local one is treated as an
// ancestor the local value has moved past: Keep, with Stale set.
//
// A limitation of merge follows: a version records only its own clock, its
// base and its depth, not its whole lineage, so a concurrent write that is
// both shallower and earlier than a tab's current value (its writer made
// fewer writes since their common ancestor, and made this one first) is
// taken for an ancestor and not combined. The tabs still converge on one
// value, but the fields that write added can be missing from it
// (sync's TestMergeKeepsEveryConcurrentField shows a case). Telling the two
// apart needs the writers' lineage, such as a per-key version vector.
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
