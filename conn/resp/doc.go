// Package resp is ringkv's wire format: the RESP2 request parser (multibulk
// and inline), the Append* reply encoders, and the one table of client-visible
// error texts.
//
// Parsing. A Parser holds the state of one connection's command in progress,
// so a frame split across any number of reads is parsed once, not rescanned
// from its start. Offsets are kept relative to the start of the command, so
// the caller may compact or grow its query buffer between calls. Arguments
// are returned as views into the caller's buffer (or, for inline arguments
// with quotes or escapes, into the parser's scratch space); they stay valid
// until the next call to Next or until the caller changes the buffer.
//
// Redis is the specification, including its quirks: a header line is found by
// searching for '\r' and the two bytes after the number are skipped without
// checking that they are "\r\n"; bulk payloads are followed by two bytes that
// are skipped the same way; a NUL byte ends the search for a line (Redis uses
// strchr on its buffer), so such a frame waits for more bytes until it is too
// big; multibulk counts <= 0 are skipped without a reply; an empty inline line
// is ignored.
//
// Limits are named, have Redis's defaults, and are checked before anything is
// allocated: BulkLenMax (proto-max-bulk-len), MultibulkLenMax, InlineLenMax.
// A violation is a *ProtocolError whose Reply is Redis's exact text; the
// caller sends it and closes the connection after the replies before it.
//
// Encoding. Every reply is appended to a caller-owned []byte by an AppendX
// function; nothing here allocates once the destination has capacity. Common
// replies and every error text are pre-encoded byte slices.
package resp
