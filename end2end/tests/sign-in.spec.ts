import { expect, test } from './fixtures';
import { signIn, waitForHydration } from './helpers';

test('a root user signs in and lands on the office dashboard', async ({ page }) => {
  await signIn(page, 'root@sunrise.test');
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('heading', { name: 'Welcome, Rosa Martinez' })).toBeVisible();
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link')).toHaveText(['Dashboard', 'Visits', 'Patients', 'Activity', 'Alerts', 'People', 'Settings']);
  await expect(page.getByText('Sunrise Home Care').first()).toBeVisible();

  await nav.getByRole('link', { name: 'Patients' }).click();
  await expect(page.getByRole('heading', { name: 'Patients' })).toBeVisible();
  await expect(page.getByRole('cell', { name: 'Margaret Ellis', exact: true })).toBeVisible();
});

test('a caregiver lands on the portal and sees only her own visits', async ({ page }) => {
  await signIn(page, 'barbara@sunrise.test');
  await expect(page).toHaveURL(/\/portal$/);
  await expect(page.getByRole('heading', { name: 'Hello, Barbara Lee' })).toBeVisible();
  const nav = page.getByRole('navigation', { name: 'Main' });
  await expect(nav.getByRole('link')).toHaveText(['Dashboard', 'My Visits', 'Open Shifts', 'My Schedule', 'Messages', 'Alerts', 'My Profile', 'Settings']);

  await nav.getByRole('link', { name: 'My Visits' }).click();
  await expect(page.getByRole('heading', { name: 'My Visits' })).toBeVisible();
  const rows = page.locator('tbody tr');
  await expect(rows.first()).toBeVisible();
  expect(await rows.count()).toBeGreaterThan(5);
  const patients = await page.locator('tbody tr td:nth-child(2)').allTextContents();
  expect(new Set(patients)).toEqual(new Set(['Margaret Ellis', 'Harold Brooks']));
  await expect(page.getByText('Dorothy Nguyen')).toHaveCount(0);

  await page.goto('/visits');
  await expect(page).toHaveURL(/\/portal$/);
});

test('a wrong password shows the error and stays on the sign-in page', async ({ page }) => {
  await signIn(page, 'root@sunrise.test', 'not-the-password');
  await expect(page.getByRole('alert')).toHaveText('Invalid email or password');
  await expect(page).toHaveURL(/\/login/);
});

test('signing out ends the session and protects the pages again', async ({ page }) => {
  await signIn(page, 'office@sunrise.test');
  await expect(page.getByRole('heading', { name: 'Welcome, Owen Price' })).toBeVisible();
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login/);
  await page.goto('/patients');
  await expect(page).toHaveURL(/\/login\?next=\/patients/);
  await waitForHydration(page);
  await page.getByLabel('Email').fill('office@sunrise.test');
  await page.getByLabel('Password').fill('caregate-demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/patients$/);
  await expect(page.getByRole('heading', { name: 'Patients' })).toBeVisible();
});
