/**
 * The `test` every spec uses: Playwright's, plus a check that the page never broke. A hydration error or a
 * panic leaves the server-rendered page on screen with nothing behind it, so clicks are lost and the failure
 * shows up later as a dialog that never opened; this names the real cause instead, in the test that hit it.
 */
import { expect, test as base } from '@playwright/test';

export const test = base.extend<{ pageStaysAlive: void }>({
  pageStaysAlive: [
    async ({ context }, use) => {
      const broken: string[] = [];
      // Every page of the test's browser context, the default `page` and those a test opens itself.
      context.on('page', (page) => {
        page.on('pageerror', (error) => broken.push(`page error: ${error.message}`));
        page.on('console', (message) => {
          if (message.type() === 'error' && /hydration error|panicked at/i.test(message.text())) broken.push(message.text());
        });
      });
      await use();
      expect(broken, 'the app neither panicked nor failed to hydrate').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
