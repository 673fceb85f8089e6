// End to end in Debian's headless Chromium: web/demo/index.html, served from one origin, shows the
// count that web/counter.js fetches from the real footfall on another origin; a page on an origin
// that footfall does not allow is refused by the browser's CORS check and records nothing; Do Not
// Track, Global Privacy Control, the back/forward cache and prerendering never record a visit that
// should not be. Run by run.sh (ctest -L browser); needs FOOTFALL_BIN, /usr/bin/chromium, python3.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';

import {
  HEADLESS_USER_AGENT, WEB_ROOT, decodePng, demoHtml, launchChromium, pictureStats, readTotal, readVisits,
  startFootfall, startStaticServer, tempDir, waitFor, shutDown,
} from './harness.mjs';

const DEMO = '/demo/index.html';
const DASHBOARD_TOKEN = 'dashboard-token';
// Asserting that something did NOT happen (a second visit after a bfcache restore) needs the
// browser a moment in which it could have happened; everything else polls a condition.
const SETTLE_MS = 500;

let tmp;
let dbPath;
let artifacts;
let pageSite;     // the allowed origin: http://127.0.0.1:PAGEPORT
let refusedSite;  // an origin footfall does not allow
let footfall;
let chromium;     // the shared browser; each test opens its own context

before(async () => {
  tmp = tempDir('footfall-browser-');
  dbPath = path.join(tmp, 'db');
  // The screenshot is kept only where FOOTFALL_BROWSER_ARTIFACTS says (ctest sets it).
  artifacts = process.env.FOOTFALL_BROWSER_ARTIFACTS || path.join(tmp, 'artifacts');
  fs.mkdirSync(artifacts, { recursive: true });
  pageSite = await startStaticServer();
  refusedSite = await startStaticServer();
  footfall = await startFootfall({ dbPath, allowedOrigins: [pageSite.origin],
                                  extraArgs: ['--stats-token', DASHBOARD_TOKEN] });
  pageSite.footfall = refusedSite.footfall = footfall.base;
  chromium = await launchChromium();
});

after(() => shutDown({ chromium, footfall, sites: [pageSite, refusedSite], tmp }));

// Opens a page in a fresh context and records what it says and sends: console messages, page
// errors, and its requests to footfall with their headers, answers and failures.
async function openPage(browser, { init, userAgent } = {}) {
  const context = await browser.newContext(userAgent ? { userAgent } : {});
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  const seen = { console: [], errors: [], requests: [], failures: [], responses: [] };
  page.on('console', (message) => seen.console.push({ type: message.type(), text: message.text() }));
  page.on('pageerror', (error) => seen.errors.push(error.message));
  page.on('request', async (request) => {
    if (!request.url().startsWith(footfall.base)) return;
    const entry = { url: new URL(request.url()), headers: null };
    seen.requests.push(entry);
    entry.headers = await request.allHeaders();
  });
  page.on('requestfailed', (request) => {
    if (request.url().startsWith(footfall.base)) seen.failures.push(request.failure()?.errorText);
  });
  page.on('response', async (response) => {
    if (!response.url().startsWith(footfall.base)) return;
    seen.responses.push({ status: response.status(), headers: await response.allHeaders() });
  });
  seen.snippetMessages = () => seen.console.filter((m) => m.text.startsWith('footfall:'));
  return { context, page, seen };
}

const shownCount = (page) => page.evaluate(() => document.querySelector('#visits').textContent);

async function waitForCount(page, expected) {
  await waitFor(async () => (await shownCount(page)) !== '', { what: 'the count to appear in #visits' });
  assert.equal(await shownCount(page), String(expected));
  assert.equal(await page.locator('footer .count').innerText(), `${expected} visitors`);
}

function newRows(rowsBefore) {
  return readVisits(dbPath).slice(rowsBefore);
}

async function deadPort() {
  const server = http.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

for (const snippet of ['counter.min.js', 'counter.js']) {
  describe(`web/${snippet}`, () => {
    before(() => {
      pageSite.snippet = refusedSite.snippet = snippet;
    });

    it('shows the count from footfall on another origin, 1 more on each load, and records the path', async () => {
      const total = await readTotal(footfall.base);
      if (snippet === 'counter.min.js') assert.equal(total, 0, 'the first test starts on an empty store');
      const rows = readVisits(dbPath).length;
      const { context, page, seen } = await openPage(chromium.browser);
      try {
        await page.goto(pageSite.origin + DEMO);
        await waitForCount(page, total + 1);
        assert.equal(await readTotal(footfall.base), total + 1);
        assert.deepEqual(newRows(rows).map(({ path, site, referrer }) => ({ path, site, referrer })),
                         [{ path: DEMO, site: '127.0.0.1', referrer: '' }]);
        assert.match(newRows(rows)[0].user_agent, / Chrome\/\d/);

        await page.reload();
        await waitForCount(page, total + 2);
        assert.equal(await readTotal(footfall.base), total + 2);
        assert.deepEqual(newRows(rows).map((r) => r.path), [DEMO, DEMO]);

        // Two GETs of /count with the page path, the page's Origin, no cookie, no Referer.
        await waitFor(() => seen.requests.length === 2 && seen.requests.every((r) => r.headers) &&
                            seen.responses.length === 2, { what: 'both requests to be seen' });
        for (const { url, headers } of seen.requests) {
          assert.equal(url.pathname, '/count');
          assert.equal(url.searchParams.get('path'), DEMO);
          assert.equal(url.searchParams.has('ref'), false, 'no referrer on a direct visit');
          assert.equal(headers.origin, pageSite.origin);
          assert.equal(headers.cookie, undefined);
          assert.equal(headers.referer, undefined);
        }
        for (const { status, headers } of seen.responses) {
          assert.equal(status, 200);
          assert.equal(headers['access-control-allow-origin'], pageSite.origin);
        }
        assert.equal(footfall.requests('/count', 200).length >= 2, true);

        // Nothing is kept on the device, and the snippet said nothing.
        assert.deepEqual(await page.evaluate(() => [document.cookie, localStorage.length,
                                                    sessionStorage.length]), ['', 0, 0]);
        assert.deepEqual(await context.cookies(), []);
        assert.deepEqual(seen.snippetMessages(), []);
        assert.deepEqual(seen.errors, []);
      } finally {
        await context.close();
      }
    });

    it('without data-target it records the visit with sendBeacon (POST /api/event, no preflight)', async () => {
      const total = await readTotal(footfall.base);
      const rows = readVisits(dbPath).length;
      pageSite.pages.set('/beacon.html', `<!doctype html><title>beacon</title>
        <script src="/${snippet}" data-footfall="${footfall.base}"></script>`);
      const { context, page, seen } = await openPage(chromium.browser);
      try {
        await page.goto(pageSite.origin + '/beacon.html');
        await waitFor(async () => (await readTotal(footfall.base)) === total + 1,
                      { what: 'the beacon to be recorded' });
        assert.deepEqual(newRows(rows).map(({ path, site }) => ({ path, site })),
                         [{ path: '/beacon.html', site: '127.0.0.1' }]);
        await waitFor(() => seen.requests.length === 1 && seen.requests[0].headers, { what: 'the beacon request' });
        const [{ url, headers }] = seen.requests;
        assert.equal(url.pathname, '/api/event');
        assert.match(headers['content-type'], /^text\/plain/);
        await waitFor(() => footfall.requests('/api/event', 202).length >= 1,
                      { what: 'footfall to log its 202' });
        assert.equal(footfall.requests('/api/event', 204).length, 0, 'no CORS preflight');
        assert.deepEqual(seen.errors, []);
      } finally {
        await context.close();
        pageSite.pages.delete('/beacon.html');
      }
    });

    it('on an origin footfall does not allow, the browser refuses the answer and nothing is recorded', async () => {
      const total = await readTotal(footfall.base);
      const rows = readVisits(dbPath).length;
      const refusals = footfall.requests('/count', 403).length;
      const { context, page, seen } = await openPage(chromium.browser);
      try {
        await page.goto(refusedSite.origin + DEMO);
        await waitFor(() => seen.snippetMessages().length > 0, { what: "the snippet's console.debug" });
        await waitFor(() => footfall.requests('/count', 403).length === refusals + 1,
                      { what: 'footfall to log its 403' });
        // The browser's own CORS check failed the fetch (footfall sent no ACAO).
        assert.ok(seen.console.some((m) => m.type === 'error' && /blocked by CORS policy/.test(m.text)),
                  `Chromium reported the CORS refusal: ${JSON.stringify(seen.console)}`);
        await waitFor(() => seen.failures.length === 1, { what: 'the request to fail' });
        assert.deepEqual(seen.snippetMessages(), [{ type: 'debug', text: 'footfall: no count: Failed to fetch' }]);
        // (Chromium reports only provisional headers for a refused request; footfall's 403 shows
        // that it got the disallowed Origin.)
        assert.deepEqual(seen.requests.map((r) => r.url.pathname), ['/count']);
        // The page shows no count: #visits is empty and its line hidden.
        assert.equal(await shownCount(page), '');
        assert.equal(await page.locator('footer .count').isVisible(), false);
        assert.deepEqual(seen.errors, []);
        // footfall wrote nothing.
        assert.equal(await readTotal(footfall.base), total);
        assert.deepEqual(newRows(rows), []);
      } finally {
        await context.close();
      }
    });

    it('when footfall is unreachable, the page is left as it was with one console.debug line', async () => {
      const saved = pageSite.footfall;
      pageSite.footfall = `http://127.0.0.1:${await deadPort()}`;
      const { context, page, seen } = await openPage(chromium.browser);
      try {
        await page.goto(pageSite.origin + DEMO);
        await waitFor(() => seen.console.some((m) => m.text.startsWith('footfall:')),
                      { what: "the snippet's console.debug" });
        assert.deepEqual(seen.snippetMessages(), [{ type: 'debug', text: 'footfall: no count: Failed to fetch' }]);
        assert.equal(await shownCount(page), '');
        assert.equal(await page.locator('footer .count').isVisible(), false);
        assert.deepEqual(seen.errors, []);
      } finally {
        pageSite.footfall = saved;
        await context.close();
      }
    });

    it('a visit from another site records only the referrer host', async () => {
      const rows = readVisits(dbPath).length;
      const total = await readTotal(footfall.base);
      // "localhost" is another site than 127.0.0.1 (footfall drops referrers from the page's own host).
      const elsewhere = `http://localhost:${refusedSite.port}`;
      refusedSite.pages.set('/links.html', `<!doctype html><a id="go" href="${pageSite.origin}${DEMO}">résumé</a>`);
      const { context, page, seen } = await openPage(chromium.browser);
      try {
        await page.goto(`${elsewhere}/links.html`);
        await Promise.all([page.waitForURL(pageSite.origin + DEMO), page.click('#go')]);
        await waitForCount(page, total + 1);
        assert.equal(await page.evaluate(() => document.referrer), `${elsewhere}/`);
        await waitFor(() => seen.requests.length === 1, { what: 'the request' });
        assert.equal(seen.requests[0].url.searchParams.get('ref'), elsewhere, 'only the origin is sent');
        assert.deepEqual(newRows(rows).map(({ path, referrer }) => ({ path, referrer })),
                         [{ path: DEMO, referrer: 'localhost' }]);
      } finally {
        await context.close();
      }
    });

    it('a page restored from the back/forward cache is not counted again', async () => {
      const total = await readTotal(footfall.base);
      pageSite.pages.set('/away.html', '<!doctype html><title>away</title><p>another page');
      const { context, page, seen } = await openPage(chromium.browser, {
        init: () => {
          window.pageshows = [];
          addEventListener('pageshow', (event) => window.pageshows.push(event.persisted));
        },
      });
      try {
        await page.goto(pageSite.origin + DEMO);
        await waitForCount(page, total + 1);
        await page.goto(pageSite.origin + '/away.html');
        await page.goBack({ waitUntil: 'commit' });
        await waitFor(() => page.evaluate(() => window.pageshows?.includes(true)).catch(() => false), {
          what: 'the demo page to be restored from the back/forward cache',
        }).catch(async (error) => {
          const reasons = await page.evaluate(() =>
            JSON.stringify(performance.getEntriesByType('navigation')[0]?.notRestoredReasons)).catch(() => '?');
          throw new Error(`${error.message}; notRestoredReasons: ${reasons}`);
        });
        await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
        assert.equal(await shownCount(page), String(total + 1), 'the restored page keeps its count');
        assert.equal(seen.requests.length, 1, 'one request to footfall in all');
        assert.equal(await readTotal(footfall.base), total + 1);
        assert.deepEqual(seen.snippetMessages(), []);
      } finally {
        await context.close();
      }
    });

    it('a headless browser (by its user agent) sees the count but is not recorded', async () => {
      const total = await readTotal(footfall.base);
      const rows = readVisits(dbPath).length;
      const { context, page, seen } = await openPage(chromium.browser, { userAgent: HEADLESS_USER_AGENT });
      try {
        await page.goto(pageSite.origin + DEMO);
        await waitForCount(page, total);
        await waitFor(() => seen.requests.length > 0, { what: 'the request' });
        assert.deepEqual(seen.requests.map((r) => r.url.pathname), ['/count']);
        assert.equal(await readTotal(footfall.base), total);
        assert.deepEqual(newRows(rows), []);
      } finally {
        await context.close();
      }
    });

    it('with Global Privacy Control the count is read from /api/count and nothing is recorded', async () => {
      const total = await readTotal(footfall.base);
      const rows = readVisits(dbPath).length;
      // Chromium has no GPC setting: define the property as Firefox and Brave do.
      const { context, page, seen } = await openPage(chromium.browser, {
        init: () => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl',
                                          { get: () => true, configurable: true }),
      });
      try {
        await page.goto(pageSite.origin + DEMO);
        await waitForCount(page, total);
        await waitFor(() => seen.requests.length > 0, { what: 'the request' });
        assert.deepEqual(seen.requests.map((r) => r.url.pathname + r.url.search), ['/api/count']);
        assert.equal(await readTotal(footfall.base), total);
        assert.deepEqual(newRows(rows), []);
      } finally {
        await context.close();
      }
    });
  });
}

describe('web/demo/index.html', () => {
  before(() => {
    pageSite.snippet = refusedSite.snippet = 'counter.min.js';
  });

  it('renders a résumé with its count (screenshot is not blank)', async () => {
    const total = await readTotal(footfall.base);
    const { context, page } = await openPage(chromium.browser);
    try {
      await page.goto(pageSite.origin + DEMO);
      await waitForCount(page, total + 1);
      assert.equal(await page.title(), 'Ada Example — Site Reliability Engineer');
      assert.ok(await page.locator('#visits').isVisible());
      const file = path.join(artifacts, 'demo.png');
      await page.screenshot({ path: file, fullPage: true });
      const stats = pictureStats(decodePng(fs.readFileSync(file)));
      console.log(`# screenshot ${file}: ${JSON.stringify(stats)}`);
      assert.ok(stats.width >= 800 && stats.height >= 600, `size ${stats.width}x${stats.height}`);
      assert.ok(stats.colours >= 64, `only ${stats.colours} colours: blank?`);
      assert.ok(stats.darkShare > 0.005 && stats.darkShare < 0.5, `dark share ${stats.darkShare}`);
      // The count line itself has text in it.
      const line = pictureStats(decodePng(await page.locator('footer .count').screenshot()));
      assert.ok(line.colours >= 8 && line.darkShare > 0.02, `count line ${JSON.stringify(line)}`);
    } finally {
      await context.close();
    }
  });

  it('with Do Not Track on in the browser, the count is read from /api/count and nothing is recorded', async () => {
    const total = await readTotal(footfall.base);
    const rows = readVisits(dbPath).length;
    const dnt = await launchChromium({ prefs: { enable_do_not_track: true } });
    try {
      const { page, seen } = await openPage(dnt.browser);
      await page.goto(pageSite.origin + DEMO);
      assert.equal(await page.evaluate(() => navigator.doNotTrack), '1');
      await waitForCount(page, total);
      await waitFor(() => seen.requests.length > 0, { what: 'the request' });
      assert.deepEqual(seen.requests.map((r) => r.url.pathname + r.url.search), ['/api/count']);
      assert.equal(await readTotal(footfall.base), total);
      assert.deepEqual(newRows(rows), []);
    } finally {
      await dnt.close();
    }
  });

  it('a prerendered page records its visit only when it is shown', async () => {
    // DevTools turns prerendering off, so this Chromium runs unattached: the pages report to the
    // static server. The initiator prerenders the demo, waits until the prerendered page has run
    // counter.js (the probe fires on DOMContentLoaded, after deferred scripts), notes the total,
    // and only then navigates, which activates the prerendered page.
    const total = await readTotal(footfall.base);
    const rows = readVisits(dbPath).length;
    const target = '/demo/prerendered.html';
    let totalAtActivation = null;
    pageSite.pages.set(target, demoHtml(pageSite,
        "<script>addEventListener('DOMContentLoaded', () => fetch('/probe?prerendering=' + document.prerendering))</script>"));
    pageSite.pages.set('/start.html', `<!doctype html>
<script type="speculationrules">{"prerender": [{"source": "list", "urls": ["${target}"], "eagerness": "immediate"}]}</script>
<script>fetch('/wait-for-probe').then(() => fetch('/activating')).then(() => { location.href = '${target}'; });</script>`);
    pageSite.hooks.set('/wait-for-probe', () =>
      waitFor(() => pageSite.log.some((r) => r.path === '/probe'), { ms: 10_000, what: 'the probe' }).catch(() => {}));
    pageSite.hooks.set('/activating', async () => { totalAtActivation = await readTotal(footfall.base); });
    pageSite.hooks.set('/probe', () => {});
    const firstLog = pageSite.log.length;
    const firstCount = footfall.requests('/count').length;
    const browser = await launchChromium({ cdp: false, url: pageSite.origin + '/start.html' });
    try {
      await waitFor(async () => (await readTotal(footfall.base)) === total + 1,
                    { ms: 15_000, what: 'the visit to be recorded after activation' });
    } catch (error) {
      // A /count sent while prerendering carries Sec-Purpose: prefetch, which footfall drops.
      throw new Error(`${error.message}\nfootfall's /count log: ${
          JSON.stringify(footfall.requests('/count').slice(firstCount))}\npages served: ${
          JSON.stringify(pageSite.log.slice(firstLog))}`);
    } finally {
      await browser.close();
    }
    const log = pageSite.log.slice(firstLog);
    const loads = log.filter((r) => r.path === target);
    assert.deepEqual(loads.map((r) => r.purpose), ['prefetch;prerender'],
                     `the page was loaded once, as a prerender: ${JSON.stringify(log)}`);
    assert.deepEqual(log.filter((r) => r.path === '/probe').map((r) => r.query), ['?prerendering=true'],
                     'counter.js ran while the page was prerendering');
    assert.equal(totalAtActivation, total, 'nothing was recorded before activation');
    assert.equal(await readTotal(footfall.base), total + 1);
    assert.deepEqual(newRows(rows).map((r) => r.path), [target]);
  });

  it('web/counter.min.js is at most 1.5 KB gzipped', () => {
    const bytes = fs.readFileSync(path.join(WEB_ROOT, 'counter.min.js'));
    const gzipped = zlib.gzipSync(bytes, { level: 9 }).length;
    console.log(`# counter.min.js: ${bytes.length} bytes, ${gzipped} gzipped`);
    assert.ok(gzipped <= 1536, `${gzipped} bytes gzipped`);
  });
});

describe('/dashboard', () => {
  for (const [device, viewport] of [['desktop', { width: 1280, height: 900 }], ['phone', { width: 390, height: 844 }]]) {
    it(`renders its charts and tables under a strict policy (${device}; screenshot is not blank)`, async () => {
      const context = await chromium.browser.newContext({
        viewport, httpCredentials: { username: 'owner', password: DASHBOARD_TOKEN },
      });
      const page = await context.newPage();
      const problems = [];
      page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text()); });
      page.on('pageerror', (e) => problems.push(e.message));
      try {
        const response = await page.goto(footfall.base + '/dashboard');
        assert.equal(response.status(), 200);
        assert.match((await response.allHeaders())['content-security-policy'], /default-src 'none'/);
        assert.equal(await page.title(), 'footfall: 127.0.0.1');
        // Earlier tests recorded visits: the tile shows them, the chart has a bar per day.
        const views = (await page.locator('.tile b').first().innerText()).replace(/,/g, '');
        assert.equal(Number(views), readVisits(dbPath).length);
        const bars = await page.locator('svg.chart rect.bar').count();
        assert.ok(bars >= 30 && bars <= 31, `${bars} daily bars for the last 30 days`);
        const box = await page.locator('svg.chart').boundingBox();
        assert.ok(box.width > viewport.width * 0.6 && box.height > 50, `chart box ${JSON.stringify(box)}`);
        assert.ok(await page.getByText('/demo/index.html', { exact: true }).first().isVisible());
        // Readable on a phone: nothing wider than the screen.
        assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
                  'no horizontal scrolling');
        const file = path.join(artifacts, `dashboard-${device}.png`);
        await page.screenshot({ path: file, fullPage: true });
        const stats = pictureStats(decodePng(fs.readFileSync(file)));
        console.log(`# screenshot ${file}: ${JSON.stringify(stats)}`);
        assert.ok(stats.colours >= 32, `only ${stats.colours} colours: blank?`);
        assert.ok(stats.darkShare > 0.003 && stats.darkShare < 0.6, `dark share ${stats.darkShare}`);
        // The bars are drawn (not just present): the chart area has the bar colour in it.
        const chart = pictureStats(decodePng(await page.locator('svg.chart').screenshot()));
        assert.ok(chart.colours >= 4, `chart ${JSON.stringify(chart)}`);
        assert.deepEqual(problems, [], 'no CSP violation or error');
      } finally {
        await context.close();
      }
    });
  }

  it('asks for credentials and refuses wrong ones', async () => {
    const context = await chromium.browser.newContext({ httpCredentials: { username: 'x', password: 'wrong' } });
    try {
      const response = await (await context.newPage()).goto(footfall.base + '/dashboard');
      assert.equal(response.status(), 401);
    } finally {
      await context.close();
    }
  });
});
