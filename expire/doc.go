// Package expire is a hierarchical timer wheel: key TTLs today, blocking
// command timeouts and idle-client timeouts later. One goroutine (conn's
// loop) owns a Wheel: the package imports neither sync nor sync/atomic, and
// no package of ours.
//
// # What it owns
//
// A Wheel owns timers. A timer is a deadline in unix milliseconds and a
// caller value (a uint64: the store packs a database index and an entry id
// into it). Add returns a Handle that the caller keeps beside the thing the
// timer is for; Cancel and Update take it back. Advance fires due timers by
// handing their values to a callback.
//
// # Time
//
// The unit is the unix millisecond, int64. The wheel never reads a clock: the
// caller passes "now" to New and to Advance, read once per loop turn (tests
// drive it with a fake clock). The wheel's own time only moves forward: an
// Advance with a time earlier than a previous one fires nothing new, and a
// timer added with a deadline at or before the wheel's time is due at the
// next Advance, whatever time that call passes. Negative times count as 0.
//
// # Invariants
//
//   - A live timer is in exactly one list: a slot of some level, the due
//     list, the pending (cascade) list or the overflow list. Add creates one
//     entry; Update moves that same entry (O(1), no second entry, nothing
//     left behind to skip later); Cancel and firing remove it. So a key with
//     a TTL has exactly one live entry as long as the caller keeps one handle
//     per key, cancels it when the TTL goes away and forgets it when the
//     timer fires.
//   - A handle is an index into the node array plus the node's generation.
//     The generation changes whenever a node is freed, so a stale handle
//     (cancelled, fired, or never issued) is detected and Cancel and Update
//     on it are no-ops that return false. Generations are 32 bits: a stale
//     handle could only alias after 2^31 reuses of the same node.
//   - Nothing fires before its deadline; every timer whose deadline is at or
//     before the time passed to Advance has fired once that Advance (or a
//     following one at the same time) returns more == false; nothing fires
//     twice.
//   - Bounded work per Advance: at most maxFire timers fire and at most
//     MovesPerFire*maxFire timers are moved between lists (cascading); empty
//     slots are never visited one by one (see below), so a jump of hours or
//     years after an idle period costs a handful of bitmap look-ups per
//     non-empty slot. A million timers due in the same millisecond are spread
//     over as many calls as maxFire demands; the caller does not sleep while
//     Advance reports more.
//
// # Layout
//
// Levels (six) of 256 slots each. A slot of level L covers 256^L ms: level 0
// has 1 ms slots spanning 256 ms, level 1 256 ms slots spanning 65.5 s,
// level 2 65.5 s slots spanning 4.66 h, level 3 4.66 h slots spanning 49.7
// days, level 4 49.7 day slots spanning 34.8 years, level 5 34.8 year slots
// spanning 8919 years (2^48 ms). A time is read as base-256 digits; the
// digit of level L is bits 8L..8L+7.
//
// A timer with deadline d > now sits at the level of the highest digit in
// which d and now differ, in the slot numbered by d's digit at that level.
// That digit is greater than now's, so at every level only slots after
// now's digit are occupied, and a lower level's slots all lie before any
// higher level's occupied slot. The next thing that can happen is therefore
// the start of the first occupied slot of the lowest non-empty level: one
// 256-bit occupancy bitmap per level finds it in at most four word reads,
// and Advance jumps straight to it. When time reaches a slot's start the
// whole slot is spliced onto the pending list in O(1) and its timers are
// re-placed against the new time (cascading): into a lower level, or onto
// the due list when their deadline has come. Each timer therefore moves at
// most once per level on its way down.
//
// Deadlines that differ from now above bit 48 (beyond year 10889 today,
// including the math.MaxInt64 that Redis accepts for PEXPIREAT) go to the
// overflow list. It is re-examined once the levels are empty, at the
// multiple of 2^48 ms at or before its earliest deadline (a lower bound kept
// on insertion), so reaching math.MaxInt64 costs one pass, not one per
// 2^48 ms on the way.
//
// # Memory
//
// Nodes (32 bytes: deadline, value, next, prev, generation) live in one
// pointer-free slice, linked into circular doubly linked lists by uint32
// index; the first nodes of the slice are the lists' sentinels. Ten million
// timers are one 320 MB allocation that the garbage collector never scans.
// Freed nodes go on a free stack (a []uint32, 4 bytes per free node) and are
// reused, so Add, Cancel, Update and Advance allocate nothing in steady
// state. Neither slice shrinks while timers are live; Release gives both
// back once none is (store calls it from the loop's cron), raising the
// generation new nodes start from so that old handles stay stale.
//
// Cost. With millions of timers a node is usually not in cache: Cancel and
// Update touch the node and its two neighbours, Add one node and a slot's
// tail, and every visit of a timer while cascading or firing is one
// dependent load (a list is walked node by node). A timer is visited once
// per level it passes through plus once to fire, two to four times for
// TTLs of seconds to days.
package expire
