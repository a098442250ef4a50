// Drives the Hub in headless Chromium like an operator would:
//   node hub.test.js URL TOKEN_FILE FOLDER SCREENSHOT
// Logs in, searches, adds a file source over FOLDER, runs it, sees the
// jobs succeed and the source's documents counted, searches the new
// content, and fails (exit 1) at the first thing that does not happen.
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');

const [url, tokenFile, folder, shot] = process.argv.slice(2);

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
  // Every wait is on a condition; the bound only turns a hang into a failure,
  // and is long because the machine running the suite may be busy.
  page.setDefaultTimeout(120000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  try {
    await page.goto(url);
    // A wrong token is refused with a message, and nothing else shows.
    await page.fill('#token', 'cc_notavalidtoken');
    await page.click('#login-form button');
    await page.waitForFunction(() => document.querySelector('#login-error').textContent.length > 0);
    if (!(await page.isHidden('#app'))) throw new Error('app visible with a bad token');
    errors.length = 0;   /* the refused login logs its 401; anything later is a bug */

    await page.fill('#token', fs.readFileSync(tokenFile, 'utf8').trim());
    await page.click('#login-form button');
    await page.waitForSelector('#app:not([hidden])');
    await page.waitForFunction(() => document.querySelector('#ready').textContent === 'ready');
    await page.waitForFunction(() => /sqlite/.test(document.querySelector('#status').textContent));
    // The firing alert Alertmanager delivered is listed, with its summary.
    await page.waitForFunction(() => /CCServiceDown/.test(document.querySelector('#alerts').textContent) &&
                               /demo\/web is down/.test(document.querySelector('#alerts').textContent) &&
                               document.querySelector('#alerts-count').textContent === '1 firing');

    // Add a file source through the form and run it.
    await page.fill('#source-name', 'hub-folder');
    await page.fill('#source-path', folder);
    await page.fill('#source-priority', '9');
    await page.click('#source-form button');
    const row = page.locator('#sources tr', { hasText: 'hub-folder' });
    await row.waitFor({});
    await row.locator('button', { hasText: 'Run now' }).click();
    // Jobs appear and succeed; the source counts its documents.
    await page.waitForFunction(() => /succeeded [1-9]/.test(document.querySelector('#job-counts').textContent),
                               null);
    await page.waitForFunction(() => {
      for (const tr of document.querySelectorAll('#sources tr')) {
        const td = [...tr.querySelectorAll('td')].map((c) => c.textContent.trim());
        if (td[0] === 'hub-folder' && td[6] === 'ok' && td[7] === '2') return true;
      }
      return false;
    }, null);

    // Search finds the new passage with the match highlighted.
    await page.fill('#search-q', 'zeppelin');
    await page.click('#search-form button');
    await page.waitForSelector('#search-results li mark');
    const first = await page.textContent('#search-results li');
    if (!/hub-folder/.test(first)) throw new Error('first result is not from hub-folder: ' + first);

    // Pause flips the state.
    await row.locator('button', { hasText: 'Pause' }).click();
    await page.waitForFunction(() => {
      for (const tr of document.querySelectorAll('#sources tr'))
        if (tr.textContent.includes('hub-folder') && tr.textContent.includes('paused')) return true;
      return false;
    }, null);

    if (errors.length) throw new Error('errors in the page: ' + errors.join(' | '));
    await page.screenshot({ path: shot, fullPage: true });
    console.log('hub ok');
  } catch (e) {
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error('hub test failed:', e.message); process.exit(1); });
