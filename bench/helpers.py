"""A helper for bench/run.sh: bulk-loading 100 000 keys and 1 000 000 activity events into SQLite (PostgreSQL
uses generate_series in run.sh). Wrong secrets are forged by domain's `forge_secret` example, the token
format's one implementation."""
import sqlite3
import sys


def scale_sqlite(path: str) -> None:
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    with db:
        db.execute(
            """WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
               INSERT INTO api_keys (key_id, company_id, user_id, label, secret_hash, scopes, created_at, expires_at)
               SELECT printf('S%07d', i), 1, 1 + (i % 4), 'Scale key ' || i, 'x', 'read:visits',
                      strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || (i + 3600) || ' seconds'), NULL FROM n"""
        )
        db.execute(
            """WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
               INSERT INTO activity_events (company_id, actor_user_id, key_id, action, target, ip, user_agent, created_at)
               SELECT 1, 1 + (i % 4), printf('S%07d', 1 + (i % 100000)), 'key.used', 'MCP tool whoami', '127.0.0.1', 'bench',
                      strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || (i + 3600) || ' seconds') FROM n"""
        )
    db.close()


if __name__ == "__main__":
    if sys.argv[1] == "scale-sqlite":
        scale_sqlite(sys.argv[2])
