// The dashboard on AWS: Debian's headless Chromium opens /dashboard through an HTTP API stand-in
// (tests/lambda/http_api_bridge.py: each request becomes an API Gateway payload 2.0 event for
// `footfall lambda` through the Runtime API fixture, on moto's DynamoDB), with the statistics
// token that the function read from SSM Parameter Store at init. The browser must be asked for the
// password (the two WWW-Authenticate challenges arrive joined in one header line, as an HTTP API
// sends them), and the page must render under its strict policy. Run by run.sh
// dashboard_aws.test.mjs (ctest browser_dashboard_aws); needs FOOTFALL_BIN, Chromium, python3
// with boto3 and moto.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, describe, it } from 'node:test';

import { REPO_ROOT, decodePng, launchChromium, pictureStats, tempDir } from './harness.mjs';

const ORIGIN = 'https://me.example';
const SITE = 'me.example';
const VISITS = 3;

let bridge;       // the python process
let api;          // { url, token }
let chromium;
let artifacts;

before(async () => {
  artifacts = process.env.FOOTFALL_BROWSER_ARTIFACTS || tempDir('footfall-browser-aws-');
  fs.mkdirSync(artifacts, { recursive: true });
  bridge = spawn('python3', [path.join(REPO_ROOT, 'tests', 'lambda', 'http_api_bridge.py'), 'hold',
                             '--origin', ORIGIN, '--site', SITE],
                 { stdio: ['ignore', 'pipe', 'inherit'], env: process.env });
  const lines = readline.createInterface({ input: bridge.stdout });
  api = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the HTTP API stand-in did not start in 90 s')), 90_000);
    bridge.once('exit', (code) => reject(new Error(`the HTTP API stand-in exited with ${code}`)));
    lines.once('line', (line) => { clearTimeout(timer); resolve(JSON.parse(line)); });
  });
  for (let i = 0; i < VISITS; i += 1) {
    const response = await fetch(`${api.url}/count?path=/about`, { headers: { Origin: ORIGIN } });
    assert.equal(response.status, 200, await response.text());
  }
  chromium = await launchChromium();
});

after(async () => {
  await chromium?.close();
  if (bridge && bridge.exitCode === null) {
    const exited = new Promise((resolve) => bridge.once('exit', resolve));
    bridge.kill('SIGTERM');
    await exited;
  }
});

describe('/dashboard behind an HTTP API', () => {
  it('asks for the password, then renders from the Lambda function', async () => {
    const context = await chromium.browser.newContext({
      viewport: { width: 1280, height: 900 },
      httpCredentials: { username: 'owner', password: api.token },
    });
    const page = await context.newPage();
    const problems = [];
    page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
    try {
      const response = await page.goto(`${api.url}/dashboard`);
      assert.equal(response.status(), 200);
      const headers = await response.allHeaders();
      assert.match(headers['content-security-policy'], /default-src 'none'/);
      assert.ok(headers['x-request-id'], 'the invocation id is on the answer');
      assert.equal(await page.title(), `footfall: ${SITE}`);
      const views = (await page.locator('.tile b').first().innerText()).replace(/,/g, '');
      assert.equal(Number(views), VISITS);
      const bars = await page.locator('svg.chart rect.bar').count();
      assert.ok(bars >= 30 && bars <= 31, `${bars} daily bars for the last 30 days`);
      assert.ok(await page.getByText('/about', { exact: true }).first().isVisible());
      const file = path.join(artifacts, 'dashboard-aws.png');
      await page.screenshot({ path: file, fullPage: true });
      const stats = pictureStats(decodePng(fs.readFileSync(file)));
      assert.ok(stats.colours >= 32, `only ${stats.colours} colours: blank?`);
      assert.deepEqual(problems, [], 'no CSP violation or error');
    } finally {
      await context.close();
    }
  });

  it('refuses a wrong password', async () => {
    const context = await chromium.browser.newContext({ httpCredentials: { username: 'x', password: 'wrong' } });
    try {
      const response = await (await context.newPage()).goto(`${api.url}/dashboard`);
      assert.equal(response.status(), 401);
    } finally {
      await context.close();
    }
  });
});
