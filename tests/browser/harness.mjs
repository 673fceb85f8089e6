// Harness for the browser end-to-end test: the real footfall binary, tiny static web servers (one
// per origin), Debian's Chromium and a few readers (the SQLite file, PNG screenshots).
//
// Every process started here is recorded by PID and ended by that PID (Chromium by the process
// group it leads); if the test process exits early, whatever is still running is killed on exit,
// and the temp dirs are removed.
// Nothing waits by sleeping: each wait polls a condition until a deadline and fails with a message.
//
// With FOOTFALL_TEST_ARTIFACTS set (ctest sets it; tests/tools/artifacts.py is the Python side),
// each footfall keeps what it produced for the privacy audit (tests/privacy_audit.py) when it
// exits: its SQLite files and its stderr, in
// <FOOTFALL_TEST_ARTIFACTS>/<FOOTFALL_TEST_NAME or browser_e2e>/footfall-<pid>-<n>/. The test's
// directory is emptied once, by the first process of the test (as artifacts.py does).

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, '..', '..');
export const WEB_ROOT = path.join(REPO_ROOT, 'web');

// The user agent of desktop Chrome on Linux. footfall does not record headless browsers (their
// user agent says "HeadlessChrome"), so the browser under test presents itself as the browser a
// person would use; HEADLESS_USER_AGENT is what headless Chromium really sends.
export const DESKTOP_USER_AGENT =
    'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36';
export const HEADLESS_USER_AGENT = DESKTOP_USER_AGENT.replace('Chrome/', 'HeadlessChrome/');

// The flags every Chromium here starts with. The network flags keep it from calling home: on a
// machine without internet its background connections would fail, many at a time.
const CHROMIUM_FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--disable-default-apps', '--disable-extensions', `--user-agent=${DESKTOP_USER_AGENT}`,
];

const START_DEADLINE_MS = 20_000;
const STOP_DEADLINE_MS = 15_000;

// ---------------------------------------------------------------------------------------------
// Process bookkeeping

const running = new Map();  // pid -> {group: boolean, name}

function track(child, name, group) {
  running.set(child.pid, { group, name });
  child.once('exit', () => running.delete(child.pid));
}

const tempDirs = [];

function killAll() {
  for (const [pid, { group }] of running) {
    try { process.kill(group ? -pid : pid, 'SIGKILL'); } catch { /* already gone */ }
  }
  for (const keep of unkept) keep();
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
}
process.on('exit', killAll);
// A test stopped from outside (ctest's timeout, ^C) still ends what it started.
for (const [signal, number] of [['SIGINT', 2], ['SIGTERM', 15], ['SIGHUP', 1]]) {
  process.on(signal, () => {
    killAll();
    process.exit(128 + number);
  });
}

function exited(child) {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

function withDeadline(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Polls `check` (sync or async; a truthy result ends the wait) every 25 ms until `ms` pass.
export async function waitFor(check, { ms = 10_000, what = 'a condition' } = {}) {
  const deadline = Date.now() + ms;
  for (;;) {
    const result = await check();
    if (result) return result;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

// A new directory under the system's temp dir, removed when the process exits.
export function tempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

// ---------------------------------------------------------------------------------------------
// Artifacts for the privacy audit (see the top of this file)

const ARTIFACTS_MAX_FILE_BYTES = 200 * 1024 * 1024;
const artifactsRoot = process.env.FOOTFALL_TEST_ARTIFACTS
  ? path.join(path.resolve(process.env.FOOTFALL_TEST_ARTIFACTS),
              process.env.FOOTFALL_TEST_NAME || 'browser_e2e')
  : null;
if (artifactsRoot && !process.env.FOOTFALL_TEST_ARTIFACTS_OWNER) {
  fs.rmSync(artifactsRoot, { recursive: true, force: true });
  process.env.FOOTFALL_TEST_ARTIFACTS_OWNER = String(process.pid);
}
let artifactsCounter = 0;

function artifactsNote(dir, name, text) {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `NOTE-${name}.txt`), `${text}\n`);
  } catch (error) {
    process.stderr.write(`harness.mjs: cannot write a note in ${dir}: ${error.message}\n`);
  }
}

// Copies footfall's SQLite files (db, -wal, -shm, -journal) and its stderr lines into a new
// artifacts directory. Synchronous, so that it also runs from the 'exit' handler; never throws.
function keepFootfallArtifacts(dbPath, stderrLines) {
  if (!artifactsRoot) return;
  const dir = path.join(artifactsRoot, `footfall-${process.pid}-${++artifactsCounter}`);
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'serve.stderr.log'), stderrLines.map((l) => `${l}\n`).join(''));
  } catch (error) {
    artifactsNote(dir, 'serve.stderr.log', `not written: ${error.message}`);
  }
  for (const suffix of ['', '-wal', '-shm', '-journal']) {
    const src = dbPath + suffix;
    const name = path.basename(src);
    try {
      const stat = fs.lstatSync(src, { throwIfNoEntry: false });
      if (!stat || !stat.isFile()) continue;
      if (stat.size > ARTIFACTS_MAX_FILE_BYTES) {
        artifactsNote(dir, name, `${src}: ${stat.size} bytes, over the limit: not copied, not audited`);
        continue;
      }
      fs.copyFileSync(src, path.join(dir, name));
    } catch (error) {
      artifactsNote(dir, name, `${src}: not copied: ${error.message}`);
    }
  }
}

const unkept = new Set();  // footfalls whose artifacts are not kept yet: kept on exit

// ---------------------------------------------------------------------------------------------
// footfall

export function footfallBin() {
  const bin = path.resolve(process.env.FOOTFALL_BIN || path.join(REPO_ROOT, 'build', 'footfall'));
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch {
    throw new Error(`footfall binary not found or not executable: ${bin} (set FOOTFALL_BIN)`);
  }
  return bin;
}

// Starts `footfall serve` on 127.0.0.1 port 0 with a SQLite store at `dbPath`. Resolves once it
// has printed its "listening" line. The result has `base` (http://127.0.0.1:PORT), `logs` (every
// JSON line it printed, parsed, in order) and `stop()` (SIGTERM; resolves with the exit status).
export async function startFootfall({ dbPath, allowedOrigins, extraArgs = [] }) {
  // Only the command line configures the server: drop FOOTFALL_* (FOOTFALL_BIN among them).
  const env = Object.fromEntries(Object.entries(process.env).filter(
      ([k]) => !k.startsWith('FOOTFALL_') && k !== 'ALLOWED_ORIGIN'));
  const child = spawn(footfallBin(), [
    'serve', '--listen', '127.0.0.1:0', '--store', `sqlite:${dbPath}`,
    '--allowed-origins', allowedOrigins.join(','), ...extraArgs,
  ], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  track(child, 'footfall', false);
  const logs = [];
  const raw = [];
  readline.createInterface({ input: child.stderr }).on('line', (line) => {
    raw.push(line);
    try { logs.push(JSON.parse(line)); } catch { /* not JSON: kept in `raw` for messages */ }
  });
  // 'close' comes once stderr has ended, so `raw` is whole by then.
  const keep = () => {
    if (!unkept.delete(keep)) return;
    keepFootfallArtifacts(dbPath, raw);
  };
  unkept.add(keep);
  const closed = new Promise((resolve) => child.once('close', () => { keep(); resolve(); }));
  const listening = await withDeadline(Promise.race([
    waitFor(() => logs.find((l) => l.msg === 'listening'), { ms: START_DEADLINE_MS, what: 'listening' }),
    exited(child).then(({ code, signal }) => {
      throw new Error(`footfall exited (${code ?? signal}) before listening:\n${raw.join('\n')}`);
    }),
  ]), START_DEADLINE_MS, 'footfall to print its listening line');
  if (logs[0] !== listening) throw new Error(`footfall's first line is not "listening": ${raw[0]}`);
  const port = Number(listening.listen.split(':').pop());
  if (!(port > 0)) throw new Error(`no port in ${JSON.stringify(listening)}`);
  return {
    base: `http://127.0.0.1:${port}`,
    listening,
    logs,
    raw,
    pid: child.pid,
    // Request log lines for `route`, optionally only those with `status`.
    requests(route, status) {
      return logs.filter((l) => l.route === route && (status === undefined || l.status === status));
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      try {
        const status = await withDeadline(exited(child), STOP_DEADLINE_MS, 'footfall to exit on SIGTERM');
        // Its artifacts are kept on 'close', before the caller can remove the database.
        await withDeadline(closed, 5000, 'footfall\'s stderr to close').catch(() => keep());
        return status;
      } catch (error) {
        child.kill('SIGKILL');
        throw error;
      }
    },
  };
}

// GET `url` without an Origin header (as curl would); resolves with {status, headers, body}.
export function httpGet(url, headers = {}) {
  return new Promise((resolve, reject) => {
    const request = http.get(url, { headers, timeout: 10_000 }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk) => { body += chunk; });
      response.on('end', () => resolve({ status: response.statusCode, headers: response.headers, body }));
    });
    request.on('timeout', () => request.destroy(new Error(`GET ${url} timed out`)));
    request.on('error', reject);
  });
}

// The total from GET /api/count (which records nothing).
export async function readTotal(base) {
  const { status, body } = await httpGet(`${base}/api/count`);
  if (status !== 200) throw new Error(`GET /api/count answered ${status}: ${body}`);
  return JSON.parse(body).count;
}

// Every row of `visits` in the SQLite file, oldest first (visit ids are UUIDv7), read with
// python3's sqlite3 module (read-only; footfall keeps running).
export function readVisits(dbPath) {
  const script = [
    'import json, sqlite3, sys',
    'db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)',
    'rows = db.execute("SELECT path, site, referrer, user_agent FROM visits ORDER BY visit_id")',
    'print(json.dumps([dict(zip(("path", "site", "referrer", "user_agent"), r)) for r in rows]))',
  ].join('\n');
  const result = spawnSync('python3', ['-c', script, dbPath], { encoding: 'utf8', timeout: 10_000 });
  if (result.error) throw new Error(`cannot run python3 to read ${dbPath}: ${result.error.message}`);
  if (result.status !== 0) throw new Error(`reading ${dbPath} failed: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

// ---------------------------------------------------------------------------------------------
// Static web server: one per origin

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

// Ends what a test file started, each step even when another failed: the browser, footfall (which
// must exit 0 on SIGTERM), the static sites and the temporary directory. Throws one assertion
// listing every problem.
export async function shutDown({ chromium, footfall, sites = [], tmp }) {
  const problems = [];
  const steps = [
    () => chromium?.close(),
    async () => {
      if (!footfall) return;
      const { code, signal } = await footfall.stop();
      if (code !== 0) problems.push(`footfall exited with ${code ?? signal} on SIGTERM`);
    },
    ...sites.map((site) => () => site?.close()),
  ];
  for (const step of steps) {
    try { await step(); } catch (error) { problems.push(error.message); }
  }
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  assert.deepEqual(problems, [], 'clean shutdown');
}

// Serves web/ on 127.0.0.1 port 0. The demo pages are served as committed except for two
// attributes of the counter's <script> tag, set from the server's mutable fields:
//   footfall  the value of data-footfall (the footfall server under test)
//   snippet   which file src names: "counter.min.js" (default) or "counter.js"
// `pages` maps extra paths to generated HTML (or to {type, body}: a body of another content
// type, e.g. a JavaScript module), `hooks` maps paths to async handlers run before
// answering 204, and `log` lists every request ({path, query, purpose: Sec-Purpose}), in order.
export async function startStaticServer() {
  const site = {
    footfall: 'http://127.0.0.1:9',
    snippet: 'counter.min.js',
    pages: new Map(),
    hooks: new Map(),
    log: [],
    origin: '',
    port: 0,
  };
  const server = http.createServer(async (request, response) => {
    const url = new URL(request.url, 'http://static.invalid');
    site.log.push({ path: url.pathname, query: url.search, purpose: request.headers['sec-purpose'] || '' });
    try {
      if (site.hooks.has(url.pathname)) {
        await site.hooks.get(url.pathname)(request);
        response.writeHead(204).end();
        return;
      }
      if (site.pages.has(url.pathname)) {
        const page = site.pages.get(url.pathname);
        const { type, body } = typeof page === 'string' ? { type: CONTENT_TYPES['.html'], body: page } : page;
        response.writeHead(200, { 'Content-Type': type }).end(body);
        return;
      }
      let file = path.resolve(WEB_ROOT, '.' + decodeURIComponent(url.pathname));
      if (file !== WEB_ROOT && !file.startsWith(WEB_ROOT + path.sep)) throw new Error('outside web/');
      if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
      if (file.split(path.sep).includes('node_modules') || !fs.existsSync(file)) {
        response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
        return;
      }
      let body = fs.readFileSync(file);
      if (file.endsWith('.html')) body = Buffer.from(rewriteSnippetTag(body.toString('utf8'), site));
      response.writeHead(200, { 'Content-Type': CONTENT_TYPES[path.extname(file)] || 'application/octet-stream' });
      response.end(body);
    } catch (error) {
      response.writeHead(500, { 'Content-Type': 'text/plain' }).end(String(error));
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  site.port = server.address().port;
  site.origin = `http://127.0.0.1:${site.port}`;
  site.close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return site;
}

// The committed demo page as this site serves it (see startStaticServer), with `extraBody`
// inserted at the end of <body>.
export function demoHtml(site, extraBody = '') {
  const html = fs.readFileSync(path.join(WEB_ROOT, 'demo', 'index.html'), 'utf8');
  if (rewriteSnippetTag(html, site) === html) throw new Error('web/demo/index.html has no counter tag');
  return rewriteSnippetTag(html, site).replace('</body>', `${extraBody}</body>`);
}

function rewriteSnippetTag(html, site) {
  const tag = /<script src="\.\.\/counter\.js" data-footfall="[^"]*"/;
  if (!tag.test(html)) return html;
  return html.replace(tag, `<script src="../${site.snippet}" data-footfall="${site.footfall}"`);
}

// ---------------------------------------------------------------------------------------------
// Chromium

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// Starts Debian's Chromium headless with a fresh profile (deleted by close()). `prefs` become the
// profile's Preferences file (e.g. {enable_do_not_track: true}). With `cdp` (the default) it
// listens for DevTools on a loopback port and `browser` is playwright-core connected to it;
// without, Chromium just opens `url` and nothing is attached (DevTools disables prerendering).
export async function launchChromium({ cdp = true, prefs, url = 'about:blank' } = {}) {
  try {
    fs.accessSync(CHROMIUM, fs.constants.X_OK);
  } catch {
    throw new Error(`Chromium not found at ${CHROMIUM}: run tests/browser/install.sh`);
  }
  const userDataDir = tempDir('footfall-chromium-');
  if (prefs) {
    fs.mkdirSync(path.join(userDataDir, 'Default'));
    fs.writeFileSync(path.join(userDataDir, 'Default', 'Preferences'), JSON.stringify(prefs));
  }
  const args = [...CHROMIUM_FLAGS, `--user-data-dir=${userDataDir}`];
  if (cdp) args.push('--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0');
  args.push(url);
  // Its own process group, so that close() can end its helpers (zygote, renderers) with it.
  const child = spawn(CHROMIUM, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  track(child, 'chromium', true);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => { stderr = (stderr + chunk).slice(-8000); });

  const close = async () => {
    if (browser) await withDeadline(browser.close(), 5000, 'playwright to disconnect').catch(() => {});
    if (child.exitCode === null && child.signalCode === null) {
      try { process.kill(-child.pid, 'SIGTERM'); } catch { /* gone */ }
      try {
        await withDeadline(exited(child), STOP_DEADLINE_MS, 'Chromium to exit on SIGTERM');
      } catch {
        try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
        await exited(child);
      }
    }
    // Helpers of the group may outlive the browser process by a moment.
    await waitFor(() => !groupAlive(child.pid), { ms: STOP_DEADLINE_MS, what: 'Chromium helpers to exit' })
        .catch(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } });
    fs.rmSync(userDataDir, { recursive: true, force: true });
  };

  let browser = null;
  if (cdp) {
    const portFile = path.join(userDataDir, 'DevToolsActivePort');
    try {
      const port = await waitFor(() => {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`Chromium exited (${child.exitCode ?? child.signalCode})`);
        }
        try { return fs.readFileSync(portFile, 'utf8').split('\n')[0]; } catch { return null; }
      }, { ms: START_DEADLINE_MS, what: 'Chromium to open its DevTools port' });
      const { chromium } = await import('playwright-core');
      browser = await chromium.connectOverCDP(`http://127.0.0.1:${port}`, { timeout: START_DEADLINE_MS });
    } catch (error) {
      await close();
      throw new Error(`${error.message}\nChromium's stderr:\n${stderr}`);
    }
  }
  return { browser, pid: child.pid, userDataDir, close, stderr: () => stderr };
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// PNG

// Decodes an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium's screenshots are) into
// {width, height, channels, pixels}. Throws on anything else.
export function decodePng(buffer) {
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (!buffer.subarray(0, 8).equals(signature)) throw new Error('not a PNG');
  let offset = 8;
  let header = null;
  const data = [];
  while (offset < buffer.length) {
    const length = buffer.readUInt32BE(offset);
    const type = buffer.toString('latin1', offset + 4, offset + 8);
    const body = buffer.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') {
      header = { width: body.readUInt32BE(0), height: body.readUInt32BE(4), depth: body[8],
                 colour: body[9], interlace: body[12] };
    } else if (type === 'IDAT') {
      data.push(body);
    } else if (type === 'IEND') {
      break;
    }
    offset += 12 + length;
  }
  if (!header || header.depth !== 8 || header.interlace !== 0 || ![2, 6].includes(header.colour)) {
    throw new Error(`unsupported PNG: ${JSON.stringify(header)}`);
  }
  const channels = header.colour === 6 ? 4 : 3;
  const stride = header.width * channels;
  const raw = zlib.inflateSync(Buffer.concat(data));
  const pixels = Buffer.alloc(stride * header.height);
  for (let y = 0; y < header.height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = pixels.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? pixels.subarray((y - 1) * stride, y * stride) : Buffer.alloc(stride);
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? out[x - channels] : 0;
      const b = prev[x];
      const c = x >= channels ? prev[x - channels] : 0;
      let predictor;
      switch (filter) {
        case 0: predictor = 0; break;
        case 1: predictor = a; break;
        case 2: predictor = b; break;
        case 3: predictor = (a + b) >> 1; break;
        case 4: {
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          predictor = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: throw new Error(`bad PNG filter ${filter}`);
      }
      out[x] = (line[x] + predictor) & 0xff;
    }
  }
  return { width: header.width, height: header.height, channels, pixels };
}

// How much a picture shows: distinct colours, and the share of pixels that are dark (text).
export function pictureStats({ width, height, channels, pixels }) {
  const colours = new Set();
  let dark = 0;
  for (let i = 0; i < width * height * channels; i += channels) {
    const [r, g, b] = [pixels[i], pixels[i + 1], pixels[i + 2]];
    colours.add((r << 16) | (g << 8) | b);
    if (0.299 * r + 0.587 * g + 0.114 * b < 128) dark++;
  }
  return { width, height, colours: colours.size, darkShare: dark / (width * height) };
}
