#!/usr/bin/env bash
# Start a local PostgreSQL for the test suite (idempotent) and print its URL on the last line.
# Installs Debian's postgresql package when it is missing and we are root; creates the role
# 'leotwin' (password 'leotwin', CREATEDB) used by the tests.  Listens on 127.0.0.1 only.
set -euo pipefail
if ! command -v pg_lsclusters >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "postgres.sh: PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 3
  fi
fi
read -r ver name port status _ < <(pg_lsclusters -h | head -n 1 || true)
if [ -z "${ver:-}" ]; then
  ver=$(ls /usr/lib/postgresql | sort -n | tail -n 1)
  pg_createcluster "$ver" main >/dev/null
  read -r ver name port status _ < <(pg_lsclusters -h | head -n 1)
fi
if [ "$status" != "online" ]; then
  pg_ctlcluster "$ver" "$name" start
fi
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
for _ in $(seq 1 50); do as_pg psql -p "$port" -tAc 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.2; done
as_pg psql -p "$port" -tAc "SELECT 1 FROM pg_roles WHERE rolname = 'leotwin'" | grep -q 1 ||
  as_pg psql -p "$port" -qc "CREATE ROLE leotwin LOGIN CREATEDB PASSWORD 'leotwin'"
echo "postgresql://leotwin:leotwin@127.0.0.1:${port}/postgres"
