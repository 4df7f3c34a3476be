// Package aof is ringkv's append-only file, in Redis 7's multi-part
// layout so that a directory moves between ringkv and redis-server 7 both
// ways. It imports only conn/resp: replay goes through a callback, and the
// rewrite's keyspace walk lives in store (dump.go), driven by conn.
//
// # Format
//
// dir/appenddirname holds appendfilename.manifest and the files it lists,
// one line each: "file NAME seq N type T" (T: b base, i incr, h history;
// names quoted as Redis's sdscatrepr when needed). Files are
// appendfilename.N.base.aof and appendfilename.N.incr.aof: RESP multibulk
// commands only ("*N" then N "$len" bulks, CRLF after each line), as
// Redis's loader requires. Load order: the base, then incr files by seq;
// history files are never loaded and are deleted. A base starting with
// "REDIS" (an RDB preamble) is refused with ErrRDBPreamble.
//
// # Invariants
//
//   - Group commit (writer.go): the owner appends each command's log to one
//     batch; after the loop turn one write(2) (repeated only for a short
//     write) and, under appendfsync always, one fdatasync(2) cover every
//     client's commands of the turn, before any of their replies is sent.
//     Flush does both on the caller's thread; conn instead calls Write,
//     hands the fdatasync of FD to its ring and reports it with Synced, so
//     that the loop goes on while the disk works. Under everysec a
//     goroutine fdatasyncs once a second if anything was written; under no
//     the kernel decides.
//   - A failed write is cut back off the file (ftruncate to the last good
//     size, as Redis does) and stays buffered for a retry, so a record is
//     never in the file twice; the caller refuses writes meanwhile.
//   - Loading (loader.go): a torn tail (the last record of the last file
//     cut short, or a MULTI without EXEC there) is cut off and reported
//     with the bytes dropped (TruncatedError when aof-load-truncated is no);
//     anything else that does not parse is a CorruptError naming the file
//     and offset and saying what to do. The two never mix: a cut at any
//     byte of the last record loads to the record before it.
//   - The manifest is replaced atomically (temp file, fsync, rename, fsync
//     of the directory); every state of a rewrite loads the whole keyspace
//     (see Rewrite).
package aof
