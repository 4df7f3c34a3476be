#!/usr/bin/env bash
# scripts/clients-test.sh: real clients from other ecosystems against ringkv,
# and against redis-server for comparison: node-redis v5 from npm with RESP3
# (HELLO 3; scripts/clients/node, installed with npm ci from its lockfile)
# and redis-py from Debian's python3-redis (RESP2; scripts/clients/python).
# Each prints PASS/FAIL per check; the script exits non-zero if any failed.
#
# Environment:
#   SERVERS        which servers to test, space-separated: "ringkv-uring",
#                  "ringkv-epoll", "ringkv" (io auto), "redis"
#                  (default "ringkv redis")
#   RINGKV_BIN     a built ringkv-server (default: built here into a temp dir)
#   PYTHON         the interpreter that has python3-redis (default
#                  /usr/bin/python3, Debian's, when it exists)
# Exit status 77: npm could not reach its registry (the caller may skip).
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
SERVERS=${SERVERS:-ringkv redis}
if [ -z "${PYTHON:-}" ]; then
	PYTHON=python3
	[ -x /usr/bin/python3 ] && PYTHON=/usr/bin/python3
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT

# The node project: its exact dependency tree from package-lock.json.
echo "=== npm ci (scripts/clients/node)"
if ! (cd scripts/clients/node && npm ci --no-audit --no-fund --loglevel=error); then
	if ! npm ping --loglevel=error >/dev/null 2>&1; then
		echo "npm cannot reach its registry: node-redis not tested" >&2
		exit 77
	fi
	echo "npm ci failed" >&2
	exit 1
fi
"$PYTHON" -c 'import redis' || { echo "$PYTHON has no redis module: apt-get install python3-redis" >&2; exit 1; }

if [ -z "${RINGKV_BIN:-}" ] && [[ " $SERVERS " == *" ringkv"* ]]; then
	RINGKV_BIN=$tmp/ringkv-server
	go build -o "$RINGKV_BIN" ./cmd/ringkv-server
fi

free_port() {
	"$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start NAME: starts the server NAME on a free port, sets $port, and waits
# until it answers PING.
start() {
	local name=$1 dir=$tmp/$1
	port=$(free_port)
	mkdir -p "$dir"
	case $name in
	ringkv) "$RINGKV_BIN" --port "$port" --appendonly no --dir "$dir" >"$dir/log" 2>&1 & ;;
	ringkv-uring | ringkv-epoll) "$RINGKV_BIN" --port "$port" --appendonly no --dir "$dir" --io "${name#ringkv-}" >"$dir/log" 2>&1 & ;;
	redis) redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" >"$dir/log" 2>&1 & ;;
	*)
		echo "unknown server $name" >&2
		return 1
		;;
	esac
	pids+=($!)
	local i
	for i in $(seq 100); do
		[ "$(redis-cli -p "$port" PING 2>/dev/null)" = PONG ] && return 0
		sleep 0.05
	done
	echo "$name did not answer PING on port $port:" >&2
	cat "$dir/log" >&2
	return 1
}

failed=()
for name in $SERVERS; do
	start "$name"
	echo "=== node-redis $(node -p 'require("./scripts/clients/node/node_modules/redis/package.json").version') (RESP3) against $name on port $port"
	HOST=127.0.0.1 PORT=$port timeout 120 node scripts/clients/node/check.mjs || failed+=("node-redis against $name")
	echo "=== redis-py $("$PYTHON" -c 'import redis; print(redis.__version__)') (RESP2) against $name on port $port"
	HOST=127.0.0.1 PORT=$port timeout 120 "$PYTHON" scripts/clients/python/check.py || failed+=("redis-py against $name")
done

echo
if [ ${#failed[@]} -ne 0 ]; then
	printf 'FAILED: %s\n' "${failed[@]}"
	exit 1
fi
echo "all clients passed against: $SERVERS"
