#!/usr/bin/env bash
# scripts/vulncheck.sh: govulncheck (pinned) against a pinned copy of the Go vulnerability database.
#
# The project's machines reach the Go module proxy but not the vulnerability database's own
# server, so the database is built locally from the OSV files of the golang.org/x/vulndb
# module (a normal module on the proxy) with that module's own cmd/indexdb, cached under
# ~/.cache/tanggap/vulndb/<version>, and passed to govulncheck with -db file://.
# Bump VULNDB_VERSION to pick up newer advisories (`go list -m -versions` does not list
# pseudo-versions: take the newest commit's pseudo-version).
#
# Exit status: 0 when no vulnerable symbol is reachable from our code; 1 when one is in a
# third-party module; for the standard library (fixed only by a newer Go toolchain) it
# fails too unless TANGGAP_VULN_STDLIB=warn. The standard library checked is that of the
# go command running this: .ci/run sets GOTOOLCHAIN to go.mod's release toolchain.
#
#   scripts/vulncheck.sh [packages...]       default ./...
set -euo pipefail

GOVULNCHECK_VERSION=v1.9.0
VULNDB_VERSION="${TANGGAP_VULNDB_VERSION:-v0.0.0-20261105234957-e22db6528018}"
CACHE="${TANGGAP_CACHE_DIR:-$HOME/.cache/tanggap}/vulndb/$VULNDB_VERSION"

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
log() { printf '[vulncheck %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

if [[ ! -f "$CACHE/db/index/modules.json" ]]; then
  log "building the vulnerability database from golang.org/x/vulndb@$VULNDB_VERSION"
  src="$(cd /tmp && go mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
  [[ -d "$src/data/osv" ]] || { log "ERROR: no data/osv in golang.org/x/vulndb@$VULNDB_VERSION"; exit 1; }
  rm -rf "$CACHE.tmp"
  mkdir -p "$CACHE.tmp"
  (cd /tmp && go run "golang.org/x/vulndb/cmd/indexdb@$VULNDB_VERSION" -vulns "$src/data/osv" -out "$CACHE.tmp/db")
  rm -rf "$CACHE"
  mv "$CACHE.tmp" "$CACHE"
fi
log "database: golang.org/x/vulndb@$VULNDB_VERSION ($(find "$CACHE/db/ID" -name '*.json' | wc -l) entries), govulncheck $GOVULNCHECK_VERSION, $(go env GOVERSION)"

if (($# == 0)); then set -- ./...; fi
out="$(mktemp)"
trap 'rm -f "$out"' EXIT
rc=0
go run "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION" -db "file://$CACHE/db" -format json "$@" >"$out" || rc=$?
# With -format json govulncheck exits 0 whatever it found; non-zero means it could not run.
if ((rc != 0)); then
  log "ERROR: govulncheck failed to run (exit $rc)"
  exit "$rc"
fi
go run ./scripts/vulnreport -stdlib "${TANGGAP_VULN_STDLIB:-fail}" <"$out"
