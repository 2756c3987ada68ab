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

/**
 * Opens a local HTML file in headless Chromium (driven by playwright-core, no downloaded browser)
 * and reports console errors, page errors and outside requests.
 */
export async function loadInChromium(file: string): Promise<PageLoad> {
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
  } finally {
    await browser.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
