import { expect, test } from './fixtures';
import {
  caregate,
  copy,
  copyButton,
  DEMO_PASSWORD,
  expectCopyButton,
  expectNoSeriousA11yViolations,
  generateKey,
  open,
  signIn,
  signOut,
  waitForHydration,
} from './helpers';

test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

/** The Quick Setup tabs, each with what its Copy buttons copy. */
const SETUP_TABS: Array<[string, string[]]> = [
  ['Claude Code', ['Claude Code command']],
  ['Codex', ['Codex config', 'Codex shell line']],
  ['Cursor', ['Cursor config']],
  ['Windsurf / Other', ['Windsurf config']],
  ['Generic', ['connection details']],
];

test('a root user generates, uses, revokes and deletes a key', async ({ page, request }) => {
  await signIn(page, 'root@sunrise.test');
  await expect(page.getByRole('heading', { name: /Welcome/ })).toBeVisible();
  await open(page, '/settings?tab=api-keys');
  await expect(page.getByRole('tab', { name: 'API Keys' })).toHaveAttribute('aria-selected', 'true');
  await expectNoSeriousA11yViolations(page, 'settings page');

  // Apps that cannot take a key (ChatGPT, claude.ai) connect with the MCP URL and sign in: its Copy button copies it.
  const connect = page.getByRole('region', { name: 'Connect without a key' });
  const connectUrl = new URL('/api/mcp', page.url()).toString();
  expect(await copy(connect, 'MCP URL')).toBe(connectUrl);
  expect(await copy(connect, 'Claude Code command without a key')).toBe(`claude mcp add --transport http caregate ${connectUrl}`);
  for (const client of ['ChatGPT', 'claude.ai / Claude Desktop', 'Claude Code', 'Codex']) {
    await expect(connect.getByRole('heading', { name: client, exact: true })).toBeVisible();
  }
  await expect(connect).toContainText(`codex mcp add caregate --url ${connectUrl}`);
  await expect(connect).toContainText('codex mcp login caregate');

  const token = await generateKey(page, 'Claude Code on my laptop', true);
  const reveal = page.getByRole('dialog', { name: 'Your API Key' });
  await expectNoSeriousA11yViolations(page, 'reveal dialog');
  const copyKey = copyButton(reveal, 'API key');
  await expectCopyButton(copyKey, 'Copy', 'API key');
  await expect(reveal.getByRole('status')).toHaveText('');
  expect(await copy(reveal, 'API key')).toBe(token);
  await expectNoSeriousA11yViolations(page, 'reveal dialog after Copy');
  await expectCopyButton(copyKey, 'Copy', 'API key');

  const mcpUrl = new URL('/api/mcp', page.url()).toString();
  await expect(reveal.getByRole('tab')).toHaveText(SETUP_TABS.map(([tab]) => tab));
  for (const [tab, blocks] of SETUP_TABS) {
    await reveal.getByRole('tab', { name: tab }).click();
    const panel = reveal.getByRole('tabpanel');
    await expect(panel).toHaveAccessibleName(tab);
    await expect(panel).toContainText(token);
    await expect(panel).toContainText(mcpUrl);
    await expect(panel.getByRole('button')).toHaveCount(blocks.length);
    await expectNoSeriousA11yViolations(page, `reveal dialog, ${tab} tab`);
    const snippets = await panel.locator('pre').allTextContents();
    for (const [i, what] of blocks.entries()) expect(await copy(reveal, what), what).toBe(snippets[i]);
    await expectNoSeriousA11yViolations(page, `reveal dialog, ${tab} tab after Copy`);
  }
  await expect(reveal.getByRole('tabpanel')).toContainText('Streamable HTTP');
  await reveal.getByRole('tab', { name: 'Codex' }).click();
  await expect(reveal.getByRole('tabpanel')).toContainText('~/.codex/config.toml');
  await expect(reveal.getByRole('tabpanel')).not.toContainText('ChatGPT');
  await page.screenshot({ path: test.info().outputPath('4-reveal-codex.png') });
  await reveal.getByRole('tab', { name: 'Claude Code' }).click();
  await expect(reveal.getByRole('tabpanel')).toContainText(`claude mcp add --transport http caregate ${mcpUrl} --header "Authorization: Bearer ${token}"`);
  await page.screenshot({ path: test.info().outputPath('4-reveal.png') });
  await reveal.getByRole('button', { name: 'Done – I have Saved My Key' }).click();
  await expect(reveal).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Generate New API Key' })).toBeFocused();
  expect(await page.content()).not.toContain(token);

  const firstRow = page.locator('tbody tr').first();
  await expect(firstRow).toContainText('Claude Code on my laptop');
  await expect(firstRow).toContainText('Active');
  await expect(firstRow).toContainText('Never');

  const me = await request.get('/api/v1/me', { headers: { Authorization: `Bearer ${token}`, 'User-Agent': 'playwright-check' } });
  expect(me.status()).toBe(200);
  expect((await me.json()).user.email).toBe('root@sunrise.test');
  await page.reload();
  await waitForHydration(page);
  await expect(page.locator('tbody tr').first()).toContainText('playwright-check');
  await expect(page.locator('tbody tr').first().locator('td').nth(4)).not.toHaveText('Never');

  await page.getByRole('button', { name: 'Revoke Claude Code on my laptop' }).click();
  const revoke = page.getByRole('dialog', { name: 'Revoke API Key' });
  await expect(revoke).toContainText('immediately');
  await expectNoSeriousA11yViolations(page, 'revoke dialog');
  await page.screenshot({ path: test.info().outputPath('5-revoke.png') });
  await revoke.getByRole('button', { name: 'Revoke Key' }).click();
  await expect(revoke).toHaveCount(0);
  await expect(page.locator('tbody tr').first()).toContainText('Revoked');
  expect((await request.get('/api/v1/me', { headers: { Authorization: `Bearer ${token}` } })).status()).toBe(401);

  await page.getByRole('button', { name: 'Delete Claude Code on my laptop' }).click();
  const remove = page.getByRole('dialog', { name: 'Delete API Key' });
  await expectNoSeriousA11yViolations(page, 'delete dialog');
  await page.screenshot({ path: test.info().outputPath('6-delete.png') });
  await remove.getByRole('button', { name: 'Delete Key' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'API key deleted' })).toBeVisible();
  await expect(page.getByText('Claude Code on my laptop')).toHaveCount(0);

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Activity' }).click();
  await expect(page.getByRole('heading', { name: 'Activity' })).toBeVisible();
  const keyId = token.slice(8, 16);
  const events = page.locator('tbody tr').filter({ hasText: keyId });
  await expect(events).toHaveCount(4);
  await expect(events.nth(0)).toContainText('Deleted an API key');
  await expect(events.nth(1)).toContainText('API key refused');
  await expect(events.nth(1)).toContainText('revoked');
  await expect(events.nth(2)).toContainText('Revoked an API key');
  await expect(events.nth(3)).toContainText('Created an API key');
  await expect(events.nth(3)).toContainText('Rosa Martinez');
  await page.getByLabel('Filter by Key ID').fill(keyId);
  await expect(page.locator('tbody tr')).toHaveCount(4);
});

test('a caregiver manages her own keys; her root sees them without the secret; another company never does', async ({ page }) => {
  await signIn(page, 'barbara@sunrise.test');
  await expect(page).toHaveURL(/\/portal$/);
  await open(page, '/portal/settings');
  await expect(page.getByRole('heading', { name: 'API Keys' })).toBeVisible();
  await expect(page.getByText('No API keys yet')).toBeVisible();
  await expect(page.getByRole('region', { name: 'Connect without a key' })).toContainText(new URL('/api/mcp', page.url()).toString());
  await expect(page.getByRole('heading', { name: 'Your Privacy Matters' })).toBeVisible();

  const sms = page.getByRole('switch', { name: 'SMS' });
  await expect(sms).not.toBeChecked();
  await sms.check();
  await expect(page.getByText('Saved.')).toBeVisible();
  await page.reload();
  await waitForHydration(page);
  await expect(page.getByRole('switch', { name: 'SMS' })).toBeChecked();

  const token = await generateKey(page, "Barbara's assistant");
  const reveal = page.getByRole('dialog', { name: 'Your API Key' });
  await reveal.getByRole('tab', { name: 'Codex' }).click();
  expect(await copy(reveal, 'Codex config'), 'the Codex config holds no key').not.toContain(token);
  await reveal.getByRole('button', { name: 'Done – I have Saved My Key' }).click();
  const leave = page.getByRole('alert').filter({ hasText: "You haven't copied this key" });
  await expect(leave).toBeVisible();
  await leave.getByRole('button', { name: 'Close without copying' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);
  const row = page.locator('tbody tr').filter({ hasText: "Barbara's assistant" });
  await expect(row).toContainText('Active');
  await expect(row.getByRole('button', { name: /Revoke/ })).toBeVisible();
  await expect(page.getByRole('button', { name: /^Delete/ })).toHaveCount(0);
  await expect(page.getByRole('columnheader', { name: 'User' })).toHaveCount(0);

  await signOut(page);
  await signIn(page, 'root@sunrise.test');
  await expect(page.getByRole('heading', { name: /Welcome/ })).toBeVisible();
  await open(page, '/settings?tab=api-keys');
  const seen = page.locator('tbody tr').filter({ hasText: "Barbara's assistant" });
  await expect(seen).toContainText('Barbara Lee');
  await expect(seen).toContainText('Never');
  await expect(seen.getByRole('button', { name: /Revoke/ })).toBeVisible();
  expect(await page.content()).not.toContain(token.slice(16, 38));

  await signOut(page);
  await signIn(page, 'root@harbor.test');
  await expect(page.getByRole('heading', { name: /Welcome/ })).toBeVisible();
  await open(page, '/settings?tab=api-keys');
  await expect(page.getByText('No API keys yet')).toBeVisible();
  await expect(page.getByText("Barbara's assistant")).toHaveCount(0);
});

test('the eleventh key shows the limit inline and a key expiring soon is flagged', async ({ page }) => {
  for (let n = 0; n < 9; n++) caregate('keys', 'mint', '--email', 'carl@sunrise.test', '--label', `Ops key ${n}`, '--all-scopes');
  caregate('keys', 'mint', '--email', 'carl@sunrise.test', '--label', 'Short-lived', '--days', '3', '--all-scopes');
  await signIn(page, 'carl@sunrise.test');
  await expect(page).toHaveURL(/\/portal$/);
  await open(page, '/portal/settings');
  await expect(page.locator('tbody tr').filter({ hasText: 'Short-lived' })).toContainText('Expires in 3d');

  await page.getByRole('button', { name: 'Generate New API Key' }).click();
  await page.getByRole('button', { name: 'I Understand – Continue' }).click();
  const confirm = page.getByRole('dialog', { name: "Confirm it's you" });
  await confirm.getByLabel('Password').fill(DEMO_PASSWORD);
  await confirm.getByRole('button', { name: 'Confirm' }).click();
  const name = page.getByRole('dialog', { name: 'Name Your API Key' });
  await name.getByRole('button', { name: 'Generate Key' }).click();
  await expect(name.getByRole('alert')).toHaveText('Maximum number of API tokens reached');
  await name.getByLabel('Label').fill('');
  await name.getByRole('button', { name: 'Generate Key' }).click();
  await expect(name.getByRole('alert')).toContainText('Give the key a label');
  await name.getByLabel('Expires').selectOption('Custom date');
  await expect(name.getByLabel('Expiry date')).toBeVisible();
  await expectNoSeriousA11yViolations(page, 'name dialog with an error and a custom date');
  await page.keyboard.press('Escape');
  await expect(page.getByRole('dialog')).toHaveCount(0);
});

test('the whole flow works with the keyboard alone', async ({ page }) => {
  await signIn(page, 'office@sunrise.test');
  await expect(page.getByRole('heading', { name: /Welcome/ })).toBeVisible();
  await open(page, '/settings?tab=api-keys');
  const generate = page.getByRole('button', { name: 'Generate New API Key' });
  await generate.focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('dialog', { name: 'Security & Compliance Notice' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'I Understand – Continue' })).toBeFocused();
  for (let i = 0; i < 4; i++) await page.keyboard.press('Tab');
  await expect(page.getByRole('dialog').locator(':focus')).toHaveCount(1);
  await page.getByRole('button', { name: 'I Understand – Continue' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByLabel('Password')).toBeFocused();
  await page.keyboard.type(DEMO_PASSWORD);
  await page.keyboard.press('Enter');
  await expect(page.getByLabel('Label')).toBeFocused();
  await page.keyboard.press('Enter');
  const reveal = page.getByRole('dialog', { name: 'Your API Key' });
  await expect(reveal).toBeVisible();
  await expectNoSeriousA11yViolations(page, 'name → reveal dialog');
  await page.keyboard.press('Escape');
  const leave = reveal.getByRole('alert').filter({ hasText: "You haven't copied this key" });
  await expect(leave).toBeVisible();
  await expect(leave.getByRole('button', { name: 'Go back' })).toBeFocused();
  await expectNoSeriousA11yViolations(page, 'reveal dialog asking before it closes');
  await page.keyboard.press('Enter');
  let guard = 0;
  while (!(await reveal.getByRole('button', { name: 'Copy API key', exact: true }).evaluate((el) => el === document.activeElement)) && guard++ < 30) {
    await page.keyboard.press('Tab');
  }
  await page.keyboard.press('Enter');
  await expect(reveal.getByRole('button', { name: 'Copied API key', exact: true })).toBeFocused();
  await expect(reveal.getByRole('status')).toHaveText('API key copied');
  await expectNoSeriousA11yViolations(page, 'reveal dialog after Copy with the keyboard');
  await page.keyboard.press('Escape');
  await expect(reveal).toHaveCount(0);
  await expect(generate).toBeFocused();
  const row = page.locator('tbody tr').first();
  await expect(row).toContainText('Active');
  await row.getByRole('button', { name: /Revoke/ }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('button', { name: 'Revoke Key' })).toBeFocused();
  await expectNoSeriousA11yViolations(page, 'revoke dialog opened with the keyboard');
  await page.keyboard.press('Enter');
  await expect(row).toContainText('Revoked');
});

test('labels with markup or right-to-left text stay inert text, under a script policy the app hydrates with', async ({ page }) => {
  const policyReports: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to (execute|load|apply)/i.test(message.text())) policyReports.push(message.text());
  });
  let dialogs = 0;
  page.on('dialog', async (dialog) => {
    dialogs += 1;
    await dialog.dismiss();
  });
  const markup = '<img src=x onerror=alert(1)><script>alert(2)</script>';
  caregate('keys', 'mint', '--email', 'root@harbor.test', '--label', markup, '--all-scopes');
  caregate('keys', 'mint', '--email', 'root@harbor.test', '--label', 'مفتاح العيادة', '--all-scopes');
  expect(() => caregate('keys', 'mint', '--email', 'root@harbor.test', '--label', 'Claude\u202Etxt.exe', '--all-scopes')).toThrow();

  await signIn(page, 'root@harbor.test');
  await expect(page).toHaveURL(/\/$/);
  await open(page, '/settings?tab=api-keys');
  await expect(page.getByRole('cell', { name: markup, exact: true })).toBeVisible();
  await expect(page.getByRole('cell', { name: 'مفتاح العيادة', exact: true })).toBeVisible();
  await expect(page.locator('img[src="x"]')).toHaveCount(0);
  await page.getByRole('button', { name: 'Generate New API Key' }).click();
  await expect(page.getByRole('dialog', { name: 'Security & Compliance Notice' })).toBeVisible();
  expect(dialogs, 'no injected script ran').toBe(0);
  expect(policyReports, 'the app needs nothing the policy forbids').toEqual([]);
});
