// Drives the Hub's orchestration views in headless Chromium:
//   node hub_projects.test.js URL TOKEN_FILE PROJECT SCREENSHOT READ_TOKEN
// PROJECT is registered and down, with services `web` (HTTP probe, limits)
// and `talker` (a line every 200 ms, every fifth on stderr). Presses Up, sees
// the services turn healthy with resource bars, follows talker's log, presses
// Restart, sees service.restarted arrive live in the events table and the
// restarted instance's lines in the same log stream, presses Down. Exits 1 at
// the first thing that does not happen. With READ_TOKEN (read scope) the
// same buttons answer with the API's refusal, shown in the page.
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');

const [url, tokenFile, project, shot, readToken] = process.argv.slice(2);

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
           '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
  // Every wait is on a condition; the bound only turns a hang into a failure,
  // and is long because the machine running the suite may be busy.
  page.setDefaultTimeout(120000);
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  const dialogs = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.accept().catch(() => {}); });
  const proj = `section.project[data-project="${project}"]`;
  const row = (svc) => `${proj} tr[data-service="${svc}"]`;
  const text = (sel) => page.$eval(sel, (e) => e.textContent);
  let stage = 'start';
  // The first event stream request fails: the Hub must say so and reconnect
  // with Last-Event-ID.
  const sse = [];
  page.on('request', (r) => {
    if (r.url().endsWith('/api/v1/events') && r.headers()['accept'] === 'text/event-stream')
      sse.push(r.headers()['last-event-id']);
  });
  let failed = 0;
  // The "reconnecting in 1 s" notice lasts a second; on a loaded machine a
  // poll can miss it, so an observer set before the page's scripts run
  // remembers that it was shown.
  await page.addInitScript(() => {
    document.addEventListener('DOMContentLoaded', () => {
      const el = document.querySelector('#events-error');
      new MutationObserver(() => {
        if (/reconnecting in/.test(el.textContent)) window.__sawReconnect = true;
      }).observe(el, { childList: true, characterData: true, subtree: true });
    });
  });
  await page.route('**/api/v1/events', (route) => {
    if (route.request().headers()['accept'] === 'text/event-stream' && failed++ === 0) return route.abort();
    return route.continue();
  });
  try {
    stage = 'login';
    await page.goto(url);
    await page.fill('#token', fs.readFileSync(tokenFile, 'utf8').trim());
    await page.click('#login-form button');
    await page.waitForSelector('#app:not([hidden])');

    // The registered project is listed, down, with its driver.
    await page.waitForSelector(proj);
    await page.waitForFunction((p) => document.querySelector(p + ' .project-head .pill.state').textContent === 'down',
                               proj);
    if (!/process/.test(await text(proj + ' .project-head .muted'))) throw new Error('driver not shown');
    // The event stream is connected (after one failed attempt) before anything happens.
    stage = 'event stream reconnect';
    await page.waitForFunction(() => window.__sawReconnect === true, null);
    await page.waitForFunction(() => document.querySelector('#events-live').textContent === 'live',
                               null);
    await page.unroute('**/api/v1/events');
    if (await text('#events-error')) throw new Error('events error still shown: ' + (await text('#events-error')));
    if (sse.length < 2 || !/^\d+$/.test(sse[1] || '')) throw new Error('no reconnect with Last-Event-ID: ' + JSON.stringify(sse));
    errors.length = 0;   /* the aborted request is logged; anything later is a bug */

    stage = 'up and healthy';
    // Up: both services come up, web's probe passes.
    await page.click(proj + ' .project-head button:has-text("Up")');
    await page.waitForFunction((r) => {
      const w = document.querySelector(r + '[data-service="web"] .pill');
      const t = document.querySelector(r + '[data-service="talker"] .pill');
      const b = document.querySelector(r + '[data-service="burst"] .pill');
      return w && t && b && w.textContent === 'healthy' && w.classList.contains('ok') &&
             t.textContent === 'running' && b.textContent === 'running';
    }, proj + ' tr');
    await page.waitForFunction((p) => document.querySelector(p + ' .project-head .pill.ready').textContent === 'ready',
                               proj);
    const probe = await page.getAttribute(row('web') + ' td.probe', 'title');
    if (!/probe: x-commandcenter/.test(probe) || !/ok \(200\)/.test(probe)) throw new Error('probe outputs not shown: ' + probe);

    stage = 'resource bars';
    // Resource bars: web's limits are the meters' maxima.
    await page.waitForFunction((r) => {
      const bars = document.querySelectorAll(r + ' .bar');
      if (bars.length !== 3) return false;
      const [cpu, mem, pids] = [...bars].map((b) => ({ m: b.querySelector('meter'), t: b.querySelector('.bar-text').textContent }));
      return /% of 0\.5 CPU$/.test(cpu.t) && cpu.m.max === 50 &&
             /\/ 64\.0 MiB$/.test(mem.t) && !mem.m.hidden && mem.m.value > 0 && mem.m.max === 64 * 1048576 &&
             /^[1-9]\d* \/ 32$/.test(pids.t) && pids.m.max === 32;
    }, row('web'));
    const enforcedTag = await page.isVisible(row('web') + ' .tag');
    console.log('web limits ' + (enforcedTag ? 'not enforced' : 'enforced') + ': ' +
                (await text(row('web') + ' td:nth-child(6)')));

    stage = 'log follow';
    // The log viewer follows talker: lines arrive, stderr styled apart.
    if (!(await page.isChecked('#logs-follow'))) throw new Error('follow is not on by default');
    await page.click(row('talker') + ' button:has-text("Logs")');
    await page.waitForFunction(() => /^Following hubdemo\/talker/.test(document.querySelector('#logs-status').textContent),
                               null);
    const ticks = () => page.$$eval('#logs div', (ds) => ds.filter((d) => /tick \d+$/.test(d.textContent)).length);
    await page.waitForFunction(() => document.querySelectorAll('#logs div').length >= 3, null);
    const before = await ticks();
    await page.waitForFunction((n) => [...document.querySelectorAll('#logs div')]
      .filter((d) => /tick \d+$/.test(d.textContent)).length >= n + 5, before);
    await page.waitForSelector('#logs div.stderr');
    if (!/warn \d+$/.test(await text('#logs div.stderr'))) throw new Error('stderr line not styled apart');
    if (await page.$('#logs div.stdout:has-text("warn")')) throw new Error('a stderr line styled as stdout');
    const startedBefore = await page.$$eval('#logs div', (ds) => ds.filter((d) => /started \d+$/.test(d.textContent)).length);

    stage = 'restart';
    // Restart (confirmed): service.restarted arrives live, the stream carries the new instance.
    const eventsBefore = await page.$$eval('#events tr', (rs) => rs.length);
    await page.click(row('talker') + ' button:has-text("Restart")');
    if (!dialogs.some((m) => /Restart talker of project hubdemo/.test(m))) throw new Error('no confirmation asked: ' + dialogs);
    await page.waitForFunction(() => {
      const tr = document.querySelector('#events tr');
      return [...document.querySelectorAll('#events tr')].some((r) => {
        const td = [...r.querySelectorAll('td')].map((c) => c.textContent);
        return td[2] === 'service.restarted' && td[3] === 'hubdemo' && td[4] === 'talker';
      }) && tr !== null;
    }, null);
    if ((await page.$$eval('#events tr', (rs) => rs.length)) <= eventsBefore) throw new Error('events table did not grow');
    // newest on top
    const ids = await page.$$eval('#events tr td:first-child', (cs) => cs.map((c) => Number(c.textContent)));
    for (let i = 1; i < ids.length; i++) if (ids[i] >= ids[i - 1]) throw new Error('events not newest first: ' + ids.slice(0, 10));
    await page.waitForFunction((n) => [...document.querySelectorAll('#logs div')]
      .filter((d) => /started \d+$/.test(d.textContent)).length > n, startedBefore);
    await page.waitForFunction(() => {
      const ds = [...document.querySelectorAll('#logs div')];
      let seen = -1;
      ds.forEach((d, i) => { if (/started \d+$/.test(d.textContent)) seen = i; });
      return seen >= 0 && ds.slice(seen + 1).some((d) => /tick \d+$/.test(d.textContent));
    }, null);
    if (!/^Following/.test(await text('#logs-status'))) throw new Error('follow stopped at the restart');
    await page.waitForFunction((r) => document.querySelector(r + ' .pill').textContent === 'running',
                               row('talker'));

    stage = 'stop follow';
    // Stop aborts the follow: no more lines.
    await page.click('#logs-stop');
    await page.waitForFunction(() => document.querySelector('#logs-status').textContent === 'Stopped.');
    const n1 = await page.$$eval('#logs div', (ds) => ds.length);
    await page.waitForTimeout(800);
    if ((await page.$$eval('#logs div', (ds) => ds.length)) !== n1) throw new Error('lines arrived after Stop');

    await page.screenshot({ path: shot, fullPage: true });

    stage = 'bounded log buffer';
    // A fast writer: the viewer keeps at most 2,000 lines and stays scrolled to the newest.
    await page.click(row('burst') + ' button:has-text("Logs")');
    await page.waitForFunction(() => /^Following hubdemo\/burst/.test(document.querySelector('#logs-status').textContent),
                               null);
    let most = 0;
    const t0 = Date.now();
    for (;;) {
      const st = await page.$eval('#logs', (b) => ({ n: b.childElementCount, last: b.lastElementChild && b.lastElementChild.textContent,
        first: b.firstElementChild && b.firstElementChild.textContent, gap: b.scrollHeight - b.scrollTop - b.clientHeight }));
      most = Math.max(most, st.n);
      if (st.n > 2000) throw new Error('the log viewer holds ' + st.n + ' lines');
      if (st.n === 2000 && /burst \d+\.\d+$/.test(st.last) && st.gap < 30 && st.first !== st.last) break;
      if (Date.now() - t0 > 120000) throw new Error('log buffer never filled and stayed at the bottom: ' + JSON.stringify(st));
      await page.waitForTimeout(250);
    }
    await page.click('#logs-stop');

    stage = 'down';
    // Down (confirmed): the project is down, services stopped.
    await page.click(proj + ' .project-head button:has-text("Down")');
    await page.waitForFunction((p) => document.querySelector(p + ' .project-head .pill.state').textContent === 'down',
                               proj);
    await page.waitForFunction((r) => [...document.querySelectorAll(r)].every((t) => t.querySelector('.pill').textContent === 'stopped'),
                               proj + ' tbody tr');
    if (errors.length) throw new Error('errors in the page: ' + errors.join(' | '));

    stage = 'read-only token';
    // A read token sees everything; Up is refused visibly, nothing thrown.
    await page.click('#logout');
    await page.fill('#token', readToken);
    await page.click('#login-form button');
    await page.waitForSelector(proj + ' .project-head button:has-text("Up")', { state: 'visible' });
    await page.click(proj + ' .project-head button:has-text("Up")');
    await page.waitForFunction((p) => /admin scope/.test(document.querySelector(p + ' > p.error.action').textContent),
                               proj);
    // The refusal stays through the next refreshes (every 2 s) until dismissed.
    await page.waitForTimeout(2500);
    if (!/admin scope/.test(await text(proj + ' > p.error.action'))) throw new Error('the refusal was wiped by a refresh');
    await page.click(proj + ' > p.error.action button:has-text("Dismiss")');
    await page.waitForSelector(proj + ' > p.error.action', { state: 'hidden' });
    if ((await text(proj + ' .project-head .pill.state')) !== 'down') throw new Error('a read token started the project');
    const pageErrors = errors.filter((m) => !/status of 403/.test(m));
    if (pageErrors.length) throw new Error('errors in the page: ' + pageErrors.join(' | '));
    console.log('hub projects ok');
  } catch (e) {
    e.message = 'at "' + stage + '": ' + e.message;
    await page.screenshot({ path: shot, fullPage: true }).catch(() => {});
    throw e;
  } finally {
    await browser.close();
  }
}

main().catch((e) => { console.error('hub projects test failed:', e.message); process.exit(1); });
