"""The official Python MCP SDK's OAuth client (PyPI `mcp`, pinned in requirements.txt) against caregate.

Run by end2end/tests/oauth-clients.spec.ts with end2end/.venv's python; it is the MCP client, the spec is the person
at the browser. The script speaks one JSON object per line on stdout:

  {"event": "listening", "redirect_uri": ...}       its loopback listener is up (callback, and the metadata document)
  {"event": "authorize", "url": ...}                the SDK wants the browser at this URL (the spec drives the consent)
  {"event": "callback", "has_code": ..., "iss": ...} the browser came back to the redirect URI
  {"event": "connected", ...}, {"event": "tools", ...}, {"event": "whoami", ...}, {"event": "refreshed", ...}
  {"event": "waiting", "for": "revocation"}         then it reads one line on stdin: the spec has revoked in the UI
  {"event": "after-revoke", ...}                    what the server answers to its tokens now (asked without the SDK)
  {"event": "sdk-after-revoke", ...}                what the SDK made of it (it starts a new authorization on a 401)
  {"event": "done"}

Diagnostics (the SDK's own log) go to stderr. Every wait is bounded; on any failure the script prints
{"event": "error", ...} and exits 1.

Registration: Dynamic Client Registration by default. With --metadata-document the client_id is the https URL of a
Client ID Metadata Document this script serves itself on a second loopback listener (GET /client.json), with the
certificate and key given by --tls-cert/--tls-key: a certificate of the test authority that scripts/e2e-server.sh
made and caregate trusts for loopback documents (CAREGATE_OAUTH_TEST_CA). The SDK gets the URL as it would in
production (`client_metadata_url=`), and uses it as the client_id when the server advertises
client_id_metadata_document_supported.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import ssl
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import anyio
import httpx2
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.auth import AuthorizationCodeResult, OAuthClientInformationFull, OAuthClientMetadata, OAuthToken

BROWSER_TIMEOUT_S = 90
STEP_TIMEOUT_S = 30
STDIN_TIMEOUT_S = 90


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


def token_id(token: str | None) -> str | None:
    """The public part of a caregate token (prefix and 8-character id): enough to tell two tokens apart in a log."""
    return token[:18] if token else None


class MemoryStorage:
    """The SDK's TokenStorage protocol, in memory."""

    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


class Loopback:
    """The client's own loopback listener: the OAuth redirect URI (/callback) and its metadata document (/client.json)."""

    def __init__(self, client_name: str, tls: tuple[str, str] | None = None) -> None:
        self.client_name = client_name
        self.callbacks: list[dict[str, str]] = []
        self.arrived = threading.Event()
        self.document_fetches = 0
        loopback = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
                url = urlparse(self.path)
                if url.path == "/callback":
                    query = {key: values[0] for key, values in parse_qs(url.query).items()}
                    loopback.callbacks.append(query)
                    loopback.arrived.set()
                    self.answer(200, "text/html; charset=utf-8", b"<!doctype html><title>Signed in</title><h1>Signed in</h1>")
                elif url.path == "/client.json":
                    loopback.document_fetches += 1
                    self.answer(200, "application/json", json.dumps(loopback.document()).encode())
                else:
                    self.answer(404, "text/plain", b"not found")

            def answer(self, status: int, content_type: str, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the stdlib's name)
                print(f"loopback: {format % args}", file=sys.stderr, flush=True)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.redirect_uri = f"{self.base}/callback"
        self.document_url = f"{self.base}/client.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        if tls is not None:
            # The metadata document over https, as clients publish theirs (and as the SDK insists).
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(certfile=tls[0], keyfile=tls[1])
            self.documents = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
            self.documents.socket = context.wrap_socket(self.documents.socket, server_side=True)
            self.document_url = f"https://127.0.0.1:{self.documents.server_address[1]}/client.json"
            threading.Thread(target=self.documents.serve_forever, daemon=True).start()

    def document(self) -> dict[str, Any]:
        """The Client ID Metadata Document: its client_id is its own URL."""
        return {
            "client_id": self.document_url,
            "client_name": self.client_name,
            "redirect_uris": [self.redirect_uri],
            "grant_types": ["authorization_code", "refresh_token"],
            "response_types": ["code"],
            "token_endpoint_auth_method": "none",
        }

    def wait_for_callback(self) -> dict[str, str]:
        if not self.arrived.wait(BROWSER_TIMEOUT_S):
            raise TimeoutError(f"the browser did not come back to {self.redirect_uri} within {BROWSER_TIMEOUT_S} s")
        self.arrived.clear()
        return self.callbacks[-1]


async def run(args: argparse.Namespace) -> None:
    loopback = Loopback(args.client_name, (args.tls_cert, args.tls_key) if args.metadata_document else None)
    emit("listening", redirect_uri=loopback.redirect_uri, document_url=loopback.document_url if args.metadata_document else None)

    storage = MemoryStorage()
    authorizations = 0
    revoked = False

    async def redirect_handler(url: str) -> None:
        nonlocal authorizations
        authorizations += 1
        if revoked:
            # After the revocation the SDK starts a new authorization: it got a 401. Nobody is at the browser now.
            emit("authorize-again", url=url)
            raise AuthorizationRestarted(authorizations)
        emit("authorize", url=url)

    async def callback_handler() -> AuthorizationCodeResult:
        query = await anyio.to_thread.run_sync(loopback.wait_for_callback)
        emit("callback", has_code="code" in query, has_state="state" in query, iss=query.get("iss"), error=query.get("error"))
        if "code" not in query:
            raise RuntimeError(f"the authorization server sent no code: {query}")
        return AuthorizationCodeResult(code=query["code"], state=query.get("state"), iss=query.get("iss"))

    metadata = OAuthClientMetadata(
        client_name=args.client_name,
        redirect_uris=[loopback.redirect_uri],
        grant_types=["authorization_code", "refresh_token"],
        response_types=["code"],
        token_endpoint_auth_method="none",
    )
    provider = OAuthClientProvider(
        server_url=args.server_url,
        client_metadata=metadata,
        storage=storage,
        redirect_handler=redirect_handler,
        callback_handler=callback_handler,
        client_metadata_url=loopback.document_url if args.metadata_document else None,
    )

    async with httpx2.AsyncClient(auth=provider, timeout=httpx2.Timeout(STEP_TIMEOUT_S, read=STEP_TIMEOUT_S)) as http:
        # No response cache: every call here must reach the server.
        async with Client(streamable_http_client(args.server_url, http_client=http), mode=args.mode, cache=None) as client:
            assert storage.tokens is not None and storage.client_info is not None
            emit(
                "connected",
                server=client.server_info.name if client.server_info else None,
                client_id=storage.client_info.client_id,
                access_token=token_id(storage.tokens.access_token),
                access_token_length=len(storage.tokens.access_token),
                refresh_token=token_id(storage.tokens.refresh_token),
                refresh_token_length=len(storage.tokens.refresh_token or ""),
                token_type=storage.tokens.token_type,
                expires_in=storage.tokens.expires_in,
                scope=storage.tokens.scope,
                metadata_document_fetches=loopback.document_fetches,
                authorizations=authorizations,
            )

            with anyio.fail_after(STEP_TIMEOUT_S):
                tools = await client.list_tools()
            emit("tools", names=sorted(tool.name for tool in tools.tools))

            with anyio.fail_after(STEP_TIMEOUT_S):
                result = await client.call_tool("whoami", {})
            emit("whoami", is_error=bool(result.is_error), email=(result.structured_content or {}).get("user", {}).get("email"))

            # A refresh, the SDK's way: it refreshes before a request once its token has expired (by expires_in).
            before = storage.tokens
            provider.context.token_expiry_time = time.time() - 1
            with anyio.fail_after(STEP_TIMEOUT_S):
                result = await client.call_tool("whoami", {})
            after = storage.tokens
            emit(
                "refreshed",
                access_changed=after.access_token != before.access_token,
                refresh_changed=after.refresh_token != before.refresh_token,
                access_token=token_id(after.access_token),
                refresh_token=token_id(after.refresh_token),
                is_error=bool(result.is_error),
                email=(result.structured_content or {}).get("user", {}).get("email"),
                authorizations=authorizations,
            )

            emit("waiting", **{"for": "revocation"})
            with anyio.fail_after(STDIN_TIMEOUT_S):
                line = await anyio.to_thread.run_sync(sys.stdin.readline, abandon_on_cancel=True)
            if line.strip() != "revoked":
                raise RuntimeError(f"expected 'revoked' on stdin, got {line!r}")
            revoked = True

            # What the server says to the tokens the SDK holds, asked directly (no SDK in between).
            tokens = storage.tokens
            token_endpoint = str(provider.context.oauth_metadata.token_endpoint) if provider.context.oauth_metadata else None
            async with httpx2.AsyncClient(timeout=STEP_TIMEOUT_S) as raw:
                mcp = await raw.post(
                    args.server_url,
                    headers={"Authorization": f"Bearer {tokens.access_token}", "Accept": "application/json, text/event-stream"},
                    json={"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}},
                )
                refresh = await raw.post(
                    token_endpoint,
                    data={"grant_type": "refresh_token", "refresh_token": tokens.refresh_token or "", "client_id": storage.client_info.client_id},
                )
            try:
                refresh_error = refresh.json().get("error")
            except ValueError:
                refresh_error = None

            emit(
                "after-revoke",
                mcp_status=mcp.status_code,
                www_authenticate=mcp.headers.get("WWW-Authenticate"),
                refresh_status=refresh.status_code,
                refresh_error=refresh_error,
            )

            # And what the SDK makes of it: its token is still fresh by its clock, so it sends it, gets a 401 and starts
            # a new authorization, which the redirect handler above refuses with AuthorizationRestarted. That error
            # ends the SDK's transport task group, so it surfaces when the Client is left, and main() reports it.
            with anyio.fail_after(STEP_TIMEOUT_S):
                result = await client.call_tool("whoami", {})
            emit("sdk-after-revoke", failed=bool(result.is_error), authorizations=authorizations)
            raise _Finished()


class _Finished(Exception):
    """Every step ran and was reported."""


class AuthorizationRestarted(Exception):
    """The SDK asked for a new authorization after the revocation: its answer to a 401."""

    def __init__(self, authorizations: int) -> None:
        super().__init__(f"the SDK started authorization number {authorizations} after the revocation")
        self.authorizations = authorizations


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server-url", required=True, help="the MCP endpoint, e.g. http://127.0.0.1:3100/api/mcp")
    parser.add_argument("--client-name", required=True)
    parser.add_argument("--metadata-document", action="store_true", help="use a Client ID Metadata Document instead of DCR")
    parser.add_argument("--tls-cert", help="with --metadata-document: the certificate (PEM) the document is served with")
    parser.add_argument("--tls-key", help="with --metadata-document: its private key (PEM)")
    parser.add_argument("--mode", default="auto", help="mcp.Client's protocol negotiation: auto (default) or legacy")
    args = parser.parse_args()
    logging.basicConfig(stream=sys.stderr, level=os.environ.get("CAREGATE_E2E_PY_LOG", "INFO"))
    try:
        anyio.run(run, args)
    except BaseException as error:  # noqa: BLE001 (exception groups from the SDK's task groups included)
        restarted = _find(error, AuthorizationRestarted)
        if restarted is not None and _only(error, (AuthorizationRestarted, _Finished)):
            emit("sdk-after-revoke", failed=True, error=str(restarted), authorizations=restarted.authorizations)
            emit("done")
            return 0
        if _find(error, _Finished) is not None and _only(error, (_Finished,)):
            emit("done")
            return 0
        traceback.print_exception(error, file=sys.stderr)
        emit("error", error=f"{type(error).__name__}: {error}")
        return 1
    emit("error", error="the run ended without finishing")
    return 1


def _leaves(error: BaseException) -> list[BaseException]:
    """The exceptions inside (nested) exception groups; an exception's `__cause__` chain is not followed."""
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in _leaves(inner)]
    return [error]


def _find(error: BaseException, kind: type[BaseException]) -> Any:
    return next((leaf for leaf in _leaves(error) if isinstance(leaf, kind)), None)


def _only(error: BaseException, kinds: tuple[type[BaseException], ...]) -> bool:
    return all(isinstance(leaf, kinds) for leaf in _leaves(error))


if __name__ == "__main__":
    sys.exit(main())
