import { expect, test } from './fixtures';
import { copy, DEMO_PASSWORD, expectNoSeriousA11yViolations, generateKey, open, signIn, TOKEN_PATTERN } from './helpers';

test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

test('rolling a key with a 1-hour overlap reveals the new key and lists both', async ({ page }) => {
  await signIn(page, 'office@sunrise.test');
  await expect(page.getByRole('heading', { name: /Welcome/ })).toBeVisible();
  await open(page, '/settings?tab=api-keys');
  const oldToken = await generateKey(page, 'Rolling assistant');
  const first = page.getByRole('dialog', { name: 'Your API Key' });
  expect(await copy(first, 'API key')).toBe(oldToken);
  await first.getByRole('button', { name: 'Done – I have Saved My Key' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);

  const rows = page.locator('tbody tr').filter({ hasText: 'Rolling assistant' });
  await expect(rows).toHaveCount(1);
  const oldKeyId = await rows.first().getAttribute('data-key-id');
  await rows.first().getByRole('button', { name: 'Roll Rolling assistant' }).click();

  const roll = page.getByRole('dialog', { name: 'Roll API Key' });
  await expect(roll).toBeVisible();
  await expect(roll).toContainText(oldKeyId!);
  await expectNoSeriousA11yViolations(page, 'roll dialog');
  await roll.getByRole('radio', { name: 'In 1 hour' }).check();
  await roll.getByRole('button', { name: 'Roll Key' }).click();

  const confirm = page.getByRole('dialog', { name: "Confirm it's you" });
  const reveal = page.getByRole('dialog', { name: 'Your API Key' });
  await expect(confirm.or(reveal)).toBeVisible();
  if (await confirm.isVisible()) {
    await confirm.getByLabel('Password').fill(DEMO_PASSWORD);
    await confirm.getByRole('button', { name: 'Confirm' }).click();
  }
  await expect(reveal).toBeVisible();
  const newToken = (await reveal.getByLabel('Your API key').textContent())!.trim();
  expect(newToken).toMatch(TOKEN_PATTERN);
  expect(newToken).not.toBe(oldToken);
  await expect(reveal.getByRole('tab', { name: 'Claude Code' })).toBeVisible();
  expect(await copy(reveal, 'API key')).toBe(newToken);
  await reveal.getByRole('button', { name: 'Done – I have Saved My Key' }).click();
  await expect(page.getByRole('dialog')).toHaveCount(0);

  await expect(rows).toHaveCount(2);
  const oldRow = page.locator(`tbody tr[data-key-id="${oldKeyId}"]`);
  await expect(oldRow).toContainText(/Rolled · stops in \d+ min/);
  await expect(oldRow.getByRole('button', { name: 'Roll Rolling assistant' })).toHaveCount(0);
  const newRow = rows.and(page.locator(`tbody tr:not([data-key-id="${oldKeyId}"])`));
  await expect(newRow).toContainText('Active');
  await expect(newRow.getByRole('button', { name: 'Roll Rolling assistant' })).toBeVisible();
  await expectNoSeriousA11yViolations(page, 'keys table with a rolled key');
});
