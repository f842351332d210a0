"""Helpers for bench/run.sh: bulk-loading 100 000 keys and 1 000 000 activity events into SQLite (PostgreSQL
uses generate_series in run.sh), and 1 000 000 disclosures of the company's patients (scale-disclosures-sqlite,
after scale-sqlite: they name its keys), and connecting an app through OAuth for the access-token row (the whole
dance over HTTP: registration, the authorization request, sign-in, password confirmation, consent, code
exchange). Wrong secrets are forged by domain's `forge_secret` example, the token format's one implementation."""
import base64
import hashlib
import http.client
import json
import secrets
import sqlite3
import sys
import urllib.parse


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


def scale_disclosures_sqlite(path: str) -> None:
    """1 000 000 tool calls of company 1, each disclosing one of its patients (spread evenly), one per second
    back from an hour ago; ids are made as the writer makes them (time in microseconds x 1024)."""
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    patients = [row[0] for row in db.execute("SELECT id FROM patients WHERE company_id = 1 ORDER BY id")]
    if not patients:
        raise SystemExit("no patients in company 1: seed the demo data first")
    now = int(db.execute("SELECT strftime('%s', 'now')").fetchone()[0])
    db.execute("CREATE TEMP TABLE bench_patients (n INTEGER PRIMARY KEY, id INTEGER NOT NULL)")
    db.executemany("INSERT INTO bench_patients (n, id) VALUES (?, ?)", list(enumerate(patients)))
    count = len(patients)
    with db:
        db.execute(
            f"""WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000)
                INSERT INTO disclosures (id, company_id, key_id, owner_user_id, label, credential, client, tool, at)
                SELECT ({now} - 3600 - i) * 1024000000, 1, printf('S%07d', 1 + (i % 100000)), 1 + (i % 4), 'Scale key', 'key',
                       'bench', 'list_visits', strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || (i + 3600) || ' seconds') FROM n"""
        )
        db.execute(
            f"""INSERT INTO disclosure_patients (disclosure_id, patient_id, company_id, key_id, owner_user_id, at)
                SELECT d.id, p.id, d.company_id, d.key_id, d.owner_user_id, d.at
                FROM disclosures d JOIN bench_patients p ON p.n = (d.id / 1024000000) % {count}
                WHERE d.client = 'bench'"""
        )
    db.execute("ANALYZE")
    db.close()


def oauth_access_token(port: int, email: str) -> str:
    """Connects a self-registered app for `email` (password caregate-demo) and returns its access token."""
    redirect = "http://127.0.0.1:9/callback"

    def request(method, path, body=None, headers=None):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        connection.close()
        if response.status >= 400:
            raise SystemExit(f"{method} {path}: {response.status} {data[:300]!r}")
        return response, data

    form = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    _, data = request("POST", "/oauth/register", json.dumps({"client_name": "bench", "redirect_uris": [redirect]}),
                      {"Content-Type": "application/json"})
    client_id = json.loads(data)["client_id"]
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urllib.parse.urlencode({"response_type": "code", "client_id": client_id, "redirect_uri": redirect,
                                    "code_challenge": challenge, "code_challenge_method": "S256", "state": "bench",
                                    "scope": "read:visits read:schedule read:profile read:messages read:patients read:caregivers read:activity"})
    response, _ = request("GET", f"/oauth/authorize?{query}")
    consent = response.getheader("Location")
    request_id = urllib.parse.parse_qs(urllib.parse.urlsplit(consent).query)["request"][0]
    response, _ = request("POST", "/api/session/login", urllib.parse.urlencode({"email": email, "password": "caregate-demo"}), form)
    cookie = response.getheader("Set-Cookie").split(";")[0]
    request("POST", "/api/keys/confirm-password", urllib.parse.urlencode({"password": "caregate-demo"}), {**form, "Cookie": cookie})
    _, consent_scopes = request("POST", "/api/oauth/consent", urllib.parse.urlencode({"request": request_id}), {**form, "Cookie": cookie})
    decision = {"request": request_id, "decision": {"allow": True, "scopes": json.loads(consent_scopes)["allowed"]}}
    _, back = request("POST", "/api/oauth/decide", json.dumps(decision), {"Content-Type": "application/json", "Cookie": cookie})
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(json.loads(back)).query)["code"][0]
    _, tokens = request("POST", "/oauth/token", urllib.parse.urlencode(
        {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect, "client_id": client_id,
         "code_verifier": verifier}), form)
    return json.loads(tokens)["access_token"]


if __name__ == "__main__":
    if sys.argv[1] == "scale-sqlite":
        scale_sqlite(sys.argv[2])
    elif sys.argv[1] == "scale-disclosures-sqlite":
        scale_disclosures_sqlite(sys.argv[2])
    elif sys.argv[1] == "oauth-token":
        print(oauth_access_token(int(sys.argv[2]), sys.argv[3]))
