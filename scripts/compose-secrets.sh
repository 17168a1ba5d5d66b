#!/usr/bin/env bash
# scripts/compose-secrets.sh: create the secret files docker-compose.yml mounts, if missing.
# Random values for the session key and the Redis and Grafana passwords; empty files for the
# platform tokens, to be filled in by hand. Existing files are left alone. See deploy/secrets/README.md.
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/deploy/secrets"
# The directory is private to its owner; the files are world-readable so that the containers'
# non-root users (uid 65532 for tanggap) can read their bind-mounted secrets.
mkdir -p "$dir"
chmod 700 "$dir"
umask 022
for name in redis_password grafana_admin_password; do
  [[ -e "$dir/$name" ]] || { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/$name"; echo "created $dir/$name (random)"; }
done
for name in x_bearer_token meta_access_token youtube_api_key meta_app_secret instagram_verify_token; do
  [[ -e "$dir/$name" ]] || { : >"$dir/$name"; echo "created $dir/$name (empty: put the platform token in it)"; }
done
