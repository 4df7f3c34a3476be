#!/usr/bin/env bash
# scripts/run.sh [config-file] [--name value ...]: builds ringkv-server into
# bin/ and runs it with the given arguments (redis-server's syntax), e.g.
#   scripts/run.sh --port 6380 --io epoll
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o bin/ringkv-server ./cmd/ringkv-server
exec bin/ringkv-server "$@"
