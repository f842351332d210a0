import { createHmac } from 'node:crypto';
import { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { DEMO_PASSWORD, expectNoSeriousA11yViolations, open, signIn, signOut, TOKEN_PATTERN, waitForHydration } from './helpers';

/** RFC 4648 base32, as the set-up card shows the seed for typing by hand. */
function base32Decode(text: string): Buffer {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const c of text.replace(/\s|=/g, '').toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(c);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
    }
  }
  return Buffer.from(out);
}

/** The step that contains now (30-second steps, RFC 6238). */
const currentStep = () => Math.floor(Date.now() / 1000 / 30);

/** The 6-digit code of `seed` at `step` (HOTP over HMAC-SHA1, RFC 4226), as an authenticator app computes it. */
function code(seed: Buffer, step: number): string {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const digest = createHmac('sha1', seed).update(counter).digest();
  const offset = digest[19] & 0x0f;
  return String((digest.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

/** Waits until `step` is no longer in the future, so a code for it or the next step is accepted. */
async function waitForStep(page: Page, step: number): Promise<void> {
  while (currentStep() < step) await page.waitForTimeout(1_000);
}

test('a caregiver turns on two-factor, signs in with a code and confirms a new key with a code', async ({ page }) => {
  test.setTimeout(150_000);
  await signIn(page, 'hank@harbor.test');
  await expect(page).toHaveURL(/\/portal$/);
  await open(page, '/portal/settings');
  const card = page.getByRole('region', { name: 'Two-factor authentication' });
  await card.getByRole('button', { name: 'Set up two-factor' }).click();
  await expect(card.getByRole('img', { name: 'QR code to add caregate to an authenticator app' })).toBeVisible();
  const seed = base32Decode((await card.getByTestId('two-factor-secret').textContent())!);
  expect(seed.length).toBe(20);
  await expectNoSeriousA11yViolations(page, 'two-factor set-up');

  await card.getByLabel('Your password').fill(DEMO_PASSWORD);
  await card.getByLabel('Enter the 6-digit code the app shows').fill('000000');
  await card.getByRole('button', { name: 'Turn on two-factor' }).click();
  await expect(card.getByRole('alert')).toContainText('That code is not correct');
  const setupStep = currentStep();
  await card.getByLabel('Enter the 6-digit code the app shows').fill(code(seed, setupStep));
  await card.getByRole('button', { name: 'Turn on two-factor' }).click();
  const recovery = card.getByRole('list', { name: 'Recovery codes' }).getByRole('listitem');
  await expect(recovery).toHaveCount(10);
  await expectNoSeriousA11yViolations(page, 'recovery codes');
  await card.getByRole('button', { name: 'I have saved them' }).click();
  await expect(card).toContainText('10 recovery code(s) left.');

  await signOut(page);
  await signIn(page, 'hank@harbor.test');
  await expect(page).toHaveURL(/\/login\/code$/);
  await waitForHydration(page);
  await expectNoSeriousA11yViolations(page, 'sign-in code page');
  await page.getByRole('textbox', { name: 'Code' }).fill(code(seed, setupStep));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByRole('alert')).toHaveText('That code is not correct');
  await page.getByRole('textbox', { name: 'Code' }).fill(code(seed, setupStep + 1));
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page).toHaveURL(/\/portal$/);

  await open(page, '/portal/settings');
  await page.getByRole('button', { name: 'Generate New API Key' }).click();
  await page.getByRole('dialog', { name: 'Security & Compliance Notice' }).getByRole('button', { name: 'I Understand – Continue' }).click();
  const confirm = page.getByRole('dialog', { name: "Confirm it's you" });
  await confirm.getByRole('button', { name: 'Use a code from your authenticator app instead' }).click();
  await expectNoSeriousA11yViolations(page, 're-authentication with a code');
  await waitForStep(page, setupStep + 1);
  await confirm.getByLabel('Authentication code').fill(code(seed, setupStep + 2));
  await confirm.getByRole('button', { name: 'Confirm' }).click();
  const name = page.getByRole('dialog', { name: 'Name Your API Key' });
  await name.getByLabel('Label').fill('Confirmed with a code');
  await name.getByRole('button', { name: 'Generate Key' }).click();
  const reveal = page.getByRole('dialog', { name: 'Your API Key' });
  await expect(reveal.getByLabel('Your API key')).toHaveText(TOKEN_PATTERN);

  await open(page, '/portal/settings');
  await expect(card).toContainText('10 recovery code(s) left.');
  await card.getByLabel('Password').fill(DEMO_PASSWORD);
  await waitForStep(page, setupStep + 2);
  await card.getByLabel('Code from the app, or a recovery code').fill(code(seed, setupStep + 3));
  await card.getByRole('button', { name: 'Turn off two-factor' }).click();
  await expect(card.getByRole('button', { name: 'Set up two-factor' })).toBeVisible();
});
