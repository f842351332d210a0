import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { expect, Page } from '@playwright/test';

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

/** Waits until the WebAssembly app has hydrated the server-rendered page, so clicks run through Leptos. */
export async function waitForHydration(page: Page): Promise<void> {
  await expect(page.locator('body[data-hydrated="true"]')).toHaveCount(1);
}

/** Signs in through the sign-in page, as a person would. */
export async function signIn(page: Page, email: string, password = DEMO_PASSWORD): Promise<void> {
  await page.goto('/login');
  await waitForHydration(page);
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

/** Opens a page and waits for hydration. */
export async function open(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await waitForHydration(page);
}
