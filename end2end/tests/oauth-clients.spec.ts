import { ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import path from 'node:path';
import readline from 'node:readline';
import { OAuthClientProvider, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { DEMO_PASSWORD, open, waitForHydration } from './helpers';

// Clients nobody here wrote, doing the whole OAuth dance against the running server: the official TypeScript MCP SDK
// (the version package.json pins) and the official Python MCP SDK (end2end/python/requirements.txt, in end2end/.venv,
// made by `scripts/setup.sh test`). Each discovers the authorization server from the 401, registers, sends the person
// to the consent page — driven here in Chromium, as Barbara, a caregiver — gets its tokens, lists and calls tools,
// refreshes, and is refused once Barbara revokes the connection in Settings.
//
// Both SDKs insist on https client_id metadata document URLs, so the metadata-document run serves its document over
// https on 127.0.0.1 with a certificate of the test authority that scripts/e2e-server.sh made and the server under
// test trusts for loopback documents (CAREGATE_OAUTH_TEST_CA, test-only).

const CAREGIVER = 'barbara@sunrise.test';
/** What a caregiver's connection may read: the scopes her role allows, whatever the client asked for. */
const CAREGIVER_SCOPES = ['read:messages', 'read:profile', 'read:schedule', 'read:visits'];
const CAREGIVER_TOOLS = ['get_profile', 'get_schedule', 'get_visit', 'list_messages', 'list_open_shifts', 'list_visits', 'whoami'];
const ACCESS_TOKEN = /^cgat_test_[0-9A-Za-z]{46}$/;
const REFRESH_TOKEN = /^cgrt_test_[0-9A-Za-z]{46}$/;
const PYTHON = path.resolve(__dirname, '..', '.venv', 'bin', 'python');
const PYTHON_CLIENT = path.resolve(__dirname, '..', 'python', 'oauth_client.py');
/** The test authority's server certificate for 127.0.0.1 (scripts/e2e-server.sh makes it beside the database). */
const TEST_AUTHORITY = path.resolve(__dirname, '..', '..', 'target', 'e2e', 'oauth-ca');

test.describe.configure({ timeout: 150_000 });

/** A client name of its own for each run, so a repeated run on the same server finds its own row in Settings. */
function uniqueName(name: string): string {
  return `${name} ${Math.random().toString(36).slice(2, 8)}`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function sorted(scope: string | undefined): string[] {
  return (scope ?? '').split(' ').filter(Boolean).sort();
}

/**
 * The person at the browser: opens the authorization URL the client produced while signed out, signs in as Barbara
 * (the sign-in page brings her back), checks what the consent page says about the client, confirms her password if
 * the page asks, allows, and waits until the browser is on the client's redirect URI.
 */
async function allowInBrowser(page: Page, authorizationUrl: string, client: { name: string; origin: string; redirectUri: string }) {
  await page.goto(authorizationUrl);
  await expect(page).toHaveURL(/\/login\?next=/);
  await waitForHydration(page);
  await page.getByLabel('Email').fill(CAREGIVER);
  await page.getByLabel('Password').fill(DEMO_PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();

  await expect(page).toHaveURL(/\/oauth\/authorize\?request=[0-9A-Za-z_-]{43}$/);
  await waitForHydration(page);
  await expect(page.getByRole('heading', { name: `Connect ${client.name} to caregate` })).toBeVisible();
  await expect(page.locator('dt:text-is("From") + dd')).toHaveText(client.origin);
  // The client asked for every scope; the checkboxes are what a caregiver may grant, all ticked.
  for (const scope of CAREGIVER_SCOPES) {
    await expect(page.getByRole('checkbox', { name: new RegExp(scope) })).toBeChecked();
  }
  await expect(page.getByRole('checkbox')).toHaveCount(CAREGIVER_SCOPES.length);
  await page.screenshot({ path: test.info().outputPath(`consent-${client.name.replace(/\W+/g, '-')}.png`) });

  const landed = () => page.url().startsWith(`${client.redirectUri}?`);
  const allow = page.getByRole('button', { name: 'Allow' });
  const confirmation = page.getByRole('heading', { name: "Confirm it's you" });
  await allow.click();
  // Creating a connection is like minting a key: without a password confirmation in the last five minutes the page
  // asks for one first ("Confirm it's you"), then goes on with the Allow it was given.
  await expect.poll(async () => landed() || (await confirmation.isVisible()), { timeout: 15_000 }).toBe(true);
  if (!landed()) {
    const dialog = page.getByRole('dialog', { name: "Confirm it's you" });
    await dialog.getByLabel('Password').fill(DEMO_PASSWORD);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
  }
  await expect(page).toHaveURL(new RegExp(`^${escapeRegExp(client.redirectUri)}\\?`), { timeout: 15_000 });
}

/** Barbara revokes the connection in Settings → API Keys, where it is listed beside keys as a connected app. */
async function revokeInSettings(page: Page, clientName: string) {
  await open(page, '/portal/settings');
  const row = page.locator('tbody tr').filter({ hasText: 'Connected app' }).filter({ hasText: clientName });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('Active');
  await row.getByRole('button', { name: `Revoke ${clientName}` }).click();
  const dialog = page.getByRole('dialog', { name: 'Revoke API Key' });
  await expect(dialog).toContainText(clientName);
  await dialog.getByRole('button', { name: 'Revoke Key' }).click();
  await expect(dialog).toHaveCount(0);
  await expect(row).toContainText('Revoked');
}

/** A loopback redirect URI (RFC 8252) for the TypeScript client: it records every request to /callback. */
async function loopbackRedirect(): Promise<{ redirectUri: string; callbacks: URLSearchParams[]; close: () => Promise<void> }> {
  const callbacks: URLSearchParams[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname === '/callback') {
      callbacks.push(url.searchParams);
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end('<!doctype html><title>Signed in</title><h1>Signed in</h1>');
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    redirectUri: `http://127.0.0.1:${port}/callback`,
    callbacks,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The SDK's OAuthClientProvider, in memory, as a command-line MCP client would implement it. */
class MemoryProvider implements OAuthClientProvider {
  authorizationUrl?: URL;
  private info?: OAuthClientInformationMixed;
  private stored?: OAuthTokens;
  private verifier?: string;
  readonly sentState = `state-${Math.random().toString(36).slice(2)}`;

  constructor(readonly redirectUrl: string, readonly clientMetadata: OAuthClientMetadata) {}

  state() {
    return this.sentState;
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.stored;
  }
  saveTokens(tokens: OAuthTokens) {
    this.stored = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier;
  }
  codeVerifier() {
    if (!this.verifier) throw new Error('no code verifier saved');
    return this.verifier;
  }
  invalidateCredentials(scope: 'all' | 'client' | 'tokens' | 'verifier' | 'discovery') {
    if (scope === 'all' || scope === 'client') this.info = undefined;
    if (scope === 'all' || scope === 'tokens') this.stored = undefined;
  }
  /** Makes the stored access token one the server does not know, as an expired one would be. */
  spoilAccessToken() {
    this.stored = { ...this.stored!, access_token: `cgat_test_${'0'.repeat(46)}` };
  }
}

async function connect(transport: StreamableHTTPClientTransport): Promise<Client> {
  const client = new Client({ name: 'caregate-e2e-oauth', version: '1.0.0' });
  await client.connect(transport);
  return client;
}

test('the official TypeScript SDK connects by OAuth with dynamic registration, refreshes, and is refused once revoked', async ({ page, baseURL, request }) => {
  const issuer = new URL(baseURL!).origin;
  const mcpUrl = new URL('/api/mcp', issuer);
  const loopback = await loopbackRedirect();
  const clientName = uniqueName('TypeScript SDK test client');
  const provider = new MemoryProvider(loopback.redirectUri, {
    client_name: clientName,
    redirect_uris: [loopback.redirectUri],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  });
  try {
    // The first request has no token: the 401 starts discovery, registration and the authorization request.
    const firstTransport = new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider });
    await expect(connect(firstTransport)).rejects.toThrow(UnauthorizedError);
    const registered = provider.clientInformation()!;
    expect(registered.client_id).toMatch(/^cgc_/);
    expect('client_secret' in registered && registered.client_secret).toBeFalsy();
    const authorizationUrl = provider.authorizationUrl!;
    expect(`${authorizationUrl.origin}${authorizationUrl.pathname}`).toBe(`${issuer}/oauth/authorize`);
    expect(authorizationUrl.searchParams.get('client_id')).toBe(registered.client_id);
    expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorizationUrl.searchParams.get('resource')).toBe(mcpUrl.href);
    expect(authorizationUrl.searchParams.get('redirect_uri')).toBe(loopback.redirectUri);

    await allowInBrowser(page, authorizationUrl.href, { name: clientName, origin: 'unverified — registered itself', redirectUri: loopback.redirectUri });
    expect(loopback.callbacks).toHaveLength(1);
    const callback = loopback.callbacks[0];
    expect(callback.get('state')).toBe(provider.sentState);
    expect(callback.get('iss')).toBe(issuer);
    await firstTransport.finishAuth(callback.get('code')!);
    const first = provider.tokens()!;
    expect(first.access_token).toMatch(ACCESS_TOKEN);
    expect(first.refresh_token).toMatch(REFRESH_TOKEN);
    expect(first.token_type).toBe('Bearer');
    expect(first.expires_in).toBe(3600);
    expect(sorted(first.scope)).toEqual(CAREGIVER_SCOPES);

    const client = await connect(new StreamableHTTPClientTransport(mcpUrl, { authProvider: provider }));
    expect(client.getServerVersion()?.name).toBe('caregate');
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(CAREGIVER_TOOLS);
    const whoami = await client.callTool({ name: 'whoami', arguments: {} });
    expect(whoami.isError).toBeFalsy();
    expect((whoami.structuredContent as any).user.email).toBe(CAREGIVER);

    // A refresh: the token the client holds is refused, the SDK refreshes (rotating the refresh token) and retries.
    provider.spoilAccessToken();
    const again = await client.callTool({ name: 'whoami', arguments: {} });
    expect((again.structuredContent as any).user.email).toBe(CAREGIVER);
    const refreshed = provider.tokens()!;
    expect(refreshed.access_token).toMatch(ACCESS_TOKEN);
    expect(refreshed.access_token).not.toBe(first.access_token);
    expect(refreshed.refresh_token).toMatch(REFRESH_TOKEN);
    expect(refreshed.refresh_token).not.toBe(first.refresh_token);

    await revokeInSettings(page, clientName);
    // The SDK gets a 401, finds its refresh token refused too, and can only start a new authorization.
    await expect(client.callTool({ name: 'whoami', arguments: {} })).rejects.toThrow(UnauthorizedError);
    expect(provider.authorizationUrl).not.toBe(authorizationUrl);
    const refused = await request.post(mcpUrl.href, {
      headers: { Authorization: `Bearer ${refreshed.access_token}`, Accept: 'application/json, text/event-stream' },
      data: { jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} },
    });
    expect(refused.status()).toBe(401);
    const refresh = await request.post(`${issuer}/oauth/token`, {
      form: { grant_type: 'refresh_token', refresh_token: refreshed.refresh_token!, client_id: registered.client_id },
    });
    expect(refresh.status()).toBe(400);
    expect((await refresh.json()).error).toBe('invalid_grant');
    await client.close().catch(() => undefined);
  } finally {
    await loopback.close();
  }
});

type PythonEvent = { event: string; [field: string]: any };

/** Runs end2end/python/oauth_client.py with the virtualenv's python and reads its events (one JSON object a line). */
function runPythonClient(args: string[]) {
  if (!fs.existsSync(PYTHON)) throw new Error(`${PYTHON} is missing: run scripts/setup.sh test (it makes end2end/.venv)`);
  const child: ChildProcessWithoutNullStreams = spawn(PYTHON, [PYTHON_CLIENT, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const events: PythonEvent[] = [];
  let stderr = '';
  let exited = false;
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.on('exit', () => (exited = true));
  child.on('error', (error) => {
    stderr += `\n${error}`;
    exited = true;
  });
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    try {
      events.push(JSON.parse(line));
    } catch {
      stderr += `\n(stdout) ${line}`;
    }
  });
  return {
    /** Waits for the next event of this name (an error event or the script's end fails the wait at once). */
    async next(name: string, timeout = 30_000): Promise<PythonEvent> {
      let found: PythonEvent | undefined;
      await expect
        .poll(
          () => {
            found = events.find((e) => e.event === name);
            const failed = events.find((e) => e.event === 'error');
            if (failed) return `error: ${failed.error}\n${stderr}`;
            if (!found && exited) return `the script ended before "${name}":\n${stderr}`;
            return found ? 'found' : 'waiting';
          },
          { message: `the Python client's "${name}" event`, timeout },
        )
        .toBe('found');
      events.splice(events.indexOf(found!), 1);
      return found!;
    },
    say(line: string) {
      child.stdin.write(`${line}\n`);
    },
    async finish() {
      if (!exited) await new Promise<void>((resolve) => child.once('exit', () => resolve()));
      test.info().attach('python client stderr', { body: stderr });
      return child.exitCode;
    },
    kill() {
      if (!exited) child.kill();
    },
  };
}

for (const registration of ['dynamic registration', 'a client metadata document served over https on loopback'] as const) {
  test(`the official Python SDK connects by OAuth with ${registration}, refreshes, and is refused once revoked`, async ({ page, baseURL }) => {
    const issuer = new URL(baseURL!).origin;
    const mcpUrl = new URL('/api/mcp', issuer);
    const withDocument = registration !== 'dynamic registration';
    const clientName = uniqueName(withDocument ? 'Python SDK test client (metadata document)' : 'Python SDK test client');
    const python = runPythonClient(['--server-url', mcpUrl.href, '--client-name', clientName, ...(withDocument ? ['--metadata-document', '--tls-cert', path.join(TEST_AUTHORITY, 'loopback.pem'), '--tls-key', path.join(TEST_AUTHORITY, 'loopback.key')] : [])]);
    try {
      const { redirect_uri: redirectUri, document_url: documentUrl } = await python.next('listening');
      const { url } = await python.next('authorize');
      const authorizationUrl = new URL(url);
      expect(`${authorizationUrl.origin}${authorizationUrl.pathname}`).toBe(`${issuer}/oauth/authorize`);
      if (withDocument) expect(authorizationUrl.searchParams.get('client_id')).toBe(documentUrl);
      else expect(authorizationUrl.searchParams.get('client_id')).toMatch(/^cgc_/);
      expect(authorizationUrl.searchParams.get('code_challenge_method')).toBe('S256');
      expect(authorizationUrl.searchParams.get('resource')).toBe(mcpUrl.href);
      expect(authorizationUrl.searchParams.get('redirect_uri')).toBe(redirectUri);

      // The consent page names a metadata-document client by the document's host, a self-registered one as unverified.
      const origin = withDocument ? '127.0.0.1' : 'unverified — registered itself';
      await allowInBrowser(page, url, { name: clientName, origin, redirectUri });
      // The SDK itself checks state and the RFC 9207 `iss` (it refuses a missing or different one).
      expect(await python.next('callback')).toMatchObject({ has_code: true, has_state: true, iss: issuer });

      const connected = await python.next('connected');
      expect(connected).toMatchObject({
        server: 'caregate',
        token_type: 'Bearer',
        expires_in: 3600,
        access_token_length: 56,
        refresh_token_length: 56,
        authorizations: 1,
      });
      expect(connected.access_token).toMatch(/^cgat_test_/);
      expect(connected.refresh_token).toMatch(/^cgrt_test_/);
      expect(sorted(connected.scope)).toEqual(CAREGIVER_SCOPES);
      if (withDocument) {
        expect(connected.client_id).toBe(documentUrl);
        expect(connected.metadata_document_fetches).toBeGreaterThan(0);
      } else {
        expect(connected.client_id).toMatch(/^cgc_/);
      }

      expect((await python.next('tools')).names).toEqual(CAREGIVER_TOOLS);
      expect(await python.next('whoami')).toMatchObject({ is_error: false, email: CAREGIVER });
      // Its token marked expired, the SDK refreshes before the next call: new access and refresh tokens, no new consent.
      expect(await python.next('refreshed')).toMatchObject({
        access_changed: true,
        refresh_changed: true,
        is_error: false,
        email: CAREGIVER,
        authorizations: 1,
      });

      await python.next('waiting');
      await revokeInSettings(page, clientName);
      python.say('revoked');
      const after = await python.next('after-revoke');
      expect(after.mcp_status).toBe(401);
      expect(after.www_authenticate).toContain(`resource_metadata="${issuer}/.well-known/oauth-protected-resource/api/mcp"`);
      expect(after).toMatchObject({ refresh_status: 400, refresh_error: 'invalid_grant' });
      // The SDK answers the 401 the only way it can: by starting a new authorization, which nobody approves.
      expect(await python.next('sdk-after-revoke')).toMatchObject({ failed: true, authorizations: 2 });
      await python.next('done');
      expect(await python.finish()).toBe(0);
    } finally {
      python.kill();
    }
  });
}
