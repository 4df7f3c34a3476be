// Package conn is the event loop: it accepts connections, keeps each
// client's state, and runs read -> parse -> execute -> reply -> send on one
// goroutine locked to its OS thread, driving a ring.Ring.
//
// Data path of a loop turn. ring.Wait reaps a batch of completions; for each
// received chunk the bytes are appended to the client's query buffer and
// every complete command in it is parsed (argv are views into that buffer)
// and executed by store, whose handlers append the reply to the client's
// reply buffer. After the batch, flush starts one send per client that has
// replies: every reply of the batch leaves in one send, and at most one send
// per socket is in flight (the ring's contract). The next Wait submits those
// sends together with anything else queued. The turn ends by releasing the
// collections its commands deleted or overwrote (store.ReleaseDead): until
// then a command, the log and the replies may still read them. Every few
// milliseconds the loop
// passes through the Go scheduler (loopYieldMs), so that the runtime's sysmon
// does not take it for a runaway goroutine and poll the loop's core.
//
// Invariants.
//   - Only the loop goroutine touches clients, the store and the ring;
//     Shutdown is the one call other goroutines make (it wakes the ring).
//   - A client's replies are in order: ctx.Out collects what the next send
//     carries while sending is in flight; they swap when the send finishes.
//   - Under appendfsync always a reply that may depend on a logged write
//     not yet on disk is held, not sent, until the fsync that covers it
//     completes on the ring; meanwhile the loop goes on (aof_commit.go).
//   - Backpressure: once a client's unsent replies reach ReplySoftLimit its
//     commands stop executing and its socket stops being read; both resume
//     when the replies drain below the limit. A client that never reads
//     therefore costs at most about ReplySoftLimit plus one reply plus one
//     read of memory, and delays nobody else. ReplyHardLimit (0 = none, as
//     Redis's default for normal clients) disconnects a client outright.
//   - A protocol error replies Redis's "-ERR Protocol error: ..." after the
//     replies of the commands before it, then the connection is closed, as
//     Redis does. QUIT closes after its +OK.
//   - The query buffer is bounded by QueryBufLimit (client-query-buffer-
//     limit); a client that passes it is disconnected, as in Redis.
//   - Buffers that grew past a keep limit are released once drained.
//
// Connection-level commands (QUIT, CLIENT, HELLO, INFO, CONFIG) are
// implemented here and registered in store's command table, so COMMAND lists
// every command from one table.
package conn
