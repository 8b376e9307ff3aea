#!/usr/bin/env bash
# Times the bulk generator: builds the release binary, makes a fresh
# database `debrief_bench_demo` and runs `debrief demo --incidents N` on it.
#
#   benches/demo_generate.sh [N]        N defaults to 100000
#
# The PostgreSQL server is DEBRIEF_BENCH_SERVER (default: the local one,
# postgres://postgres@127.0.0.1:5432); `psql` must be on the PATH. The
# database is left in place afterwards, to look at or to serve.
set -euo pipefail

count="${1:-100000}"
server="${DEBRIEF_BENCH_SERVER:-postgres://postgres@127.0.0.1:5432}"
database=debrief_bench_demo
cd "$(dirname "$0")/.."
debrief="${CARGO_TARGET_DIR:-target}/release/debrief"

cargo build --release --quiet
PGOPTIONS="-c client_min_messages=warning" psql "$server/postgres" --quiet --no-psqlrc \
    -v ON_ERROR_STOP=1 -c "drop database if exists $database with (force)" -c "create database $database"

export DATABASE_URL="$server/$database" RUST_LOG=warn
# Migrate first so the timing covers the generator alone.
"$debrief" migrate >/dev/null

start=$(date +%s.%N)
"$debrief" demo --incidents "$count"
end=$(date +%s.%N)

awk -v n="$count" -v start="$start" -v end="$end" 'BEGIN {
    secs = end - start
    printf "%d incidents in %.1f s: %.0f incidents per second\n", n, secs, n / secs
}'
