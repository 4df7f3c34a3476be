// Package e2e tests the real ringkv-server binary from the outside, the way
// its users meet it: over TCP on 127.0.0.1, with real clients (redis-cli,
// redis-benchmark, go-redis v9 and a few raw RESP connections).
//
// TestMain builds ./cmd/ringkv-server once into a temporary directory. Each
// test starts its own server on a free port with --io uring and then with
// --io epoll (subtests named after the backend), waits until it answers PING,
// and on cleanup sends SIGTERM and requires a clean exit (status 0) within
// five seconds. The server's stderr goes to a file that is printed when a
// test fails or runs with -v.
//
// What is covered: redis-cli round trips and nil formatting; a
// redis-benchmark run of ping, set, get, incr and mset (with the INCR counter
// checked afterwards); go-redis round trips including binary values and a
// pipeline of 1000 commands; 1000 simultaneous connections; backpressure
// (a client that pipelines ~100 MB of GETs and never reads its replies must
// neither grow the server's memory without bound nor delay other clients);
// and graceful shutdown on SIGTERM.
//
// Real clients (clients_test.go, cli_tools_test.go): go-redis v9 with its
// defaults (RESP3) and rueidis (RESP3, DisableCache: ringkv refuses CLIENT
// TRACKING ON) over a broad command set; redis-cli's --stat, --latency,
// --latency-history, --bigkeys, --memkeys, --scan and --pipe (1M SETs), and
// interactive redis-cli in tmux (hints and displayed replies);
// scripts/clients-test.sh (node-redis with RESP3, redis-py) run once per
// backend. The tmux test skips without tmux, the script's test without
// node/npm or when npm cannot reach its registry.
//
// Environment:
//
//	RINGKV_E2E_SERVER=redis    run every test against redis-server instead of
//	                           ringkv (the backend is ignored), to check the
//	                           tests themselves against the specification.
//	                           ringkv-specific tests skip and say why.
//	RINGKV_E2E_BACKENDS=epoll  the backends to run, comma-separated
//	                           (default "uring,epoll"). uring subtests skip
//	                           when /proc/sys/kernel/io_uring_disabled is 2.
//
// No test asserts a timing beyond "answered within its timeout"; every wait
// is bounded by a context or a deadline.
package e2e
