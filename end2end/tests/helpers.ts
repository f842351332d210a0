import AxeBuilder from '@axe-core/playwright';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { expect, Locator, Page, test } from '@playwright/test';

export const DEMO_PASSWORD = 'caregate-demo';
export const TOKEN_PATTERN = /^cg_test_[0-9A-Za-z]{36}$/;

const root = path.resolve(__dirname, '..', '..');
const binary = path.join(process.env.CARGO_TARGET_DIR ?? path.join(root, 'target'), process.env.CAREGATE_E2E_PROFILE ?? 'debug', 'caregate');
/** The database of the server under test (see ../scripts/e2e-server.sh). */
const databaseUrl = `sqlite://${path.join(root, 'target', 'e2e', 'caregate.db')}?mode=rwc`;

/** Runs the operator command line against the server's database and returns its stdout. */
export function caregate(...args: string[]): string {
  return execFileSync(binary, args, { env: { ...process.env, DATABASE_URL: databaseUrl, RUST_LOG: 'warn' } }).toString();
}

/**
 * Waits until the WebAssembly app has hydrated the server-rendered page, so clicks run through Leptos. The debug
 * build's module is several megabytes: on a busy 2-core machine compiling it can take longer than the default 10 s.
 */
export async function waitForHydration(page: Page): Promise<void> {
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1, { timeout: 30_000 });
}

/** Signs in through the sign-in page, as a person would. */
export async function signIn(page: Page, email: string, password = DEMO_PASSWORD): Promise<void> {
  await page.goto('/login');
  await waitForHydration(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/**
 * Signs out with the layout's button and waits until the sign-in page is shown, so the next step does not
 * race the sign-out request (a navigation started before it ends can keep the old session alive).
 */
export async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await expect(page).toHaveURL(/\/login(\?|$)/);
  await waitForHydration(page);
}

/** Opens a page and waits for hydration. */
export async function open(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await waitForHydration(page);
}

/**
 * Runs axe-core on the page as it is now, with every WCAG 2.1 A and AA rule and axe's best practices (its
 * default set, so dialog names and tabindex stay checked), and expects nothing serious or critical.
 * `label-content-name-mismatch` (WCAG 2.5.3 Label in Name) is switched on by name, so it runs whatever tags the
 * installed axe-core gives it: it was long tagged experimental, which skips a rule even when its WCAG tag is asked for.
 */
export async function expectNoSeriousA11yViolations(page: Page, what: string): Promise<void> {
  const results = await new AxeBuilder({ page })
    .options({ rules: { 'label-content-name-mismatch': { enabled: true } } })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'])
    .analyze();
  const serious = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(serious.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), what).toEqual([]);
}

/** A Copy button of the reveal dialog, in either state, found by what it copies ("API key", "Codex config"). */
export function copyButton(dialog: Locator, what: string): Locator {
  return dialog.getByRole('button', { name: new RegExp(`^Cop(y|ied) ${what}$`) });
}

/**
 * Expects a Copy button to show `word` ("Copy" or "Copied") and to be named `word` + what it copies, the
 * rest of the name visually hidden: the name contains the text people see, in both states.
 */
export async function expectCopyButton(button: Locator, word: 'Copy' | 'Copied', what: string): Promise<void> {
  await expect(button).toHaveAccessibleName(`${word} ${what}`);
  await expect(button).toHaveText(`${word} ${what}`);
  await expect(button.locator('.visually-hidden')).toHaveText(what);
}

/** Clicks a Copy button of the reveal dialog and returns what it put on the clipboard. */
export async function copy(dialog: Locator, what: string): Promise<string> {
  const button = copyButton(dialog, what);
  await button.click();
  await expectCopyButton(button, 'Copied', what);
  await expect(dialog.getByRole('status')).toHaveText(`${what} copied`);
  return dialog.page().evaluate(() => navigator.clipboard.readText());
}

/**
 * Walks the generate flow up to the reveal dialog and returns the token shown there; with `audit`, takes a
 * screenshot of each dialog and runs axe on it after its interactions.
 */
export async function generateKey(page: Page, label?: string, audit = false): Promise<string> {
  await page.getByRole('button', { name: 'Generate New API Key' }).click();
  const notice = page.getByRole('dialog', { name: 'Security & Compliance Notice' });
  await expect(notice).toBeVisible();
  await expect(notice.getByRole('listitem')).toHaveCount(6);
  if (audit) {
    await page.screenshot({ path: test.info().outputPath('1-notice.png') });
    await expectNoSeriousA11yViolations(page, 'notice dialog');
  }
  await notice.getByRole('button', { name: 'I Understand – Continue' }).click();

  const confirm = page.getByRole('dialog', { name: "Confirm it's you" });
  if (await confirm.isVisible().catch(() => false) || (await page.getByRole('dialog', { name: 'Name Your API Key' }).count()) === 0) {
    await expect(confirm).toBeVisible();
    await confirm.getByLabel('Password').fill('not-my-password');
    await confirm.getByRole('button', { name: 'Confirm' }).click();
    await expect(confirm.getByRole('alert')).toHaveText('That password is not correct');
    if (audit) {
      await page.screenshot({ path: test.info().outputPath('2-reauth-error.png') });
      await expectNoSeriousA11yViolations(page, 're-authentication dialog');
    }
    await confirm.getByLabel('Password').fill(DEMO_PASSWORD);
    await confirm.getByRole('button', { name: 'Confirm' }).click();
  }

  const name = page.getByRole('dialog', { name: 'Name Your API Key' });
  await expect(name).toBeVisible();
  await expect(name.getByLabel('Label')).toHaveValue(/^API Key [A-Z][a-z]{2} \d{1,2}, \d{4}$/);
  if (label) await name.getByLabel('Label').fill(label);
  if (audit) {
    await page.screenshot({ path: test.info().outputPath('3-name.png') });
    await expectNoSeriousA11yViolations(page, 'name dialog');
  }
  await name.getByRole('button', { name: 'Generate Key' }).click();

  const reveal = page.getByRole('dialog', { name: 'Your API Key' });
  await expect(reveal).toBeVisible();
  const token = (await reveal.getByLabel('Your API key').textContent())!.trim();
  expect(token).toMatch(TOKEN_PATTERN);
  return token;
}
