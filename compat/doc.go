// Package compat is ringkv's differential compatibility suite: it owns the
// proof that ringkv answers like Redis 7, reply for reply and byte for byte.
//
// Its tests (there is no non-test code) build ringkv once, start a real
// redis-server (from PATH, on a free port, no persistence) and ringkv on each
// I/O backend, send the same bytes to all of them over plain TCP and compare
// what comes back:
//
//   - scripted cases, testdata/<family>.txt, one command per line; the
//     expected reply is whatever redis-server answers at test time, never a
//     stored value;
//   - randomised command sequences over a small key space, generated from the
//     commands ringkv lists in COMMAND, with a printed, replayable seed
//     (-seed) and delta-debugging shrinking of a failing sequence;
//   - protocol torture: malformed, partial and split frames, compared
//     including whether and when the connection is closed;
//   - FuzzCommand, a differential fuzz target over command arguments.
//
// Replies are compared byte for byte except for a small, explicit list of
// rules for replies that are legitimately non-deterministic (rules_test.go):
// KEYS and SCAN compared as sets, RANDOMKEY by invariant, INFO, CLIENT, HELLO,
// CONFIG GET and COMMAND by structure. No reply is ever skipped silently.
//
// With RINGKV_COMPAT_REPORT=<file>, the tests also write the compatibility
// table (per Redis command family: commands implemented, differential cases
// passed) to that file; scripts/compat-report.sh prints it.
//
// compat imports conn/resp only (for AppendCommand): it treats ringkv as a
// black box reached over the network.
package compat
