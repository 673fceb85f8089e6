// Single-page sites in Debian's headless Chromium: pages load counter.js from footfall's own
// GET /counter.js (no data-footfall: the snippet finds footfall where it was loaded from) and
// count history API navigations, the back button, hash routes (with data-hash only), manual
// footfall.view()/footfall.event() calls, outbound-link and file-download clicks, each exactly
// once; Global Privacy Control stops all of it. Page views are read from the `visits` table of
// the SQLite file; custom events from GET /api/stats's `events` list (name and count). Run by
// run.sh (ctest -R browser_spa); needs FOOTFALL_BIN, /usr/bin/chromium, python3. Every server
// listens on 127.0.0.1; the pages are opened as http://localhost:PORT, because footfall refuses an
// event property that holds an IP address (a link's URL would).

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import {
  WEB_ROOT, httpGet, launchChromium, startFootfall, startStaticServer, tempDir, waitFor, shutDown,
} from './harness.mjs';

const STATS_TOKEN = 'spa-stats-token';
// Asserting that something did NOT happen (no second view) needs the browser a moment in which it
// could have happened; everything else polls a condition.
const SETTLE_MS = 500;

let tmp;
let dbPath;
let pageSite;    // serves the generated pages
let pageOrigin;  // the allowed origin: http://localhost:PAGEPORT
let otherSite;   // another origin: the target of outbound links
let footfall;
let chromium;

before(async () => {
  tmp = tempDir('footfall-spa-');
  dbPath = path.join(tmp, 'db');
  pageSite = await startStaticServer();
  otherSite = await startStaticServer();
  pageOrigin = `http://localhost:${pageSite.port}`;
  footfall = await startFootfall({ dbPath, allowedOrigins: [pageOrigin],
                                  extraArgs: ['--stats-token', STATS_TOKEN] });
  otherSite.pages.set('/landing.html', '<!doctype html><title>elsewhere</title><p>another site');
  pageSite.pages.set('/files/cv.pdf', '<!doctype html><title>cv</title><p>the file');
  chromium = await launchChromium();
});

after(() => shutDown({ chromium, footfall, sites: [pageSite, otherSite], tmp }));

// A page at `pagePath` of pageSite that loads the snippet from footfall, with the script tag's
// extra `attributes` and `body` before it.
function servePage(pagePath, { attributes = '', body = '' } = {}) {
  pageSite.pages.set(pagePath, `<!doctype html><html lang="en"><meta charset="utf-8"><title>spa</title>
<p><span id="visits"></span> visitors</p>
${body}
<script src="${footfall.base}/counter.js" data-target="#visits" ${attributes}></script>`);
  return pageOrigin + pagePath;
}

// The paths of the page views in `visits`, oldest first. A custom event is a row of its own with
// its name in `event` (schema version 4); page views have event ''.
function readPageViews() {
  const script = [
    'import json, sqlite3, sys',
    'db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)',
    'rows = db.execute("SELECT path FROM visits WHERE event = \'\' ORDER BY visit_id")',
    'print(json.dumps([r[0] for r in rows]))',
  ].join('\n');
  const result = spawnSync('python3', ['-c', script, dbPath], { encoding: 'utf8', timeout: 10_000 });
  if (result.error) throw new Error(`cannot run python3 to read ${dbPath}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`reading ${dbPath} failed: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

// Page views recorded since `mark` (a readPageViews().length) must become `expected`, in order,
// and stay so for SETTLE_MS.
async function expectNewPageViews(mark, expected, what) {
  await waitFor(() => readPageViews().length >= mark + expected.length, { what });
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  assert.deepEqual(readPageViews().slice(mark), expected, what);
}

// The custom events of GET /api/stats: name -> count.
async function readEventCounts() {
  const { status, body } = await httpGet(`${footfall.base}/api/stats`,
                                         { Authorization: `Bearer ${STATS_TOKEN}` });
  assert.equal(status, 200, `GET /api/stats: ${body}`);
  const stats = JSON.parse(body);
  assert.ok(Array.isArray(stats.events), `/api/stats has an "events" list: ${body.slice(0, 300)}`);
  return new Map(stats.events.map(({ name, count }) => [name, count]));
}

// The custom events of /api/stats must become `before` plus one of each name in `names`, and stay
// so. Waits for footfall to have answered as many more beacons as `names` has since
// `beaconsBefore` (footfall.requests('/api/event').length before the action), then reads the
// statistics once: polling them would spend the rate limit the browser shares with this process.
async function expectNewEvents(before, beaconsBefore, names) {
  const expected = new Map(before);
  for (const name of names) expected.set(name, (expected.get(name) || 0) + 1);
  const sorted = (counts) => [...counts].sort(([a], [b]) => a.localeCompare(b));
  await waitFor(() => footfall.requests('/api/event').length >= beaconsBefore + names.length,
                { what: `footfall to answer the beacons of ${JSON.stringify(names)}` });
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const answers = footfall.requests('/api/event').slice(beaconsBefore).map((l) => l.status);
  assert.deepEqual(answers, names.map(() => 202), 'footfall accepted the beacons');
  assert.deepEqual(sorted(await readEventCounts()), sorted(expected), 'the events of /api/stats');
}

// Opens a page in a fresh context and records the requests it sends to footfall (every page of
// the context, so a beacon sent as a link navigates away is seen too), page errors and the
// snippet's console lines.
async function openPage({ init } = {}) {
  const context = await chromium.browser.newContext();
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  const seen = { requests: [], snippet: [], errors: [], console: [] };
  context.on('request', (request) => {
    if (!request.url().startsWith(footfall.base)) return;
    const url = new URL(request.url());
    seen.requests.push({ method: request.method(), path: url.pathname + url.search, body: request.postData() });
  });
  context.on('response', async (response) => {
    if (new URL(response.url()).pathname !== '/counter.js') return;
    seen.snippet.push({ status: response.status(), headers: await response.allHeaders(),
                        body: await response.text().catch(() => null) });
  });
  page.on('pageerror', (error) => seen.errors.push(error.message));
  page.on('console', (message) => { if (message.text().startsWith('footfall:')) seen.console.push(message.text()); });
  // The beacons sent to /api/event, parsed.
  seen.beacons = () => seen.requests.filter((r) => r.path === '/api/event').map((r) => JSON.parse(r.body));
  return { context, page, seen };
}

const shownCount = (page) => page.evaluate(() => document.querySelector('#visits').textContent);

describe('counter.js on single-page sites', () => {
  it('GET /counter.js serves web/counter.min.js, cacheable and loadable cross-origin', async () => {
    const { status, headers, body } = await httpGet(`${footfall.base}/counter.js`);
    assert.equal(status, 200);
    assert.equal(body, fs.readFileSync(path.join(WEB_ROOT, 'counter.min.js'), 'utf8'));
    assert.equal(headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(headers['cross-origin-resource-policy'], 'cross-origin');
    assert.equal(headers['cache-control'], 'public, max-age=3600');
    assert.match(headers.etag, /^"[0-9a-f]{32}"$/);
    const again = await httpGet(`${footfall.base}/counter.min.js`, { 'If-None-Match': headers.etag });
    assert.equal(again.status, 304);
    assert.equal(again.body, '');
  });

  it('counts pushState to new paths and the back button, each once; replaceState to the same path is no view', async () => {
    const mark = readPageViews().length;
    const { context, page, seen } = await openPage();
    try {
      await page.goto(servePage('/spa/'));
      await waitFor(async () => (await shownCount(page)) !== '', { what: 'the count in #visits' });
      const shown = await shownCount(page);
      await expectNewPageViews(mark, ['/spa/'], 'the first view');
      // The snippet came from footfall's own route.
      assert.equal(seen.snippet.length, 1);
      assert.equal(seen.snippet[0].status, 200);
      assert.equal(seen.snippet[0].headers['content-type'], 'text/javascript; charset=utf-8');
      assert.equal(seen.snippet[0].body, fs.readFileSync(path.join(WEB_ROOT, 'counter.min.js'), 'utf8'));

      await page.evaluate(() => history.pushState({}, '', '/spa/about'));
      await expectNewPageViews(mark, ['/spa/', '/spa/about'], 'pushState to /spa/about');
      await page.evaluate(() => history.pushState({}, '', '/spa/contact'));
      await expectNewPageViews(mark, ['/spa/', '/spa/about', '/spa/contact'], 'pushState to /spa/contact');
      await page.evaluate(() => history.back());
      await waitFor(async () => (await page.evaluate(() => location.pathname)) === '/spa/about',
                    { what: 'the back button' });
      await expectNewPageViews(mark, ['/spa/', '/spa/about', '/spa/contact', '/spa/about'], 'back (popstate)');
      // The same path again: replaced, pushed, or with another query: no view.
      await page.evaluate(() => {
        history.replaceState({}, '', '/spa/about');
        history.pushState({}, '', '/spa/about');
        history.replaceState({}, '', '/spa/about?tab=2');
      });
      await expectNewPageViews(mark, ['/spa/', '/spa/about', '/spa/contact', '/spa/about'],
                               'no view for the same path');

      // One GET /count (the first view), then beacons without a referrer; the count shown stays
      // the page load's.
      assert.deepEqual(seen.requests.map((r) => `${r.method} ${r.path.split('?')[0]}`),
                       ['GET /counter.js', 'GET /count', 'POST /api/event', 'POST /api/event', 'POST /api/event']);
      assert.deepEqual(seen.beacons().map((b) => [b.path, b.referrer, b.name]),
                       [['/spa/about', '', undefined], ['/spa/contact', '', undefined], ['/spa/about', '', undefined]]);
      assert.equal(await shownCount(page), shown);
      assert.deepEqual(seen.console, []);
      assert.deepEqual(seen.errors, []);
    } finally {
      await context.close();
    }
  });

  it('a landing page sends its campaign (utm_*, ref=) and nothing else of its query', async () => {
    const mark = readPageViews().length;
    const { context, page, seen } = await openPage();
    try {
      await page.goto(servePage('/spa/landing') + '?ref=Newsletter&utm_medium=Email&token=s3cret');
      await expectNewPageViews(mark, ['/spa/landing'], 'the landing view');
      const [count] = seen.requests.filter((r) => r.path.startsWith('/count?'));
      const sent = new URL(count.path, footfall.base).searchParams;
      assert.equal(sent.get('utm_source'), 'Newsletter');
      assert.equal(sent.get('utm_medium'), 'Email');
      assert.ok(!count.path.includes('s3cret'), `the page's other parameters stay: ${count.path}`);
      const { status, body } = await httpGet(`${footfall.base}/api/stats`,
                                             { Authorization: `Bearer ${STATS_TOKEN}` });
      assert.equal(status, 200, body);
      const { campaigns } = JSON.parse(body);
      assert.deepEqual(campaigns.sources, [{ name: 'newsletter', views: 1 }]);
      assert.deepEqual(campaigns.mediums, [{ name: 'email', views: 1 }]);
    } finally {
      await context.close();
    }
  });

  // Plausible's own tracker, the plausible-tracker npm package (its ES module build, unchanged;
  // pinned in package.json), pointed at footfall as its API host.
  it('Plausible\'s tracker (npm plausible-tracker) sends a page view and an event with props that footfall counts', async () => {
    const built = path.join(path.dirname(new URL(import.meta.url).pathname), 'node_modules',
                            'plausible-tracker', 'build', 'module');
    // Its imports name modules without the .js the files have: each is served under that name.
    for (const [url, file] of [['/vendor/plausible/index.js', 'index.js'],
                               ['/vendor/plausible/lib/tracker', 'lib/tracker.js'],
                               ['/vendor/plausible/lib/request', 'lib/request.js']]) {
      pageSite.pages.set(url, { type: 'text/javascript', body: fs.readFileSync(path.join(built, file)) });
    }
    pageSite.pages.set('/plausible/page', `<!doctype html><html lang="en"><meta charset="utf-8"><title>plausible</title>
<script type="module">
import Plausible from '/vendor/plausible/index.js';
const plausible = Plausible({ domain: 'me.example', apiHost: '${footfall.base}', trackLocalhost: true });
// The built 0.3.9 calls back without arguments once each request is done.
plausible.trackPageview({}, { callback: () => { window.viewDone = true; } });
plausible.trackEvent('Plausible Signup', { props: { plan: 'pro', seats: 3 },
                                           callback: () => { window.eventDone = true; } });
</script>`);
    const mark = readPageViews().length;
    const beaconsBefore = footfall.requests('/api/event').length;
    const { context, page, seen } = await openPage();
    try {
      await page.goto(pageOrigin + '/plausible/page?utm_source=Plausible-Test&token=s3cret');
      await waitFor(() => page.evaluate(() => window.viewDone === true && window.eventDone === true),
                    { what: 'the tracker to be done with both requests' })
          .catch((error) => {
            throw new Error(`${error.message}; sent ${JSON.stringify(seen.requests)}, page errors ` +
                            `${JSON.stringify(seen.errors)}, footfall answered ` +
                            JSON.stringify(footfall.requests('/api/event').slice(-2)));
          });
      await expectNewPageViews(mark, ['/plausible/page'], 'the tracker\'s page view');
      const sent = seen.requests.filter((r) => r.path === '/api/event').map((r) => JSON.parse(r.body));
      assert.deepEqual(sent.map((body) => body.n), ['pageview', 'Plausible Signup'], 'its own payloads');
      assert.deepEqual(footfall.requests('/api/event').slice(beaconsBefore).map((l) => l.status), [202, 202]);
      const { status, body } = await httpGet(`${footfall.base}/api/stats?event=${encodeURIComponent('Plausible Signup')}`,
                                             { Authorization: `Bearer ${STATS_TOKEN}` });
      assert.equal(status, 200, body);
      const stats = JSON.parse(body);
      assert.deepEqual(stats.events.find((e) => e.name === 'Plausible Signup'),
                       { name: 'Plausible Signup', count: 1, visitor_days: 1 });
      assert.deepEqual(stats.props, { plan: [{ name: 'pro', count: 1, visitor_days: 1 }],
                                      seats: [{ name: '3', count: 1, visitor_days: 1 }] });
      assert.ok(stats.campaigns.sources.some((s) => s.name === 'plausible-test'), body);
      assert.deepEqual(seen.errors, []);
    } finally {
      await context.close();
    }
  });

  it('with data-hash, hash changes are page views whose path includes the hash', async () => {
    const mark = readPageViews().length;
    const { context, page, seen } = await openPage();
    try {
      await page.goto(servePage('/hash/', { attributes: 'data-hash', body: '<a id="pricing" href="#/pricing">pricing</a>' }));
      await expectNewPageViews(mark, ['/hash/'], 'the first view');
      await page.evaluate(() => { location.hash = '#/about'; });
      await expectNewPageViews(mark, ['/hash/', '/hash/#/about'], 'location.hash = #/about');
      await page.click('#pricing');
      await expectNewPageViews(mark, ['/hash/', '/hash/#/about', '/hash/#/pricing'], 'a link to #/pricing');
      await page.evaluate(() => history.back());
      await expectNewPageViews(mark, ['/hash/', '/hash/#/about', '/hash/#/pricing', '/hash/#/about'],
                               'back to #/about');
      assert.deepEqual(seen.beacons().map((b) => b.path), ['/hash/#/about', '/hash/#/pricing', '/hash/#/about']);
      assert.deepEqual(seen.errors, []);
    } finally {
      await context.close();
    }
  });

  it('without data-hash, hash changes are not page views', async () => {
    const mark = readPageViews().length;
    const { context, page, seen } = await openPage();
    try {
      await page.goto(servePage('/nohash/', { body: '<a id="pricing" href="#/pricing">pricing</a>' }));
      await expectNewPageViews(mark, ['/nohash/'], 'the first view');
      await page.evaluate(() => { location.hash = '#/about'; });
      await page.click('#pricing');
      await page.evaluate(() => history.back());
      await waitFor(async () => (await page.evaluate(() => location.hash)) === '#/about', { what: 'back to #/about' });
      await expectNewPageViews(mark, ['/nohash/'], 'no view for hash changes');
      assert.deepEqual(seen.beacons(), []);
    } finally {
      await context.close();
    }
  });

  it('data-auto="false" sends nothing by itself; footfall.view() and footfall.event() each land once', async () => {
    const mark = readPageViews().length;
    const events = await readEventCounts();
    const { context, page, seen } = await openPage();
    try {
      await page.goto(servePage('/manual/', { attributes: 'data-auto="false"' }));
      await page.evaluate(() => history.pushState({}, '', '/manual/elsewhere'));
      await expectNewPageViews(mark, [], 'no automatic view');
      assert.deepEqual(seen.requests.map((r) => r.path), ['/counter.js']);

      // The first view of the page load shows the count, as the automatic one does.
      await page.evaluate(() => window.footfall.view());
      await expectNewPageViews(mark, ['/manual/elsewhere'], 'footfall.view()');
      await waitFor(async () => (await shownCount(page)) !== '', { what: 'the count in #visits' });
      await page.evaluate(() => window.footfall.view('/manual/virtual'));
      await expectNewPageViews(mark, ['/manual/elsewhere', '/manual/virtual'], "footfall.view('/manual/virtual')");

      const beacons = footfall.requests('/api/event').length;
      await page.evaluate(() => window.footfall.event('Signup', { plan: 'pro' }));
      await waitFor(() => seen.beacons().some((b) => b.name === 'Signup'), { what: 'the Signup beacon' });
      assert.deepEqual(seen.beacons().find((b) => b.name === 'Signup'),
                       { name: 'Signup', props: { plan: 'pro' }, path: '/manual/elsewhere', referrer: '',
                         screen: await page.evaluate(() => screen.width) });
      await expectNewEvents(events, beacons, ['Signup']);
      // The event is not a page view.
      await expectNewPageViews(mark, ['/manual/elsewhere', '/manual/virtual'], 'no page view for the event');
      assert.deepEqual(seen.errors, []);
    } finally {
      await context.close();
    }
  });

  for (const { link, described, target, name, check } of [
    { link: 'outbound', described: 'a link to another origin', target: () => `http://localhost:${otherSite.port}/landing.html`,
      name: 'Outbound Link: Click', check: () => otherSite.log.some((r) => r.path === '/landing.html') },
    { link: 'download', described: 'a link to a .pdf', target: () => `${pageOrigin}/files/cv.pdf`,
      name: 'File Download', check: () => pageSite.log.some((r) => r.path === '/files/cv.pdf') },
  ]) {
    it(`a click on ${described} sends "${name}" {url} once and the navigation goes ahead`, async () => {
      const mark = readPageViews().length;
      const events = await readEventCounts();
      const { context, page, seen } = await openPage();
      try {
        const href = target();
        await page.goto(servePage(`/links-${link}/`, {
          attributes: 'data-outbound-links data-file-downloads',
          body: `<a id="go" href="${href}">go</a> <a id="inside" href="#top">top</a>`,
        }));
        await expectNewPageViews(mark, [`/links-${link}/`], 'the first view');
        await page.click('#inside');  // neither outbound nor a download: no event
        const beacons = footfall.requests('/api/event').length;
        await Promise.all([page.waitForURL(href), page.click('#go')]);
        assert.ok(check(), 'the target page was served');
        await waitFor(() => seen.beacons().length > 0, { what: `the ${name} beacon` });
        assert.deepEqual(seen.beacons().map((b) => [b.name, b.props, b.path]),
                         [[name, { url: href }, `/links-${link}/`]]);
        await expectNewEvents(events, beacons, [name]);
        await expectNewPageViews(mark, [`/links-${link}/`], 'no page view for the click');
        assert.deepEqual(seen.errors, []);
      } finally {
        await context.close();
      }
    });
  }

  it('with Global Privacy Control only the count is read: no view, no navigation view, no event', async () => {
    const mark = readPageViews().length;
    const { context, page, seen } = await openPage({
      init: () => Object.defineProperty(Navigator.prototype, 'globalPrivacyControl',
                                        { get: () => true, configurable: true }),
    });
    try {
      await page.goto(servePage('/private/', { attributes: 'data-outbound-links' }));
      await waitFor(async () => (await shownCount(page)) !== '', { what: 'the count in #visits' });
      await page.evaluate(() => {
        history.pushState({}, '', '/private/next');
        window.footfall.view('/private/manual');
        window.footfall.event('Signup', { plan: 'pro' });
      });
      await expectNewPageViews(mark, [], 'nothing recorded');
      assert.deepEqual(seen.requests.map((r) => `${r.method} ${r.path}`), ['GET /counter.js', 'GET /api/count']);
    } finally {
      await context.close();
    }
  });
});
