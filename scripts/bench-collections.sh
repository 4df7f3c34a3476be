#!/usr/bin/env bash
# scripts/bench-collections.sh: lists, sets, hashes and sorted sets, ringkv
# against redis-server 7: redis-benchmark's collection tests (requests/s and
# server CPU per request, interleaved rounds, medians and ratios) and the
# memory of a large sorted set and a large hash.
#
# Throughput. Each server runs pinned to CPU 0 and, where a cgroup CPU quota
# can be set (cgroup v2 cpu.max, or the v1 cpu controller), capped at QUOTA of
# one core, so that the server and not redis-benchmark (pinned to CPU 1) is
# the bottleneck; as scripts/bench-vs-redis.sh does. Each (server, round) is
# a fresh start; the order of the two servers alternates between rounds.
# Every test runs at each pipeline depth as its own redis-benchmark
# invocation (-c CLIENTS -q --csv, redis-benchmark's defaults otherwise: no
# -r, so SADD/HSET/ZADD always name the one member "element:__rand_int__"),
# after a FLUSHALL, so that each starts from the same state on both servers.
#
# Every row redis-benchmark prints is measured and reported. An lrange_*
# test makes two: redis-benchmark first runs "LPUSH (needed to benchmark
# LRANGE)" (the same number of requests, filling mylist), then LRANGE mylist
# 0 99 (or 0 599); they are reported as "LPUSH (prelude of LRANGE_100)" and
# "LRANGE_100 (first 100 elements)". CPU per request is per row: the
# server's utime + stime (/proc/PID/stat) is read as each CSV row arrives
# (redis-benchmark runs under stdbuf -oL), so the prelude's CPU is not
# charged to LRANGE.
#
# With PREFILL=1 (the default) the pop tests pop real elements: before lpop
# and rpop, mylist gets as many elements as the run has requests (RPUSH of
# 3-byte values, like redis-benchmark's -d 3); before spop, myset gets as
# many members ("element:N"); before zpopmin, myzset gets as many (score N,
# "element:N"). The prefill goes through redis-cli --pipe and is not
# measured. PREFILL=0 runs them as redis-benchmark alone would after a
# FLUSHALL: popping an empty key (nil replies).
#
# Memory. Uncapped fresh servers get, through redis-cli --pipe (100 members
# per command), a MEMBERS-member sorted set (ZADD bench:zset N m:N) and then
# a MEMBERS-field hash (HSET bench:hash f:N val:%08d, 12-byte values). VmRSS
# (/proc/PID/status) is read empty, after the zset and after the hash, each
# after a 1 s pause; INFO memory's used_memory_rss and used_memory at the end.
#
# The markdown report goes to stdout and to OUT; progress goes to stderr.
# redis-benchmark exits at the first error reply; such a failure (server,
# test, pipeline, redis-benchmark's message) is listed in the report, the
# other tests still run, and the script exits 1 at the end.
#
# Environment:
#   ROUNDS=3          interleaved rounds per server (medians are reported)
#   N=100000          requests per run at pipeline 1
#   N_PIPELINED=8*N   requests per run at pipeline 16
#   PIPELINES="1 16"  pipeline depths; CLIENTS=50 connections (-c)
#   TESTS=lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,lrange_600
#                     redis-benchmark -t names (comma- or space-separated)
#   PREFILL=1         fill the key each pop test pops (see above); 0: don't
#   QUOTA=40000       cgroup CPU quota in us per 100000 us period (40% of a
#                     core); QUOTA=max runs uncapped
#   IO=auto           ringkv's --io backend (auto, uring or epoll)
#   RINGKV_BIN=...    server binary to test instead of building
#                     ./cmd/ringkv-server into bin/ringkv-server
#   RINGKV_PORT=16384 REDIS_PORT=16385
#   THROUGHPUT=1      run the redis-benchmark part; 0 skips it
#   MEMORY=1          run the memory part; 0 skips it
#   MEMBERS=1000000   members of the sorted set and fields of the hash
#   SETTLE=3          seconds after each load before RSS is read (ringkv-server
#                     returns outgrown arrays every 2 s; jemalloc purges in
#                     the background too)
#   BENCH_TIMEOUT=1200  seconds one redis-benchmark run may take
#   OUT=bench-collections.md  the markdown report
#
# Takes ${TMPDIR:-/tmp}/ringkv-bench.lock (shared with the other bench
# scripts) so that two benchmarks never run at once.
#
# Examples:
#   scripts/bench-collections.sh                      # full run (about 30 min)
#   ROUNDS=1 N=2000 N_PIPELINED=4000 MEMBERS=20000 scripts/bench-collections.sh
#   THROUGHPUT=0 scripts/bench-collections.sh         # memory only
#   MEMORY=0 TESTS=lrange_100,lrange_600 scripts/bench-collections.sh
set -euo pipefail
cd "$(dirname "$0")/.."

me=bench-collections
log() { echo "$*" >&2; }
die() { echo "$me: $*" >&2; exit 1; }
for bin in redis-server redis-cli redis-benchmark taskset stdbuf flock timeout getconf awk; do
	command -v "$bin" >/dev/null || die "$bin is not installed (redis-server, redis-cli and redis-benchmark come with redis 7; taskset with util-linux; stdbuf and timeout with coreutils)"
done

ROUNDS=${ROUNDS:-3}
N=${N:-100000}
N_PIPELINED=${N_PIPELINED:-$((N * 8))}
read -r -a PIPELINES <<<"${PIPELINES:-1 16}"
CLIENTS=${CLIENTS:-50}
read -r -a TESTS <<<"$(echo "${TESTS:-lpush,rpush,lpop,rpop,sadd,hset,spop,zadd,zpopmin,lrange_100,lrange_600}" | tr ',' ' ' | tr '[:upper:]' '[:lower:]')"
PREFILL=${PREFILL:-1}
QUOTA=${QUOTA:-40000}
PERIOD=100000
IO=${IO:-auto}
RINGKV_PORT=${RINGKV_PORT:-16384}
REDIS_PORT=${REDIS_PORT:-16385}
THROUGHPUT=${THROUGHPUT:-1}
MEMORY=${MEMORY:-1}
MEMBERS=${MEMBERS:-1000000}
SETTLE=${SETTLE:-3}
BENCH_TIMEOUT=${BENCH_TIMEOUT:-1200}
OUT=${OUT:-bench-collections.md}


[ "$(nproc)" -ge 2 ] || die "needs 2 CPUs (server on CPU 0, client on CPU 1)"
for v in ROUNDS N N_PIPELINED CLIENTS MEMBERS BENCH_TIMEOUT; do
	[[ ${!v} =~ ^[1-9][0-9]*$ ]] || die "$v must be a positive integer, not '${!v}'"
done
for p in "${PIPELINES[@]}"; do
	[[ $p =~ ^[1-9][0-9]*$ ]] || die "PIPELINES must hold positive integers, not '$p'"
done
[ "${#TESTS[@]}" -gt 0 ] || die "TESTS is empty"
for t in "${TESTS[@]}"; do
	[[ $t =~ ^[a-z0-9_]+$ ]] || die "bad test name '$t' in TESTS"
done

# Never two benchmarks at once: they would share the CPUs they measure.
exec 9>"${TMPDIR:-/tmp}/ringkv-bench.lock"
if ! flock -n 9; then
	log "$me: another benchmark holds ${TMPDIR:-/tmp}/ringkv-bench.lock; waiting for it"
	flock 9
fi

if [ -n "${RINGKV_BIN:-}" ]; then
	ringkv_bin=$RINGKV_BIN
	log "ringkv binary: $ringkv_bin (RINGKV_BIN)"
else
	go build -o bin/ringkv-server ./cmd/ringkv-server
	ringkv_bin=bin/ringkv-server
fi
# Absolute, as the servers run in the scratch directory (so that nothing
# they might write lands in the repository).
case "$ringkv_bin" in
*/*) ringkv_bin=$(realpath "$ringkv_bin") ;;
*) ringkv_bin=$(command -v "$ringkv_bin") || die "RINGKV_BIN: $RINGKV_BIN not found" ;;
esac
[ -x "$ringkv_bin" ] || die "$ringkv_bin is not an executable"
redis_bin=$(command -v redis-server)
CLK_TCK=$(getconf CLK_TCK)
work=$(mktemp -d "${TMPDIR:-/tmp}/ringkv-bench-coll.XXXXXX")

# ---- cgroup CPU cap (scripts/lib-cgroup.sh) ----------------------------------
CG_PREFIX=ringkv-bench-coll
# shellcheck source=scripts/lib-cgroup.sh
source scripts/lib-cgroup.sh
cg_detect

# ---- servers ----------------------------------------------------------------
server_pid=
server_name=

port_of() { if [ "$1" = ringkv ]; then echo "$RINGKV_PORT"; else echo "$REDIS_PORT"; fi; }

# start_server NAME: a fresh server on CPU 0 (capped unless cg_mode=none).
start_server() {
	local name=$1 port args
	port=$(port_of "$name")
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		die "port $port is already in use (set ${name^^}_PORT)"
	fi
	args=(--port "$port" --bind 127.0.0.1 --save '' --appendonly no)
	if [ "$name" = ringkv ]; then
		# --io only where the binary is ringkv (RINGKV_BIN may be redis-server).
		case "$(basename "$ringkv_bin")" in
		redis-server*) ;;
		*) args+=(--io "$IO") ;;
		esac
		(cd "$work" && exec taskset -c 0 "$ringkv_bin" "${args[@]}" >"$work/$name.log" 2>&1 9>&-) &
	else
		(cd "$work" && exec taskset -c 0 "$redis_bin" "${args[@]}" >"$work/$name.log" 2>&1 9>&-) &
	fi
	server_pid=$!
	server_name=$name
	cap_pid "$name" "$server_pid"
	for _ in $(seq 100); do
		if [ "$(redis-cli -p "$port" PING 2>/dev/null)" = PONG ]; then
			# Say once which backend --io auto chose (ringkv logs it).
			if [ "$name" = ringkv ] && [ -z "${backend_line:-}" ]; then
				backend_line=$(grep -m1 'io backend' "$work/$name.log" || true)
				[ -n "$backend_line" ] && log "  ringkv: ${backend_line#* * }"
			fi
			return 0
		fi
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	log "$me: $name did not answer PING on port $port; its log:"
	cat "$work/$name.log" >&2
	exit 1
}

stop_server() {
	[ -n "$server_pid" ] || return 0
	kill -TERM "$server_pid" 2>/dev/null || true
	for _ in $(seq 50); do
		kill -0 "$server_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
	server_pid=
}

bench_pid=
cleanup() {
	if [ -n "$bench_pid" ]; then
		kill -TERM "$bench_pid" 2>/dev/null || true
		wait "$bench_pid" 2>/dev/null || true
	fi
	stop_server
	cg_cleanup
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# cpu_ticks PID: utime + stime of the whole process, in clock ticks. Fields
# are counted after the ")" that ends the command name, which may hold spaces.
cpu_ticks() {
	local rest
	rest=$(<"/proc/$1/stat")
	rest=${rest##*) }
	# shellcheck disable=SC2086
	set -- $rest
	echo $((${12} + ${13}))
}

vmrss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# info_field PORT FIELD: a field of INFO memory ("" if the server has none).
info_field() {
	redis-cli -p "$1" INFO memory | tr -d '\r' | awk -F: -v f="$2" '$1 == f { print $2 }'
}

# gen_resp MODE N KEY PREFIX: RESP for N members of KEY, 100 per command.
#   list: RPUSH KEY xxx...     set: SADD KEY PREFIX<i>...
#   zset: ZADD KEY i PREFIX<i>...   hash: HSET KEY PREFIX<i> val:%08d...
gen_resp() {
	LC_ALL=C awk -v mode="$1" -v n="$2" -v key="$3" -v prefix="$4" -v batch=100 '
	function bulk(s) { s = s ""; return "$" length(s) "\r\n" s "\r\n" }
	BEGIN {
		cmd = mode == "list" ? "RPUSH" : mode == "set" ? "SADD" : mode == "zset" ? "ZADD" : "HSET"
		per = (mode == "list" || mode == "set") ? 1 : 2
		for (i = 0; i < n; i += batch) {
			m = n - i < batch ? n - i : batch
			out = "*" (2 + per * m) "\r\n" bulk(cmd) bulk(key)
			for (j = i; j < i + m; j++) {
				if (mode == "list") out = out bulk("xxx")
				else if (mode == "set") out = out bulk(prefix j)
				else if (mode == "zset") out = out bulk(j) bulk(prefix j)
				else out = out bulk(prefix j) bulk(sprintf("val:%08d", j))
			}
			printf "%s", out
		}
	}'
}

# load PORT FILE: sends FILE through redis-cli --pipe; fails on any error reply.
load() {
	local port=$1 file=$2
	if ! redis-cli -p "$port" --pipe <"$file" >"$work/pipe.out" 2>&1 || ! grep -q '^errors: 0,' "$work/pipe.out"; then
		log "$me: redis-cli --pipe into $server_name (port $port) failed:"
		cat "$work/pipe.out" >&2
		exit 1
	fi
}

# expect_count PORT WANT CMD...: fails unless the command answers WANT.
expect_count() {
	local port=$1 want=$2 got
	shift 2
	got=$(redis-cli -p "$port" "$@" 2>&1)
	[ "$got" = "$want" ] || die "$server_name: $* answered '$got', expected $want"
}

# ---- throughput -----------------------------------------------------------------
# results: one line per measured row: server rowkey pipeline round rps cpu_us_per_request
# rows:    test_index<TAB>row_index<TAB>rowkey<TAB>label, one per row key
# failures: markdown list items
results=$work/results
rows=$work/rows
failures=$work/failures
: >"$results"
: >"$rows"
: >"$failures"

# prefill TEST PORT N: fills the key a pop test pops (PREFILL=1).
prefill() {
	local test=$1 port=$2 n=$3 mode key prefix file cnt
	case "$test" in
	lpop | rpop) mode=list key=mylist prefix='' cnt=LLEN ;;
	spop) mode=set key=myset prefix=element: cnt=SCARD ;;
	zpopmin | zpopmax) mode=zset key=myzset prefix=element: cnt=ZCARD ;;
	*) return 0 ;;
	esac
	file=$work/prefill-$mode-$n.resp
	[ -f "$file" ] || gen_resp "$mode" "$n" "$key" "$prefix" >"$file"
	load "$port" "$file"
	expect_count "$port" "$n" "$cnt" "$key"
}

# row_label TEST CSVNAME: the report's name for a row redis-benchmark printed.
row_label() {
	case "$2" in
	"LPUSH (needed to benchmark LRANGE)") echo "LPUSH (prelude of ${1^^})" ;;
	*) echo "$2" ;;
	esac
}

# run_one NAME TEST P ROUND TEST_INDEX: one redis-benchmark invocation, every
# row measured.
run_one() {
	local name=$1 test=$2 p=$3 round=$4 ti=$5 port n t_prev t_now line label key rc idx=0 csvname rps
	port=$(port_of "$name")
	n=$N
	[ "$p" -gt 1 ] && n=$N_PIPELINED
	redis-cli -p "$port" FLUSHALL >/dev/null
	[ "$PREFILL" = 1 ] && prefill "$test" "$port" "$n"
	rm -f "$work/bench.fifo"
	mkfifo "$work/bench.fifo"
	: >"$work/bench.out"
	t_prev=$(cpu_ticks "$server_pid")
	# In the background, read through a FIFO, so that a signal's trap runs
	# at once; stdbuf -oL so that each CSV row arrives when its test ends
	# and the server's CPU time can be read then.
	timeout "$BENCH_TIMEOUT" taskset -c 1 stdbuf -oL redis-benchmark -h 127.0.0.1 -p "$port" -c "$CLIENTS" -n "$n" \
		-t "$test" -P "$p" -q --csv >"$work/bench.fifo" 2>"$work/bench.err" &
	bench_pid=$!
	while IFS= read -r line; do
		printf '%s\n' "$line" >>"$work/bench.out"
		# Data rows only: "NAME","rps",... (not the "test","rps",... header).
		[[ $line == '"'*'","'* && $line != '"test","rps"'* ]] || continue
		t_now=$(cpu_ticks "$server_pid")
		idx=$((idx + 1))
		csvname=${line#\"}
		csvname=${csvname%%\",\"*}
		rps=${line#\""$csvname"\",\"}
		rps=${rps%%\"*}
		label=$(row_label "$test" "$csvname")
		key=$test
		case "$csvname" in
		"LPUSH (needed to benchmark LRANGE)") key=$test:prelude ;;
		"${test^^}" | "${test^^} "*) ;;
		*) key=$test:row$idx ;;
		esac
		grep -q "	$key	" "$rows" || printf '%s\t%s\t%s\t%s\n' "$ti" "$idx" "$key" "$label" >>"$rows"
		awk -v s="$name" -v k="$key" -v p="$p" -v r="$round" -v rps="$rps" -v dt=$((t_now - t_prev)) -v hz="$CLK_TCK" -v n="$n" \
			'BEGIN { printf "%s %s %s %s %.2f %.3f\n", s, k, p, r, rps, dt / hz * 1e6 / n }' >>"$results"
		tail -n 1 "$results" | awk -v l="$label" '{ printf "  %-6s P=%-2s %12.0f req/s %8.3f us CPU/req  %s\n", $1, $3, $5, $6, l }' >&2
		t_prev=$t_now
	done <"$work/bench.fifo"
	rc=0
	wait "$bench_pid" || rc=$?
	bench_pid=
	if [ "$rc" -ne 0 ] || [ "$idx" -eq 0 ]; then
		local msg
		msg=$(cat "$work/bench.err" "$work/bench.out" | tr -d '\r' | { grep -v '^"' || true; } | sed 's/^ *//; s/ *$//' |
			{ grep . || true; } | head -n 5 | paste -sd ' ' -)
		[ "$rc" -eq 124 ] && msg="timed out after ${BENCH_TIMEOUT}s. $msg"
		[ "$rc" -eq 0 ] && msg="no rows printed (is '$test' a redis-benchmark -t name?)${msg:+ $msg}"
		log "$me: redis-benchmark -t $test -P $p against $name failed (exit $rc, $idx rows measured): ${msg:-no output}"
		# shellcheck disable=SC2016 # the backquotes are markdown
		printf -- '- %s, round %s, `redis-benchmark -c %s -n %s -t %s -P %s`: exit %s after %s measured row(s): %s\n' \
			"$name" "$round" "$CLIENTS" "$n" "$test" "$p" "$rc" "$idx" "${msg:-no output}" >>"$failures"
		if ! kill -0 "$server_pid" 2>/dev/null; then
			log "$me: $name exited; its log:"
			tail -n 20 "$work/$name.log" >&2
			exit 1
		fi
	fi
}

# median NAME ROWKEY P COLUMN: "" if there is no value.
median() {
	awk -v s="$1" -v k="$2" -v p="$3" -v c="$4" '$1 == s && $2 == k && $3 == p { print $c }' "$results" |
		sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else if (NR) print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# by_round NAME ROWKEY P: the rps of each round, in round order ("–" where
# the run failed).
by_round() {
	awk -v s="$1" -v k="$2" -v p="$3" -v rounds="$ROUNDS" '$1 == s && $2 == k && $3 == p { v[$4] = $5 }
		END { for (r = 1; r <= rounds; r++) printf "%s%s", (r > 1 ? " / " : ""), (r in v ? sprintf("%.0f", v[r]) : "–") }' "$results"
}

throughput_table=
if [ "$THROUGHPUT" = 1 ]; then
	log "$me: ${TESTS[*]}; $ROUNDS rounds, N=$N (pipeline 1), N=$N_PIPELINED (pipeline > 1), -c $CLIENTS, PREFILL=$PREFILL"
	if [ "$cg_mode" = none ]; then
		log "CPU cap: none ($cg_why): the servers run uncapped on CPU 0, so requests/s may measure redis-benchmark;"
		log "         compare the CPU-per-request columns"
	else
		log "CPU cap: cgroup $cg_mode, $QUOTA/$PERIOD us per period on CPU 0${cg_why:+ ($cg_why)}"
	fi
	for round in $(seq "$ROUNDS"); do
		order=(ringkv redis)
		[ $((round % 2)) -eq 0 ] && order=(redis ringkv)
		for name in "${order[@]}"; do
			log "round $round/$ROUNDS: $name"
			start_server "$name"
			for ti in "${!TESTS[@]}"; do
				for p in "${PIPELINES[@]}"; do
					run_one "$name" "${TESTS[$ti]}" "$p" "$round" "$ti"
				done
			done
			stop_server
		done
	done

	throughput_table="| test | pipeline | ringkv rps | redis rps | ratio | ringkv µs CPU/req | redis µs CPU/req |"$'\n'"|---|---|---|---|---|---|---|"
	rounds_table="| test | pipeline | ringkv rps by round | redis rps by round |"$'\n'"|---|---|---|---|"
	while IFS=$'\t' read -r _ _ key label; do
		for p in "${PIPELINES[@]}"; do
			throughput_table+=$'\n'$(awk -v t="$label" -v p="$p" -v kr="$(median ringkv "$key" "$p" 5)" -v rr="$(median redis "$key" "$p" 5)" \
				-v kc="$(median ringkv "$key" "$p" 6)" -v rc="$(median redis "$key" "$p" 6)" '
				function num(v, f) { return v == "" ? "–" : sprintf(f, v) }
				BEGIN { printf "| %s | %s | %s | %s | %s | %s | %s |", t, p, num(kr, "%.0f"), num(rr, "%.0f"),
					(kr != "" && rr != "" && rr > 0 ? sprintf("%.2f", kr / rr) : "–"), num(kc, "%.2f"), num(rc, "%.2f") }')
			rounds_table+=$'\n'"| $label | $p | $(by_round ringkv "$key" "$p") | $(by_round redis "$key" "$p") |"
		done
	done < <(sort -t $'\t' -k1,1n -k2,2n "$rows")
fi

# ---- memory -------------------------------------------------------------------
memory_table=
if [ "$MEMORY" = 1 ]; then
	log "memory: generating a $MEMBERS-member sorted set and a $MEMBERS-field hash"
	gen_resp zset "$MEMBERS" bench:zset m: >"$work/zset.resp"
	gen_resp hash "$MEMBERS" bench:hash f: >"$work/hash.resp"
	saved_mode=$cg_mode
	cg_mode=none # loading is not what is measured
	# mem: server empty_kib zset_kib both_kib info_rss info_used
	: >"$work/mem"
	for name in ringkv redis; do
		port=$(port_of "$name")
		start_server "$name"
		sleep 1
		empty=$(vmrss_kib "$server_pid")
		load "$port" "$work/zset.resp"
		expect_count "$port" "$MEMBERS" ZCARD bench:zset
		sleep "$SETTLE"
		zset=$(vmrss_kib "$server_pid")
		load "$port" "$work/hash.resp"
		expect_count "$port" "$MEMBERS" HLEN bench:hash
		sleep "$SETTLE"
		both=$(vmrss_kib "$server_pid")
		info_rss=$(info_field "$port" used_memory_rss)
		info_used=$(info_field "$port" used_memory)
		echo "$name $empty $zset $both ${info_rss:--} ${info_used:--}" >>"$work/mem"
		log "  $name: VmRSS empty $((empty / 1024)) MiB, +zset $((zset / 1024)) MiB, +hash $((both / 1024)) MiB; INFO used_memory_rss ${info_rss:-?}, used_memory ${info_used:-?}"
		stop_server
	done
	cg_mode=$saved_mode
	memory_table=$(awk -v m="$MEMBERS" '
		{ e[$1] = $2; z[$1] = $3; b[$1] = $4; ir[$1] = $5; iu[$1] = $6 }
		function mib(kib) { return sprintf("%.1f", kib / 1024) }
		function row(what, k, r, fmt) {
			printf "| %s | %s | %s | %s |\n", what, sprintf(fmt, k), sprintf(fmt, r), (r > 0 ? sprintf("%.2f", k / r) : "–")
		}
		function brow(what, k, r) {   # bytes (INFO fields), "-" when absent
			printf "| %s | %s | %s | %s |\n", what, (k == "-" ? "–" : sprintf("%.1f", k / 1048576)), (r == "-" ? "–" : sprintf("%.1f", r / 1048576)),
				(k != "-" && r != "-" && r > 0 ? sprintf("%.2f", k / r) : "–")
		}
		END {
			print "| measure | ringkv | redis | ratio ringkv/redis |"
			print "|---|---|---|---|"
			row("VmRSS empty (MiB)", e["ringkv"] / 1024, e["redis"] / 1024, "%.1f")
			row("VmRSS with the zset (MiB)", z["ringkv"] / 1024, z["redis"] / 1024, "%.1f")
			row("VmRSS with the zset and the hash (MiB)", b["ringkv"] / 1024, b["redis"] / 1024, "%.1f")
			row("zset: RSS growth (MiB)", (z["ringkv"] - e["ringkv"]) / 1024, (z["redis"] - e["redis"]) / 1024, "%.1f")
			row("zset: bytes per member", (z["ringkv"] - e["ringkv"]) * 1024 / m, (z["redis"] - e["redis"]) * 1024 / m, "%.0f")
			row("hash: RSS growth (MiB)", (b["ringkv"] - z["ringkv"]) / 1024, (b["redis"] - z["redis"]) / 1024, "%.1f")
			row("hash: bytes per field", (b["ringkv"] - z["ringkv"]) * 1024 / m, (b["redis"] - z["redis"]) * 1024 / m, "%.0f")
			brow("INFO used_memory_rss with both (MiB)", ir["ringkv"], ir["redis"])
			brow("INFO used_memory with both (MiB)", iu["ringkv"], iu["redis"])
		}' "$work/mem")
fi

# ---- the report -------------------------------------------------------------------
{
	echo "# ringkv vs redis-server: collections"
	echo
	echo "Made by \`scripts/bench-collections.sh\` (ROUNDS=$ROUNDS N=$N N_PIPELINED=$N_PIPELINED PIPELINES=\"${PIPELINES[*]}\" CLIENTS=$CLIENTS"
	echo "PREFILL=$PREFILL QUOTA=$QUOTA IO=$IO THROUGHPUT=$THROUGHPUT MEMORY=$MEMORY MEMBERS=$MEMBERS) on $(date -u +%Y-%m-%d)."
	echo "Kernel $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs;"
	echo "ringkv: $ringkv_bin$(git rev-parse --short HEAD 2>/dev/null | sed 's/^/ (HEAD /; s/$/)/')$([ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && echo ' with uncommitted changes'), --io $IO;"
	echo "$("$redis_bin" --version | cut -d' ' -f1-3)."
	if [ "$THROUGHPUT" = 1 ]; then
		echo
		echo "## redis-benchmark -c $CLIENTS (medians of $ROUNDS interleaved rounds)"
		echo
		echo "Servers on CPU 0$([ "$cg_mode" = none ] && echo ", uncapped ($cg_why): requests/s may measure the client, compare CPU per request" || echo ", capped at $QUOTA/$PERIOD us per period (cgroup $cg_mode)"),"
		echo "redis-benchmark on CPU 1. $N requests per run at pipeline 1, $N_PIPELINED at higher pipelines; FLUSHALL before"
		echo "every run. ratio = ringkv rps / redis rps (above 1: ringkv faster); µs CPU/req = the server's utime + stime"
		echo "over the row, per request. Each LRANGE_* run is preceded by redis-benchmark's own LPUSH of as many"
		echo "requests (\"LPUSH (needed to benchmark LRANGE)\"), reported as its prelude row."
		if [ "$PREFILL" = 1 ]; then
			echo "Pop tests pop real elements: the key was filled beforehand (not measured) with as many elements as requests."
		else
			echo "PREFILL=0: pop tests pop an empty key (nil replies)."
		fi
		echo "Without -r, SADD, HSET and ZADD name one member (\"element:__rand_int__\") over and over."
		echo
		echo "$throughput_table"
		echo
		echo "Requests/s of each round:"
		echo
		echo "$rounds_table"
		if [ -s "$failures" ]; then
			echo
			echo "### Failed runs"
			echo
			cat "$failures"
		fi
	fi
	if [ "$MEMORY" = 1 ]; then
		echo
		echo "## Memory: a $MEMBERS-member sorted set, then a $MEMBERS-field hash"
		echo
		echo "Fresh uncapped servers; loaded by redis-cli --pipe, 100 members per command: ZADD bench:zset N m:N,"
		echo "then HSET bench:hash f:N val:%08d (12-byte values). VmRSS from /proc/PID/status, $SETTLE s after each load;"
		echo "growth = the difference between successive readings; INFO fields read after both loads."
		echo
		echo "$memory_table"
	fi
} >"$work/report.md"
cp "$work/report.md" "$OUT"
cat "$work/report.md"
log
log "report written to $OUT"
if [ -s "$failures" ]; then
	log "$me: some redis-benchmark runs failed; see \"Failed runs\" in the report"
	exit 1
fi
