#!/usr/bin/env bash
# scripts/redis-callgrind.sh: instructions redis-server spends per new post in the ingest
# script, counted by callgrind. Wall-clock figures on a shared 2-core host move by a third
# within minutes; instruction counts repeat within a few percent, so they decide between two
# versions of the scripts (the wall-clock effect is then measured with `tanggap bench`).
#
#   scripts/redis-callgrind.sh [POSTS [MODE]]      default 3000 fresh
#
# It builds redis-server from Debian's source of the packaged version (7.0.15) with symbols,
# once, under TANGGAP_CACHE_DIR (default ~/.cache/tanggap), starts it under
# valgrind --tool=callgrind with AOF everysec on a spare port, runs
# BenchmarkIngestBatch/MODE for POSTS posts against it (fresh: new posts, which take the plain
# path of store/plain.go; script: the same posts through the ingest script; joins; answers:
# every second post an official reply that answers a complaint stored before) and prints
# the instructions per post of EVALSHA (the script with the commands it calls and their AOF
# propagation) and of the whole server. Needs valgrind, gcc, make and curl. Not run by CI.
set -euo pipefail

posts=${1:-3000}
mode=${2:-fresh}
version=7.0.15
cache=${TANGGAP_CACHE_DIR:-$HOME/.cache/tanggap}
src=$cache/redis-$version
bin=$src/src/redis-server
root=$(cd "$(dirname "$0")/.." && pwd)
port=$((20000 + RANDOM % 10000))
work=$(mktemp -d)
trap 'redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

for cmd in valgrind callgrind_annotate gcc make curl redis-cli; do
	command -v "$cmd" >/dev/null || { echo "redis-callgrind: $cmd is missing (apt-get install valgrind build-essential curl redis-tools)" >&2; exit 1; }
done

if [[ ! -x $bin ]]; then
	mkdir -p "$cache"
	curl -fsSL "https://deb.debian.org/debian/pool/main/r/redis/redis_$version.orig.tar.gz" | tar -xz -C "$cache"
	make -C "$src" -j"$(nproc)" BUILD_TLS=no >"$cache/redis-build.log" 2>&1 ||
		{ echo "redis-callgrind: build failed, see $cache/redis-build.log" >&2; exit 1; }
fi

valgrind --tool=callgrind --callgrind-out-file="$work/out" "$bin" --port "$port" --dir "$work" \
	--appendonly yes --appendfsync everysec --save "" --auto-aof-rewrite-percentage 0 >"$work/log" 2>&1 &
for _ in $(seq 200); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.2; done

(cd "$root" && TANGGAP_TEST_REDIS_ADDR=127.0.0.1:$port go test ./store -run '^$' \
	-bench "IngestBatch/$mode\$" -benchtime "${posts}x" >"$work/bench" 2>&1) ||
	{ cat "$work/bench" >&2; exit 1; }
redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
wait

callgrind_annotate --inclusive=yes "$work/out" >"$work/annotated"
eval_ir=$(awk '/evalShaCommand \[/ && !n++ {gsub(",", "", $1); print $1}' "$work/annotated")
eval_ir=${eval_ir:-0}
total_ir=$(awk '/PROGRAM TOTALS/ && !n++ {gsub(",", "", $1); print $1}' "$work/annotated")
awk -v e="$eval_ir" -v t="$total_ir" -v n="$posts" \
	'BEGIN { printf "ingest script (EVALSHA): %.0f instructions per post\nredis-server in all:     %.0f instructions per post\n", e / n, t / n }'
