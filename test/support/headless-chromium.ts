import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Debian's Chromium, installed by `bin/setup`. */
export const chromiumPath = '/usr/bin/chromium';

/** The reason to skip a browser test, or false when Chromium is installed. */
export function chromiumMissing(): string | false {
  return existsSync(chromiumPath)
    ? false
    : `Chromium not found at ${chromiumPath} (bin/setup installs Debian's chromium); browser test skipped`;
}

/** What a page did while it loaded. */
export interface PageLoad {
  readonly consoleErrors: string[];
  readonly pageErrors: string[];
  /** Requests to anything but the page itself: a self-contained page makes none. */
  readonly externalRequests: string[];
  readonly title: string;
  readonly svgCount: number;
}

/** Runs `use` with a fresh headless Chromium (driven by playwright-core, no downloaded browser), closed after. */
async function withChromium<Result>(use: (context: import('playwright-core').BrowserContext) => Promise<Result>): Promise<Result> {
  const { chromium } = await import('playwright-core');
  const profile = mkdtempSync(path.join(os.tmpdir(), 'distill-chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
  try {
    return await use(browser);
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/**
 * Opens a local HTML file in headless Chromium and reports console errors, page errors and outside
 * requests.
 */
export async function loadInChromium(file: string): Promise<PageLoad> {
  return withChromium(async (browser) => {
    const page = await browser.newPage();
    const load: PageLoad = { consoleErrors: [], pageErrors: [], externalRequests: [], title: '', svgCount: 0 };
    const url = `file://${file}`;
    page.on('console', (message) => {
      if (message.type() === 'error') load.consoleErrors.push(message.text());
    });
    page.on('pageerror', (error) => load.pageErrors.push(error.message));
    page.on('request', (request) => {
      if (request.url() !== url) load.externalRequests.push(request.url());
    });
    await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
    return { ...load, title: await page.title(), svgCount: await page.locator('svg').count() };
  });
}

/** What a screenshot saw: the page's text as rendered, and its size. */
export interface PageScreenshot {
  /** `document.body.innerText`: the text a reader sees, as laid out. */
  readonly text: string;
  /** Width of the page's content: wider than the viewport means a horizontal scroll bar. */
  readonly scrollWidth: number;
  readonly height: number;
}

/** Opens a local HTML file at `width` CSS pixels and writes a full-page PNG of it to `png`. */
export async function screenshotInChromium(file: string, png: string, width: number): Promise<PageScreenshot> {
  return withChromium(async (browser) => {
    const page = await browser.newPage();
    await page.setViewportSize({ width, height: 900 });
    await page.goto(`file://${file}`, { waitUntil: 'load', timeout: 30_000 });
    await page.screenshot({ path: png, fullPage: true });
    // A string, evaluated in the page: the project's types have no DOM.
    const [text, scrollWidth, height] = await page.evaluate<[string, number, number]>(
      '[document.body.innerText, document.documentElement.scrollWidth, document.documentElement.scrollHeight]',
    );
    return { text, scrollWidth, height };
  });
}
