/**
 * Two pages in headless Chromium (Debian's chromium, driven by playwright-core) chat through the
 * local cloud; an HTML-injection attempt renders as text.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalCloud, type LocalEndpoints } from '../../local/cloud';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

describe('the chat page in a real browser', () => {
  let cloud: LocalCloud;
  let endpoints: LocalEndpoints;
  let browser: Browser;
  let dataDir: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: install Debian's chromium package (CI does) or set CHROMIUM_PATH`);
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'browser-cloud-'));
    cloud = new LocalCloud({ dataDir, buildDir: path.join(dataDir, 'dist'), ports: { page: 0, gateway: 0, cos: 0, cloudApi: 0 }, log: () => {} });
    endpoints = await cloud.start();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      // No sandbox as root; no background traffic on a machine without network.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await cloud?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }, 60_000);

  async function openChat(): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(endpoints.pageUrl);
    await page.locator('#state[data-state="open"]').waitFor({ timeout: 20_000 });
    return page;
  }

  async function send(page: Page, text: string): Promise<void> {
    await page.fill('#message', text);
    await page.click('#send');
  }

  it('lets two pages chat, showing sender, time and the online count', async () => {
    const alice = await openChat();
    const bob = await openChat();
    // Retry until bob's registration is visible to alice's transport.
    await expect
      .poll(
        async () => {
          await send(alice, 'hi bob');
          return bob.locator('.msg:not(.mine) .text', { hasText: 'hi bob' }).count();
        },
        { timeout: 20_000, interval: 750 },
      )
      .toBeGreaterThan(0);
    await expect.poll(() => bob.locator('#online').getAttribute('data-count')).toBe('2');
    const meta = await bob.locator('.msg:not(.mine) .meta').first().textContent();
    expect(meta).toMatch(/^[A-Za-z0-9_-]{8} · \d{1,2}:\d{2}:\d{2}/);
    await send(bob, 'hello alice');
    await alice.locator('.msg:not(.mine) .text', { hasText: 'hello alice' }).waitFor({ timeout: 10_000 });
    expect(await alice.locator('.msg.mine .text').first().textContent()).toBe('hi bob');
    await alice.screenshot({ path: path.join(dataDir, 'alice.png') });
    await Promise.all([alice.close(), bob.close()]);
  });

  it('renders an HTML-injection attempt as text', async () => {
    const alice = await openChat();
    const bob = await openChat();
    const attack = '<img src=x onerror="window.__pwned=1"><b id="injected">bold</b>';
    await expect
      .poll(
        async () => {
          await send(alice, attack);
          return bob.locator('.msg:not(.mine) .text', { hasText: 'onerror' }).count();
        },
        { timeout: 20_000, interval: 750 },
      )
      .toBeGreaterThan(0);
    expect(await bob.locator('.msg:not(.mine) .text').first().textContent()).toBe(attack);
    expect(await bob.locator('#injected').count()).toBe(0);
    expect(await bob.locator('main img').count()).toBe(0);
    expect(await bob.evaluate('window.__pwned')).toBeUndefined();
    await Promise.all([alice.close(), bob.close()]);
  });

  it('reconnects with backoff after the gateway closes the connection', async () => {
    const page = await openChat();
    // A frame over 256 KB (100,000 three-byte characters): the gateway closes the socket with 1009.
    await page.fill('#message', '€'.repeat(100_000));
    await page.click('#send');
    await page.locator('.system', { hasText: 'disconnected (1009' }).waitFor({ timeout: 10_000 });
    await page.locator('#state[data-state="open"]').waitFor({ timeout: 20_000 });
    expect(await page.locator('.system', { hasText: /^connected$/ }).count()).toBe(2);
    await page.close();
  });
});
