import { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { copy, DEMO_PASSWORD, expectNoSeriousA11yViolations, generateKey, open, signIn } from './helpers';

test.use({ permissions: ['clipboard-read', 'clipboard-write'] });

/** Opens the People page from the sidebar, as a Root User would. */
async function openPeople(page: Page): Promise<void> {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'People' }).click();
  await expect(page).toHaveURL(/\/people$/);
  await expect(page.getByRole('heading', { name: 'People', level: 1 })).toBeVisible();
}

/** Invites a person from the People page and returns the link the reveal dialog shows (and copies). */
async function invite(page: Page, name: string, email: string, role: string, audit = false): Promise<string> {
  await page.getByRole('button', { name: 'Add a person' }).click();
  const add = page.getByRole('dialog', { name: 'Add a person' });
  await expect(add.getByLabel('Name')).toBeFocused();
  await add.getByLabel('Name').fill(name);
  await add.getByLabel('Email').fill(email);
  await add.getByLabel('Role').selectOption({ label: role });
  if (audit) {
    await page.screenshot({ path: test.info().outputPath('2-add-person.png') });
    await expectNoSeriousA11yViolations(page, 'add-person dialog');
  }
  await add.getByRole('button', { name: 'Create invitation link' }).click();

  const reveal = page.getByRole('dialog', { name: 'Invitation link' });
  await expect(reveal).toBeVisible();
  await expect(reveal).toContainText(`Send this link to ${name} (${email.toLowerCase()})`);
  await expect(reveal).toContainText(/Valid until .+ UTC\./);
  await expect(reveal.getByRole('note')).toContainText('This is the only time this link is shown.');
  const link = (await reveal.getByLabel('Invitation link').textContent())!.trim();
  expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/invite\/[0-9a-f]{64}$/);
  if (audit) {
    await page.screenshot({ path: test.info().outputPath('3-invitation-link.png') });
    await expectNoSeriousA11yViolations(page, 'invitation reveal dialog');
  }
  expect(await copy(reveal, 'invitation link')).toBe(link);
  if (audit) await expectNoSeriousA11yViolations(page, 'invitation reveal dialog after Copy');
  await reveal.getByRole('button', { name: 'Done' }).click();
  await expect(reveal).toHaveCount(0);
  await expect(page.getByRole('status')).toHaveText(`${name} invited`);
  return link;
}

test('a root user invites a caregiver who joins; deactivating her signs her out and stops her key', async ({ page, browser, request }) => {
  await signIn(page, 'root@sunrise.test');
  await expect(page.getByRole('heading', { name: /Welcome/ })).toBeVisible();
  await openPeople(page);
  const table = page.getByRole('table');
  await expect(table.getByRole('row')).toHaveCount(5);
  const barbara = table.getByRole('row', { name: /Barbara Lee/ });
  await expect(barbara.getByRole('cell')).toHaveText(['barbara@sunrise.test', 'Caregiver', 'Active', 'Off', /^\d+$/, /^(Never|\w{3} \d{1,2}, \d{4})$/, /^Change role\s*Deactivate$/]);
  await page.screenshot({ path: test.info().outputPath('1-people.png') });
  await expectNoSeriousA11yViolations(page, 'people page');

  await page.getByLabel('Filter by role').selectOption({ label: 'Caregiver' });
  await expect(table.getByRole('rowheader')).toHaveText(['Barbara Lee', 'Carl Jensen']);
  await page.getByLabel('Filter by role').selectOption({ label: 'All roles' });
  await page.getByLabel('Search people').fill('nobody at all');
  await expect(page.getByText('No people found')).toBeVisible();
  await page.getByLabel('Search people').fill('');
  await expect(table.getByRole('row')).toHaveCount(5);

  const link = await invite(page, 'Nina Ray', 'Nina@Sunrise.test', 'Caregiver', true);
  const ninaRow = table.getByRole('row', { name: /Nina Ray/ });
  await expect(ninaRow.getByRole('cell')).toHaveText(['nina@sunrise.test', 'Caregiver', 'Invited', 'Off', '0', 'Never', /^New link\s*Cancel invitation$/]);

  // Nina opens the link in her own browser, chooses a password and lands on the portal, signed in.
  const ninaContext = await browser.newContext();
  const nina = await ninaContext.newPage();
  await open(nina, link);
  await expect(nina.getByRole('heading', { name: 'Join Sunrise Home Care as a Caregiver' })).toBeVisible();
  await expect(nina.getByText('nina@sunrise.test')).toBeVisible();
  await expect(nina.getByText('At least 10 characters.')).toBeVisible();
  await nina.screenshot({ path: test.info().outputPath('4-invitation-page.png') });
  await expectNoSeriousA11yViolations(nina, 'invitation page');
  await nina.getByLabel('New password', { exact: true }).fill(DEMO_PASSWORD);
  await nina.getByLabel('Repeat new password').fill('a-different-password');
  await nina.getByRole('button', { name: 'Set password and join' }).click();
  await expect(nina.getByRole('alert')).toHaveText('The passwords do not match');
  await expectNoSeriousA11yViolations(nina, 'invitation page with an error');
  await nina.getByLabel('Repeat new password').fill(DEMO_PASSWORD);
  await nina.getByRole('button', { name: 'Set password and join' }).click();
  await expect(nina).toHaveURL(/\/portal$/);
  await expect(nina.getByRole('heading', { name: 'Hello, Nina Ray' })).toBeVisible();

  // Her link worked once.
  const spent = await ninaContext.newPage();
  const answer = await spent.goto(link);
  expect(answer!.status()).toBe(409);
  await expect(spent.getByRole('heading', { name: 'This invitation link cannot be used' })).toBeVisible();
  await expect(spent.getByRole('alert')).toContainText('This invitation has already been used.');
  await spent.screenshot({ path: test.info().outputPath('5-used-invitation.png') });
  await expectNoSeriousA11yViolations(spent, 'used invitation page');
  await spent.getByRole('link', { name: 'Go to sign in' }).click();
  await expect(spent).toHaveURL(/\/portal$/);
  await spent.close();

  // She creates an API key for her assistant.
  await open(nina, '/portal/settings');
  const token = await generateKey(nina, "Nina's assistant");
  const reveal = nina.getByRole('dialog', { name: 'Your API Key' });
  await reveal.getByRole('button', { name: 'Done – I have Saved My Key' }).click();
  await reveal.getByRole('button', { name: 'Close without copying' }).click();
  await expect(reveal).toHaveCount(0);
  expect((await request.get('/api/v1/me', { headers: { Authorization: `Bearer ${token}` } })).status()).toBe(200);

  // The Root User deactivates her while her portal is open.
  await page.getByLabel('Search people').fill('nina');
  await expect(table.getByRole('row')).toHaveCount(2);
  await expect(ninaRow.getByRole('cell')).toHaveText(['nina@sunrise.test', 'Caregiver', 'Active', 'Off', '1', /^\w{3} \d{1,2}, \d{4}$/, /^Change role\s*Deactivate$/]);
  await ninaRow.getByRole('button', { name: 'Deactivate Nina Ray' }).click();
  const deactivate = page.getByRole('dialog', { name: 'Deactivate Nina Ray?' });
  await expect(deactivate).toContainText(
    'Nina Ray will be signed out everywhere and their 1 active API key will stop working immediately. They cannot sign in until reactivated.',
  );
  await expect(deactivate.getByRole('button', { name: 'Deactivate' })).toBeFocused();
  await page.screenshot({ path: test.info().outputPath('6-deactivate.png') });
  await expectNoSeriousA11yViolations(page, 'deactivate dialog');
  await deactivate.getByRole('button', { name: 'Deactivate' }).click();
  await expect(deactivate).toHaveCount(0);
  await expect(page.getByRole('status')).toHaveText('Nina Ray deactivated: signed out everywhere; 1 API key stopped working');
  await expect(ninaRow.getByRole('cell').nth(2)).toHaveText('Deactivated');
  await expect(ninaRow.getByRole('button', { name: 'Reactivate Nina Ray' })).toBeVisible();

  // Her next click in the open portal lands on the sign-in page; her key answers inactive_user.
  await nina.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My Visits' }).click();
  await expect(nina).toHaveURL(/\/login\?next=\/portal\/visits$/);
  const refused = await request.get('/api/v1/me', { headers: { Authorization: `Bearer ${token}` } });
  expect(refused.status()).toBe(401);
  expect((await refused.json()).code).toBe('inactive_user');
  await ninaContext.close();

  // Every keys list says the owner is deactivated.
  await open(page, '/settings?tab=api-keys');
  const keyRow = page.getByRole('row', { name: /Nina's assistant/ });
  await expect(keyRow).toContainText('Owner deactivated');
  await page.screenshot({ path: test.info().outputPath('7-keys-owner-deactivated.png') });
  await expectNoSeriousA11yViolations(page, 'keys list with a deactivated owner');

  // Reactivated, her key works again; then she becomes an office User.
  await open(page, '/people');
  await page.getByLabel('Filter by status').selectOption({ label: 'Deactivated' });
  await expect(table.getByRole('rowheader')).toHaveText(['Nina Ray']);
  await ninaRow.getByRole('button', { name: 'Reactivate Nina Ray' }).click();
  const reactivate = page.getByRole('dialog', { name: 'Reactivate Nina Ray?' });
  await expect(reactivate).toContainText('their 1 API key that is within its expiry and not revoked will work again');
  await reactivate.getByRole('button', { name: 'Reactivate' }).click();
  await expect(page.getByRole('status')).toHaveText('Nina Ray reactivated; 1 API key works again');
  await expect(page.getByText('No people found')).toBeVisible();
  expect((await request.get('/api/v1/me', { headers: { Authorization: `Bearer ${token}` } })).status()).toBe(200);

  await page.getByLabel('Filter by status').selectOption({ label: 'All statuses' });
  await ninaRow.getByRole('button', { name: 'Change role of Nina Ray' }).click();
  const role = page.getByRole('dialog', { name: 'Change role' });
  await expect(role.getByLabel('Role')).toBeFocused();
  await expect(role.getByRole('button', { name: 'Save role' })).toBeDisabled();
  await role.getByLabel('Role').selectOption({ label: 'User' });
  await expectNoSeriousA11yViolations(page, 'change-role dialog');
  await role.getByRole('button', { name: 'Save role' }).click();
  await expect(page.getByRole('status')).toHaveText('Nina Ray is now a User');
  await expect(ninaRow.getByRole('cell').nth(1)).toHaveText('User');
});

test('the last Root User is kept, and an invitation can be renewed and cancelled', async ({ page }) => {
  await signIn(page, 'root@sunrise.test');
  await expect(page.getByRole('heading', { name: /Welcome/ })).toBeVisible();
  await openPeople(page);
  const table = page.getByRole('table');

  await table.getByRole('row', { name: /Rosa Martinez/ }).getByRole('button', { name: 'Deactivate Rosa Martinez' }).click();
  const myself = page.getByRole('dialog', { name: 'Deactivate Rosa Martinez?' });
  await myself.getByRole('button', { name: 'Deactivate' }).click();
  await expect(myself.getByRole('alert')).toHaveText('A company must keep at least one active Root User');
  await expectNoSeriousA11yViolations(page, 'deactivate dialog with the refusal');
  await myself.getByRole('button', { name: 'Cancel' }).click();
  await expect(myself).toHaveCount(0);
  await expect(table.getByRole('button', { name: 'Deactivate Rosa Martinez' })).toBeFocused();

  const first = await invite(page, 'Otto Other', 'otto@sunrise.test', 'User');
  const otto = table.getByRole('row', { name: /Otto Other/ });
  await otto.getByRole('button', { name: 'New link for Otto Other' }).click();
  const renew = page.getByRole('dialog', { name: 'New invitation link' });
  await expect(renew).toContainText('Links created for them earlier stop working.');
  await renew.getByRole('button', { name: 'Create new link' }).click();
  const reveal = page.getByRole('dialog', { name: 'Invitation link' });
  const second = (await reveal.getByLabel('Invitation link').textContent())!.trim();
  expect(second).not.toBe(first);
  await reveal.getByRole('button', { name: 'Done' }).click();
  await expect(page.getByRole('status')).toHaveText('New invitation link for Otto Other created');
  const old = await page.context().newPage();
  expect((await old.goto(first))!.status()).toBe(404);
  await expect(old.getByRole('alert')).toHaveText('Invitation not found');
  await old.close();

  await otto.getByRole('button', { name: 'Cancel invitation for Otto Other' }).click();
  const cancel = page.getByRole('dialog', { name: 'Cancel invitation' });
  await expectNoSeriousA11yViolations(page, 'cancel-invitation dialog');
  await cancel.getByRole('button', { name: 'Cancel invitation' }).click();
  await expect(page.getByRole('status')).toHaveText('Invitation for Otto Other cancelled');
  await expect(otto).toHaveCount(0);
});

test('only Root Users see the People page', async ({ page }) => {
  await signIn(page, 'office@sunrise.test');
  await expect(page.getByRole('heading', { name: 'Welcome, Owen Price' })).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'People' })).toHaveCount(0);
  await page.goto('/people');
  await expect(page).toHaveURL(/\/$/);
});
