"""Helpers for bench/run.sh: bulk-loading 100 000 keys and 1 000 000 activity events into SQLite (PostgreSQL
uses generate_series in run.sh), and 1 000 000 disclosures of the company's patients (scale-disclosures-sqlite,
after scale-sqlite: they name its keys), and connecting an app through OAuth for the access-token row (the whole
dance over HTTP: registration, the authorization request, sign-in, password confirmation, consent, code
exchange). Wrong secrets are forged by domain's `forge_secret` example, the token format's one implementation.
For the memory row: 100 000 extra keys of one known secret (warm-keys-sqlite, warm-keys-postgres), their tokens
(warm-tokens) and a client that presents each token once (drive)."""
import asyncio
import base64
import hashlib
import http.client
import json
import secrets
import sqlite3
import sys
import time
import urllib.parse
import zlib


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


# The memory row's keys share one secret, hashed with argon2id at the cheapest parameters argon2 allows (8 KiB,
# one pass): the PHC string carries its parameters and caregate verifies with the stored ones, so 100 000 cold
# checks cost microseconds of argon2 each instead of ~20 ms, and the row measures what keeping them warm costs.
# Made with the argon2 crate caregate uses (0.5.3): Argon2id, v=19, Params::new(8, 1, 1), salt
# "caregate-bench-salt"; it verifies under caregate's own argon2id() (checked when it was made).
WARM_SECRET = "BenchWarmSecret0000000"
WARM_PHC = "$argon2id$v=19$m=8,t=1,p=1$Y2FyZWdhdGUtYmVuY2gtc2FsdA$6SgV+eGLudewbgidnM12vBSGZITrhQOu+3LdcKeDSRI"
BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def warm_key_id(i: int) -> str:
    return f"W{i:07d}"


def checksum(body: str) -> str:
    """The token's checksum: CRC32 (zlib) of the first 38 characters as six base62 digits (domain::keys::token)."""
    value = zlib.crc32(body.encode())
    digits = []
    for _ in range(6):
        digits.append(BASE62[value % 62])
        value //= 62
    return "".join(reversed(digits))


def warm_tokens(prefix: str, count: int, path: str) -> None:
    """The tokens of the memory row's keys (prefix cg_test_ or cg_live_, as the server mints), one a line."""
    with open(path, "w") as out:
        for i in range(1, count + 1):
            body = f"{prefix}{warm_key_id(i)}{WARM_SECRET}"
            out.write(f"{body}{checksum(body)}\n")


def warm_keys_sqlite(path: str, count: int, like_key_id: str) -> None:
    """`count` keys of the same owner and company as `like_key_id`, all with WARM_SECRET."""
    db = sqlite3.connect(path, timeout=30)
    with db:
        db.execute(
            f"""WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count})
                INSERT INTO api_keys (key_id, company_id, user_id, label, secret_hash, scopes, created_at, expires_at)
                SELECT printf('W%07d', i), k.company_id, k.user_id, 'Warm key ' || i, ?, 'read:visits',
                       strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-' || (i + 3600) || ' seconds'), NULL
                FROM n, api_keys k WHERE k.key_id = ?""",
            (WARM_PHC, like_key_id),
        )
    db.close()


def warm_keys_postgres(count: int, like_key_id: str) -> None:
    """The same for PostgreSQL, as SQL on stdout (for psql)."""
    print(
        f"""INSERT INTO api_keys (key_id, company_id, user_id, label, secret_hash, scopes, created_at, expires_at)
SELECT 'W' || lpad(i::text, 7, '0'), k.company_id, k.user_id, 'Warm key ' || i, '{WARM_PHC}', 'read:visits',
       now() - (i + 3600) * interval '1 second', NULL
FROM generate_series(1, {count}) AS i, api_keys k WHERE k.key_id = '{like_key_id}';"""
    )


async def drive_async(port: int, path: str, tokens: list, connections: int, source: str) -> str:
    """GET `path` once with each token over `connections` keep-alive connections; a summary line as wrk.lua's."""
    queue = iter(tokens)
    latencies = []
    statuses = {}

    async def read_response(reader) -> int:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        if "content-length" in headers:
            await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await reader.readexactly(size + 2)
                if size == 0:
                    break
        return status

    async def worker() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
        for token in queue:
            started = time.perf_counter()
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAccept: application/json\r\n"
                f"Authorization: Bearer {token}\r\n\r\n".encode()
            )
            status = await read_response(reader)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    seconds = time.perf_counter() - started
    latencies.sort()

    def percentile(p: float) -> float:
        return 1000 * latencies[min(len(latencies) - 1, max(0, int(round(p / 100 * len(latencies) + 0.5)) - 1))]

    non2xx = sum(count for status, count in statuses.items() if not 200 <= status < 300)
    others = " ".join(f"{status}:{count}" for status, count in sorted(statuses.items()) if not 200 <= status < 300)
    return (
        f"BENCH requests={len(latencies)} seconds={seconds:.3f} non2xx={non2xx} socket_errors=0 p50_ms={percentile(50):.2f} "
        f"p95_ms={percentile(95):.2f} p99_ms={percentile(99):.2f} statuses={others or 'none'}"
    )


def calls(port: int, token: str, count: int) -> None:
    """`count` MCP `whoami` calls in a row over one keep-alive connection (the instruction-count rows: the same
    requests for every server); fails unless every answer is 200."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "whoami", "arguments": {}}})
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-06-18",
    }
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    for _ in range(count):
        connection.request("POST", "/api/mcp", body, headers)
        response = connection.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"whoami answered {response.status}")
    connection.close()


def drive(port: int, path: str, token_file: str, connections: int, source: str) -> None:
    with open(token_file) as lines:
        tokens = [line.strip() for line in lines if line.strip()]
    print(asyncio.run(drive_async(port, path, tokens, connections, source)))


if __name__ == "__main__":
    if sys.argv[1] == "scale-sqlite":
        scale_sqlite(sys.argv[2])
    elif sys.argv[1] == "scale-disclosures-sqlite":
        scale_disclosures_sqlite(sys.argv[2])
    elif sys.argv[1] == "oauth-token":
        print(oauth_access_token(int(sys.argv[2]), sys.argv[3]))
    elif sys.argv[1] == "warm-tokens":
        warm_tokens(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif sys.argv[1] == "warm-keys-sqlite":
        warm_keys_sqlite(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    elif sys.argv[1] == "warm-keys-postgres":
        warm_keys_postgres(int(sys.argv[2]), sys.argv[3])
    elif sys.argv[1] == "calls":
        calls(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))
    elif sys.argv[1] == "drive":
        drive(int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6] if len(sys.argv) > 6 else "127.0.0.1")
    else:
        raise SystemExit(f"unknown command {sys.argv[1]}")
