import { readFileSync } from 'node:fs';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { expect, test } from './fixtures';
import { caregate, expectNoSeriousA11yViolations, open, signIn, signOut, TOKEN_PATTERN } from './helpers';

const LABEL = 'Barbara – Claude Desktop';
const CLIENT = 'Disclosure check';

test("a caregiver's key reads visits; the Root User sees who read each patient's records, and exports them", async ({ page, baseURL }) => {
  // Barbara's key: api-keys.spec (which runs before this file) expects her list empty, and no later spec counts
  // her keys; Carl's are filled to the limit by then. The key is revoked at the end.
  const token = caregate('keys', 'mint', '--email', 'barbara@sunrise.test', '--label', LABEL, '--all-scopes').trim();
  expect(token).toMatch(TOKEN_PATTERN);
  const keyId = token.slice(8, 16);
  // The endpoint is stateless, so a tool call carries no name from `initialize`: the server knows the client by its
  // User-Agent, as real clients send one (claude-code/…); Node's fetch would say only "node".
  const transport = new StreamableHTTPClientTransport(new URL('/api/mcp', baseURL!), {
    requestInit: { headers: { Authorization: `Bearer ${token}`, 'User-Agent': `${CLIENT}/1.0` } },
  });
  const client = new Client({ name: CLIENT, version: '1.0.0' });
  await client.connect(transport);
  const visits = await client.callTool({ name: 'list_visits', arguments: {} });
  await client.close();
  const read = new Set(((visits.structuredContent as any).visits as Array<{ patient_name: string }>).map((v) => v.patient_name));
  expect(read).toContain('Margaret Ellis');

  await signIn(page, 'root@sunrise.test');
  await expect(page.getByRole('heading', { name: /Welcome/ })).toBeVisible();
  await open(page, '/patients');
  await page.getByRole('button', { name: 'Disclosures for Margaret Ellis' }).click();
  const panel = page.getByRole('dialog', { name: 'Disclosures for Margaret Ellis' });
  await expect(panel).toBeVisible();
  const row = panel.locator('tbody tr').filter({ hasText: keyId });
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('Barbara Lee');
  await expect(row).toContainText(LABEL);
  await expect(row).toContainText(CLIENT);
  await expect(row).toContainText('list_visits');
  await expect(panel.getByRole('navigation', { name: 'Pages of disclosures' })).toContainText('Page 1 of 1');
  await page.screenshot({ path: test.info().outputPath('disclosures-panel.png') });
  await expectNoSeriousA11yViolations(page, 'the Disclosures panel');

  // A range that ends before today holds nothing, and the export follows the range.
  await panel.getByLabel('To').fill('2020-01-31');
  await expect(panel.getByText('No disclosures recorded in this range.')).toBeVisible();
  await expect(panel.getByRole('link', { name: 'Export CSV' })).toHaveAttribute('href', /&to=2020-01-31$/);
  await expectNoSeriousA11yViolations(page, 'the Disclosures panel with an empty range');
  await panel.getByLabel('To').fill('');
  await expect(row).toHaveCount(1);

  const [download] = await Promise.all([page.waitForEvent('download'), panel.getByRole('link', { name: 'Export CSV' }).click()]);
  expect(download.suggestedFilename()).toMatch(/^disclosures-patient-\d+\.csv$/);
  const lines = readFileSync((await download.path())!, 'utf8').trim().split(/\r?\n/);
  expect(lines[0]).toBe('date,recipient,description,credential');
  const ours = lines.slice(1).filter((line) => line.includes(keyId));
  expect(ours).toHaveLength(1);
  expect(ours[0]).toContain('Barbara Lee');
  expect(ours[0]).toContain(LABEL);
  expect(ours[0]).toMatch(/^"\d{4}-\d{2}-\d{2}T/);
  expect(lines.join('\n')).not.toContain('Harbor');

  await panel.getByRole('button', { name: 'Close' }).click();
  await expect(panel).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Disclosures for Margaret Ellis' })).toBeFocused();

  // The key's details panel counts the patients it read.
  await open(page, '/settings?tab=api-keys');
  const details = page.getByRole('dialog', { name: `Details of ${LABEL}` });
  // The keys table may still be re-rendering from its resources just after hydration (the release build gets
  // here fast), which can swallow the first click: click until the dialog is open.
  await expect(async () => {
    await page.getByRole('button', { name: `Details of ${LABEL}` }).click();
    await expect(details).toBeVisible({ timeout: 2_000 });
  }).toPass({ timeout: 20_000 });
  await expect(details.getByText(`Patients read (30 days): ${read.size}`)).toBeVisible();
  for (const name of read) await expect(details.getByRole('row', { name: `${name} 1` })).toBeVisible();
  await expectNoSeriousA11yViolations(page, 'the key details panel with patients read');
  await details.getByRole('button', { name: 'Close' }).click();

  caregate('keys', 'revoke', keyId);
});

test('the Root User sets how long records are kept; an office User sees it', async ({ page }) => {
  await signIn(page, 'root@sunrise.test');
  await expect(page.getByRole('heading', { name: /Welcome/ })).toBeVisible();
  await open(page, '/settings?tab=business');
  const card = page.getByRole('region', { name: 'Record retention' });
  const years = card.getByLabel('Keep activity and disclosure records for');
  await expect(years).toHaveValue('6');
  await years.selectOption('7 years');
  await card.getByRole('button', { name: 'Save retention' }).click();
  await expect(card.getByRole('status')).toHaveText('Records are kept for 7 years.');
  await expectNoSeriousA11yViolations(page, 'Business Settings after saving the retention');
  await open(page, '/settings?tab=business');
  await expect(page.getByLabel('Keep activity and disclosure records for')).toHaveValue('7');
  await card.getByLabel('Keep activity and disclosure records for').selectOption('6 years');
  await card.getByRole('button', { name: 'Save retention' }).click();
  await expect(card.getByRole('status')).toHaveText('Records are kept for 6 years.');

  await signOut(page);
  await signIn(page, 'office@sunrise.test');
  await expect(page.getByRole('heading', { name: /Welcome/ })).toBeVisible();
  await open(page, '/settings?tab=business');
  await expect(page.getByText('Activity and disclosure records are kept for 6 years; older ones are deleted daily.')).toBeVisible();
  await expect(page.getByLabel('Keep activity and disclosure records for')).toHaveCount(0);
  await open(page, '/patients');
  await expect(page.getByRole('cell', { name: 'Margaret Ellis', exact: true })).toBeVisible();
  await expect(page.getByRole('button', { name: /^Disclosures/ })).toHaveCount(0);
});
