import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { caregate, copy, expectNoSeriousA11yViolations, generateKey, open, signIn } from './helpers';

// The real clients, at the versions package.json pins, given exactly what the reveal dialog's Copy buttons put
// on the clipboard: each text goes where its hint says, in a scratch home of its own.
test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

const clientBin = path.resolve(__dirname, '..', 'node_modules', '.bin');
/** How long one run of a client may take; Claude Code's `mcp list` includes a health check of the server. */
const CLIENT_TIMEOUT_MS = 30_000;

/** A fresh, empty home directory, removed when the test ends. */
function scratchHome(): string {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'caregate-client-'));
  test.info().attach('scratch home', { body: home });
  return home;
}

/**
 * Runs `script` with bash in `home`, as a person at a terminal would, with `claude` and `codex` on the path and
 * a clean environment: no key of ours or anyone's, no update checks, no telemetry.
 */
function bash(script: string, home: string): { status: number | null; stdout: string; output: string } {
  const result = spawnSync('bash', ['-e', '-c', script], {
    cwd: home,
    encoding: 'utf8',
    timeout: CLIENT_TIMEOUT_MS,
    env: {
      PATH: `${clientBin}:${process.env.PATH}`,
      LANG: 'C.UTF-8',
      HOME: home,
      CODEX_HOME: path.join(home, '.codex'),
      DISABLE_AUTOUPDATER: '1',
      DISABLE_TELEMETRY: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    },
  });
  const output = `${result.stdout}${result.stderr}`;
  test.info().attach(script.split('\n').pop()!, { body: `exit ${result.status}${result.error ? ` (${result.error.message})` : ''}\n${output}` });
  return { status: result.status, stdout: result.stdout, output };
}

/** Signs in as a Root User of Harbor Care, mints a key in the browser and shows the `tab` Quick Setup tab. */
async function revealSetup(page: Page, tab: string) {
  await signIn(page, 'root@harbor.test');
  await expect(page).toHaveURL(/\/$/);
  await open(page, '/settings?tab=api-keys');
  const token = await generateKey(page, `${tab} on the test machine`);
  const reveal = page.getByRole('dialog', { name: 'Your API Key' });
  await reveal.getByRole('tab', { name: tab }).click();
  return { token, reveal, mcpUrl: new URL('/api/mcp', page.url()).toString() };
}

test('the Codex tab: the config loads in the real Codex CLI, with the key exported by the shell line', async ({ page }) => {
  const { token, reveal, mcpUrl } = await revealSetup(page, 'Codex');
  const config = await copy(reveal, 'Codex config');
  const shellLine = await copy(reveal, 'Codex shell line');
  await expectNoSeriousA11yViolations(page, 'reveal dialog, Codex tab after both copies');
  expect(config).not.toContain(token);
  expect(shellLine).toContain(token);

  const home = scratchHome();
  try {
    fs.mkdirSync(path.join(home, '.codex'));
    fs.writeFileSync(path.join(home, '.codex', 'config.toml'), config);
    const list = bash(`${shellLine}\ncodex mcp list`, home);
    expect(list.status, list.output).toBe(0);
    expect(list.output).toMatch(new RegExp(`^caregate +${mcpUrl.replace(/[.]/g, '\\.')} +CAREGATE_API_KEY +enabled +Bearer token *$`, 'm'));
    const json = bash(`${shellLine}\ncodex mcp list --json`, home);
    expect(json.status, json.output).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({
        name: 'caregate',
        enabled: true,
        transport: expect.objectContaining({ type: 'streamable_http', url: mcpUrl, bearer_token_env_var: 'CAREGATE_API_KEY' }),
      }),
    ]);
    const exported = bash(`${shellLine}\nprintenv CAREGATE_API_KEY`, home);
    expect(exported.stdout).toBe(`${token}\n`);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('the Claude Code tab: the command, run as copied, adds a server the real Claude Code reaches with the key', async ({ page }) => {
  const { token, reveal, mcpUrl } = await revealSetup(page, 'Claude Code');
  const command = await copy(reveal, 'Claude Code command');
  await expectNoSeriousA11yViolations(page, 'reveal dialog, Claude Code tab after Copy');

  const home = scratchHome();
  try {
    const add = bash(command, home);
    expect(add.status, add.output).toBe(0);
    expect(add.output).toContain(`Added HTTP MCP server caregate with URL: ${mcpUrl}`);
    const list = bash('claude mcp list', home);
    expect(list.status, list.output).toBe(0);
    expect(list.output).toContain(`caregate: ${mcpUrl} (HTTP) - ✔ Connected`);

    caregate('keys', 'revoke', token.slice(8, 16));
    const refused = bash('claude mcp list', home);
    expect(refused.output).toContain(`caregate: ${mcpUrl} (HTTP) - ✘ Failed to connect`);
    expect(refused.output).toContain('HTTP 401');
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('Connect without a key: the commands, run as copied, add caregate to the real Claude Code and Codex, which find its sign-in', async ({ page }) => {
  await signIn(page, 'root@harbor.test');
  await expect(page).toHaveURL(/\/$/);
  await open(page, '/settings?tab=api-keys');
  const connect = page.getByRole('region', { name: 'Connect without a key' });
  const mcpUrl = new URL('/api/mcp', page.url()).toString();
  const claudeAdd = await copy(connect, 'Claude Code command without a key');
  const codexAdd = await copy(connect, 'Codex add command');
  const codexLogin = await copy(connect, 'Codex login command');
  await expectNoSeriousA11yViolations(page, 'Connect without a key after the copies');
  /** The authorization URL a client printed: this server's consent endpoint, PKCE S256, bound to the MCP resource. */
  const expectAuthorization = (output: string) => {
    const line = output.split('\n').find((l) => l.startsWith(`${new URL(mcpUrl).origin}/oauth/authorize?`));
    expect(line, output).toBeTruthy();
    const url = new URL(line!);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('resource')).toBe(mcpUrl);
  };

  const home = scratchHome();
  try {
    const add = bash(claudeAdd, home);
    expect(add.status, add.output).toBe(0);
    expect(add.output).toContain(`Added HTTP MCP server caregate with URL: ${mcpUrl}`);
    const list = bash('claude mcp list', home);
    expect(list.status, list.output).toBe(0);
    expect(list.output).toContain(`caregate: ${mcpUrl} (HTTP) - ! Needs authentication`);

    // Codex finds the sign-in at once and waits for the browser, here for a few seconds; the server stays added.
    fs.mkdirSync(path.join(home, '.codex'));
    const codex = bash(`timeout 8 ${codexAdd} || true`, home);
    expect(codex.output).toContain("Added global MCP server 'caregate'.");
    expect(codex.output).toContain('Detected OAuth support');
    expectAuthorization(codex.output);
    const json = bash('codex mcp list --json', home);
    expect(json.status, json.output).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({
        name: 'caregate',
        auth_status: 'not_logged_in',
        transport: expect.objectContaining({ type: 'streamable_http', url: mcpUrl, bearer_token_env_var: null }),
      }),
    ]);
    expectAuthorization(bash(`timeout 8 ${codexLogin} || true`, home).output);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});
