package store

import "github.com/ringkv/ringkv/conn/resp"

// Propagation: how a command's effect on the keyspace is logged, the way
// Redis propagates it (to the AOF now, to replicas later).
//
// The rule, as in Redis's call(): a command that changed the keyspace
// (Stats.Dirty moved while it ran) is logged as its own argv, unless its
// handler called Ctx.Rewrite, in which case exactly what it gave to Rewrite
// is logged instead. Handlers rewrite whatever would not replay to the same
// keyspace:
//   - relative times become absolute: SET EX/PX -> SET ... PXAT, EXPIRE ->
//     PEXPIREAT, SETEX -> SET ... PXAT, GETEX EX -> PEXPIREAT;
//   - non-deterministic commands log their effect: SPOP -> SREM,
//     INCRBYFLOAT -> SET ... KEEPTTL, SRANDMEMBER-like choices as what was
//     chosen;
//   - a command that changed nothing logs nothing (do not touch Dirty).
//
// Keys removed because their TTL passed are logged as DEL before the
// command that found them (LogDel), and do not count as the command's own
// change. Conn collects Ctx.Prop after each command (adding argv when the
// rule says so, and SELECT when the database differs from the last one
// logged) and hands the batch to the AOF.

// Rewrite logs argv as (part of) the effect of the running command, in
// place of the command itself. A handler may call it several times; the
// commands are logged in order.
func (c *Ctx) Rewrite(argv ...[]byte) {
	c.Prop = resp.AppendCommand(c.Prop, argv...)
	c.Rewritten = true
}

var delWord = []byte("DEL")

// LogDel logs the removal of key from the selected database, for a removal
// that is not the running command's own effect (lazy expiry).
func (c *Ctx) LogDel(key []byte) {
	c.Prop = resp.AppendCommand(c.Prop, delWord, key)
}
