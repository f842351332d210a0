#!/usr/bin/env bash
# Starts the machine's PostgreSQL 15 cluster (installing it if missing) and makes sure the `caregate` test
# role exists. Prints the URL to put in CAREGATE_TEST_POSTGRES_URL. Needs root or sudo.
set -euo pipefail
sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v pg_ctlcluster >/dev/null || [ ! -d /etc/postgresql/15/main ]; then
  echo "==> installing PostgreSQL 15" >&2
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null
fi
sudo_if_needed pg_ctlcluster 15 main start >/dev/null 2>&1 || true
for _ in $(seq 1 30); do
  sudo_if_needed su postgres -c "psql -qtAc 'SELECT 1'" >/dev/null 2>&1 && break
  sleep 1
done
sudo_if_needed su postgres -c "psql -qv ON_ERROR_STOP=1" >/dev/null <<'SQL'
DO $$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'caregate') THEN
    CREATE ROLE caregate LOGIN PASSWORD 'caregate' CREATEDB;
  END IF;
END $$;
SQL
# Databases left by earlier test runs (each integration test makes its own) are dropped.
sudo_if_needed su postgres -c "psql -qtAc \"SELECT format('DROP DATABASE %I;', datname) FROM pg_database WHERE datname LIKE 'caregate_test_%'\"" \
  | sudo_if_needed su postgres -c "psql -q" >/dev/null
echo "postgres://caregate:caregate@127.0.0.1:5432/postgres"
