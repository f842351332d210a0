import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { expect, test } from './fixtures';
import { caregate, expectNoSeriousA11yViolations, open, signIn } from './helpers';

test('a key that expires in 3 days is on the Alerts page, in the sidebar count and on the dashboard', async ({ page }) => {
  caregate('keys', 'mint', '--email', 'office@sunrise.test', '--label', 'Desk – Cursor', '--days', '3', '--all-scopes');
  // The server runs the job at start-up and every 5 minutes; the operator command runs it now.
  expect(caregate('reminders')).toContain('1 reminder(s) raised');

  await signIn(page, 'office@sunrise.test');
  await expect(page.getByRole('heading', { name: 'Welcome, Owen Price' })).toBeVisible();
  await expect(page.getByText('1 API key expires this week')).toBeVisible();
  await expect(page.getByRole('link', { name: 'Roll now' })).toHaveAttribute('href', '/settings?tab=api-keys');

  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByLabel('1 unread')).toBeVisible();
  await nav.getByRole('link', { name: /Alerts/ }).click();
  await expect(page.getByRole('heading', { name: 'Alerts' })).toBeVisible();
  const reminder = page.getByRole('listitem').filter({ hasText: 'Key expires soon' });
  await expect(reminder).toContainText("Your API key 'Desk – Cursor'");
  await expect(reminder).toContainText('expires in 3 days');
  await expectNoSeriousA11yViolations(page, 'the Alerts page');

  await reminder.getByRole('button', { name: 'Mark as read' }).click();
  await expect(reminder.getByRole('button', { name: 'Mark as read' })).toHaveCount(0);
  await expect(nav.getByLabel('1 unread')).toHaveCount(0);
});

test("a key's details panel draws its usage by an MCP client", async ({ page, baseURL }) => {
  // Owen's keys: the other specs expect Barbara's and Harbor's lists empty and Carl's filled to the limit.
  const token = caregate('keys', 'mint', '--email', 'office@sunrise.test', '--label', 'Usage – SDK', '--all-scopes').trim();
  const transport = new StreamableHTTPClientTransport(new URL('/api/mcp', baseURL!), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  const client = new Client({ name: 'caregate-e2e', version: '1.0.0' });
  await client.connect(transport);
  await client.callTool({ name: 'list_visits', arguments: {} });
  await client.callTool({ name: 'list_visits', arguments: {} });
  await client.callTool({ name: 'get_profile', arguments: {} });
  await client.close();

  await signIn(page, 'office@sunrise.test');
  await expect(page.getByRole('heading', { name: 'Welcome, Owen Price' })).toBeVisible();
  await open(page, '/settings?tab=api-keys');
  await page.getByRole('button', { name: 'Details of Usage – SDK' }).click();
  const details = page.getByRole('dialog', { name: 'Details of Usage – SDK' });
  await expect(details).toBeVisible();
  await expect(details.getByRole('img', { name: /Requests per day over the last 30 days: \d+ in all/ })).toBeVisible();
  await expect(details.locator('svg.usage-chart rect')).toHaveCount(30);
  await expect(details.getByRole('row', { name: 'list_visits 2' })).toBeVisible();
  await expect(details.getByRole('row', { name: 'get_profile 1' })).toBeVisible();
  await expect(details.getByRole('cell', { name: '127.0.0.1' })).toBeVisible();
  await expectNoSeriousA11yViolations(page, 'the key details panel');
  await details.getByRole('button', { name: 'Close' }).click();
  await expect(details).toHaveCount(0);
});
