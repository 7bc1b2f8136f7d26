import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { launchBrowser } from '../support/browser';
import { createOrgWithKeys, startTestStack, type TestStack } from '../support/stack';

const SCREENSHOT = '/tmp/graphiql.png';

/** A URL the page may load: the gateway itself, or data/blob URLs it builds in memory. */
function isLocal(url: string): boolean {
  if (url.startsWith('data:') || url.startsWith('blob:')) return true;
  const { hostname } = new URL(url);
  return hostname === '127.0.0.1' || hostname === 'localhost' || hostname === '[::1]';
}

/** Replaces the whole content of a Monaco editor: click in, select all, insert. */
async function replaceEditorText(page: Page, editor: Locator, text: string): Promise<void> {
  await editor.locator('.view-lines').click();
  await page.keyboard.press('Control+A');
  await page.keyboard.press('Delete');
  // insertText does not go through key handlers, so Monaco's auto-closing brackets and
  // quotes do not double what is typed.
  await page.keyboard.insertText(text);
}

/**
 * Waits until the element's text contains `text` and returns it, whitespace normalised (Monaco
 * renders spaces as non-breaking ones); fails with the text it last had.
 */
async function waitForText(locator: Locator, text: string, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    last = ((await locator.textContent().catch(() => null)) ?? '').replace(/\s+/g, ' ');
    if (last.includes(text)) return last;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${JSON.stringify(text)}; text was:\n${last}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('GraphiQL in a browser', () => {
  let stack: TestStack;
  let browser: Browser;
  let context: BrowserContext;

  beforeAll(async () => {
    browser = await launchBrowser();
    stack = await startTestStack();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  });
  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await stack?.close();
  });

  it('serves a self-contained GraphiQL that runs an authenticated query', async () => {
    await createOrgWithKeys(stack, 'graphiql-org');
    const page = await context.newPage();
    const requests: string[] = [];
    const pageErrors: string[] = [];
    page.on('request', (request) => void requests.push(request.url()));
    page.on('pageerror', (error) => void pageErrors.push(error.message));

    const response = await page.goto(stack.url, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-type']).toMatch(/^text\/html/);
    expect(await page.title()).toBe('Memsy GraphiQL');

    const queryEditor = page.locator('.graphiql-query-editor .monaco-editor').first();
    const headersEditor = page.locator('.monaco-editor[data-uri$="-request-headers.json"]');
    const result = page.locator('.graphiql-response');
    await queryEditor.waitFor({ state: 'visible', timeout: 20_000 });
    await headersEditor.waitFor({ state: 'visible', timeout: 10_000 });
    // Its default placeholder key is sent as is on load (schema introspection): it must be a
    // valid header value, so the gateway answers (UNAUTHENTICATED) instead of fetch() failing.
    const initial = await waitForText(result, 'UNAUTHENTICATED');
    expect(initial).not.toContain('Failed to execute');

    await replaceEditorText(page, queryEditor, '{ orgs { orgId name } }');
    await replaceEditorText(page, headersEditor, `{"Authorization": "Bearer ${stack.adminKey}"}`);
    expect(await waitForText(queryEditor.locator('.view-lines'), '{ orgs { orgId name } }')).toBe(
      '{ orgs { orgId name } }',
    );
    await page.locator('button.graphiql-execute-button').click();

    const shown = await waitForText(result, '"graphiql-org Inc"', 15_000);
    expect(shown).toContain('"orgId": "graphiql-org"');
    expect(shown).not.toContain('"errors"');
    await page.screenshot({ path: SCREENSHOT });

    expect(pageErrors).toEqual([]);
    expect(requests.length).toBeGreaterThan(1);
    expect(requests.filter((url) => !isLocal(url))).toEqual([]);
    // The query really went to the gateway's endpoint.
    expect(requests.filter((url) => url === stack.url).length).toBeGreaterThanOrEqual(2);
  });
});
