#!/usr/bin/env node
// The dashboard page in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core).
//
//   node dashboard_test.mjs BASE_URL SCREENSHOT.png [--workers N] [--servers N]
//        [--min-chart-points N] [--mock-controls] [--narrow-screenshot PATH] [--timeout-ms MS]
//
// Opens the page, sees the active master, the workers, the ensemble and the counts; submits a
// task through the form and sees it complete without a reload (done count, event log, chart,
// history); sees the API's 4xx message for a bad argument; pages the history; with
// --mock-controls (tests/web/mock_api.py only) drops the event stream and sees the
// "reconnecting" badge and the page recover; checks the narrow layout; saves a screenshot.
// Every wait is on a condition (Playwright's waitFor / waitForFunction), never a fixed sleep.
// Prints "ok - ..." per check and a closing "N passed, N failed" line; exits non-zero on failure.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

function usage(msg) {
  if (msg) console.error(`dashboard_test: ${msg}`);
  console.error('usage: dashboard_test.mjs BASE_URL SCREENSHOT.png [--workers N] [--servers N] '
    + '[--min-chart-points N] [--mock-controls] [--narrow-screenshot PATH] [--timeout-ms MS]');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { workers: 1, servers: 1, minChartPoints: 1, mockControls: false,
    narrow: null, timeout: 30000, positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => { if (i + 1 >= argv.length) usage(`${a} needs a value`); return argv[++i]; };
    if (a === '--workers') opts.workers = Number(value());
    else if (a === '--servers') opts.servers = Number(value());
    else if (a === '--min-chart-points') opts.minChartPoints = Number(value());
    else if (a === '--mock-controls') opts.mockControls = true;
    else if (a === '--narrow-screenshot') opts.narrow = value();
    else if (a === '--timeout-ms') opts.timeout = Number(value());
    else if (a.startsWith('--')) usage(`unknown option ${a}`);
    else opts.positional.push(a);
  }
  if (opts.positional.length !== 2) usage('BASE_URL and SCREENSHOT.png are required');
  [opts.base, opts.screenshot] = opts.positional;
  if (!/^https?:\/\//.test(opts.base)) usage(`BASE_URL must be http(s)://..., got ${opts.base}`);
  if (!opts.base.endsWith('/')) opts.base += '/';
  return opts;
}

const opts = parseArgs(process.argv.slice(2));
let passed = 0;
let failed = 0;
const t0 = Date.now();

function ok(what) {
  passed += 1;
  console.log(`ok - ${what} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}

async function step(what, fn) {
  try {
    await fn();
    ok(what);
  } catch (e) {
    failed += 1;
    console.log(`not ok - ${what}\n  ${String(e && e.stack || e).split('\n').slice(0, 6).join('\n  ')}`);
    throw e; // the checks build on each other: stop at the first failure
  }
}

if (!fs.existsSync(CHROMIUM)) {
  console.error(`dashboard_test: ${CHROMIUM} is missing: apt-get install -y chromium `
    + '(scripts/install-deps.sh installs it)');
  process.exit(1);
}

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'corral-web-chromium-'));
let context = null;
// Interrupted (Ctrl-C, the runner's cleanup, a closed pipe): close the browser, remove its dir.
async function abort(code) {
  if (context) await context.close().catch(() => {});
  fs.rmSync(userDataDir, { recursive: true, force: true });
  process.exit(code);
}
process.on('SIGINT', () => abort(130));
process.on('SIGTERM', () => abort(143));
process.on('SIGHUP', () => abort(129));
process.stdout.on('error', () => {}); // EPIPE: keep going to the cleanup
const pageErrors = [];

async function main() {
  // Playwright refuses --user-data-dir in args: a persistent context with a fresh directory is
  // the same thing.
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1440, height: 900 },
    deviceScaleFactor: 1,
    colorScheme: 'light',
    timeout: opts.timeout,
  });
  context.setDefaultTimeout(opts.timeout);
  const page = context.pages()[0] || await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') console.log(`  [browser console] ${m.text()}`); });

  const byId = (id) => page.getByTestId(id);
  const intOf = async (id) => Number((await byId(id).getAttribute('data-value')) ?? NaN);

  await step(`opens ${opts.base} and the event stream goes live`, async () => {
    const resp = await page.goto(opts.base, { waitUntil: 'domcontentloaded' });
    if (!resp || !resp.ok()) throw new Error(`GET ${opts.base}: ${resp && resp.status()}`);
    await page.locator('[data-testid="conn-badge"][data-state="live"]').waitFor();
    await page.evaluate(() => { window.__corralNoReload = 'still-here'; });
  });

  await step('shows the active master', async () => {
    await page.waitForFunction(() => {
      const m = document.querySelector('[data-testid="master-active"]');
      return m && m.dataset.value && m.dataset.value.length > 0;
    });
    console.log(`  master: ${await byId('master-active').getAttribute('data-value')}, backups: `
      + `${(await byId('master-backup').allTextContents()).join(', ') || 'none'}`);
  });

  await step(`shows at least ${opts.workers} worker(s)`, async () => {
    await byId('worker-row').nth(opts.workers - 1).waitFor();
    const n = Number(await byId('workers-count').textContent());
    if (n < opts.workers) throw new Error(`workers count ${n} < ${opts.workers}`);
  });

  await step(`shows ${opts.servers} ensemble server(s), one leading`, async () => {
    await byId('cluster-row').nth(opts.servers - 1).waitFor();
    await page.locator('[data-testid="cluster-row"][data-role="leader"], '
      + '[data-testid="cluster-row"][data-role="standalone"]').first().waitFor();
  });

  let doneBefore = 0;
  await step('shows the counts by state', async () => {
    await page.waitForFunction(() => ['pending', 'assigned', 'running', 'done', 'failed']
      .every((s) => /^\d+$/.test(document.querySelector(`[data-testid="count-${s}"]`).dataset.value || '')));
    doneBefore = await intOf('count-done');
  });

  let taskId = null;
  await step('submits a task through the form and shows its id', async () => {
    await byId('submit-kind').selectOption('sleep');
    await byId('submit-arg').fill('300');
    await byId('submit-count').fill('1');
    await byId('submit-button').click();
    const chip = byId('created-ids').locator('[data-task-id]').first();
    await chip.waitFor();
    taskId = await chip.getAttribute('data-task-id');
    if (!/^task-\d{10}$/.test(taskId)) throw new Error(`unexpected id ${taskId}`);
    console.log(`  created ${taskId}`);
  });

  await step('sees the task complete live: event log, done count, chart', async () => {
    await page.locator(`[data-testid="event-log"] li[data-type="task"][data-task-id="${taskId}"][data-state="done"]`).waitFor();
    await page.waitForFunction((before) => Number(document.querySelector('[data-testid="count-done"]').dataset.value) > before, doneBefore);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="chart"]').dataset.total) >= 1);
    if (await page.evaluate(() => window.__corralNoReload) !== 'still-here') throw new Error('the page reloaded');
  });

  await step('shows the API\'s 4xx message for a bad argument', async () => {
    await byId('submit-kind').selectOption('sleep');
    await byId('submit-arg').fill('not-a-number');
    await byId('submit-button').click();
    const err = byId('submit-error');
    await page.waitForFunction(() => /^4\d\d$/.test(document.querySelector('[data-testid="submit-error"]').dataset.status || ''));
    const text = (await err.textContent()).trim();
    if (text.length < 5) throw new Error(`empty error message: "${text}"`);
    console.log(`  error shown: ${text}`);
    await byId('submit-arg').fill('400');
  });

  await step('archives the task into the history, which pages', async () => {
    await page.locator(`[data-testid="history"] tr[data-task-id="${taskId}"]`).waitFor();
    const total = Number(await byId('history-range').getAttribute('data-total'));
    if (total > 10) {
      await byId('history-next').click();
      await page.locator('[data-testid="history-range"][data-offset="10"]').waitFor();
      await byId('history-prev').click();
      await page.locator('[data-testid="history-range"][data-offset="0"]').waitFor();
      console.log(`  paged through ${total} archived tasks`);
    }
  });

  if (opts.mockControls) {
    await step('shows "reconnecting" when the stream drops, then recovers', async () => {
      const r = await page.request.post(`${opts.base}_mock/drop-streams?refuse_ms=2500`);
      if (!r.ok()) throw new Error(`drop-streams: ${r.status()}`);
      await page.locator('[data-testid="conn-badge"][data-state="reconnecting"]').waitFor();
      await page.locator('[data-testid="conn-badge"][data-state="live"]').waitFor();
      await byId('submit-count').fill('3');
      await byId('submit-button').click();
      await page.waitForFunction(() => (document.querySelector('[data-testid="submit-result"]').dataset.ids || '').split(' ').length === 3);
      const ids = (await byId('submit-result').getAttribute('data-ids')).split(' ');
      for (const id of ids) {
        await page.locator(`[data-testid="event-log"] li[data-task-id="${id}"][data-state="done"]`).waitFor();
      }
      if (await page.evaluate(() => window.__corralNoReload) !== 'still-here') throw new Error('the page reloaded');
    });
  }

  await step(`the chart has at least ${opts.minChartPoints} second(s) with completions`, async () => {
    await page.waitForFunction((n) => Number(document.querySelector('[data-testid="chart"]').dataset.points) >= n,
      opts.minChartPoints, { timeout: Math.max(opts.timeout, opts.minChartPoints * 3000) });
  });

  await step(`saves a screenshot to ${opts.screenshot}`, async () => {
    fs.mkdirSync(path.dirname(path.resolve(opts.screenshot)), { recursive: true });
    await page.screenshot({ path: opts.screenshot, fullPage: true, animations: 'disabled' });
    const size = fs.statSync(opts.screenshot).size;
    if (size < 10000) throw new Error(`screenshot is only ${size} bytes`);
  });

  await step('fits a narrow (390 px) window without sideways scrolling', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForFunction(() => document.documentElement.scrollWidth <= window.innerWidth + 1);
    if (opts.narrow) await page.screenshot({ path: opts.narrow, fullPage: true, animations: 'disabled' });
  });

  await step('raised no uncaught errors in the page', async () => {
    if (pageErrors.length) throw new Error(pageErrors.join('\n'));
  });
}

let code = 0;
try {
  await main();
} catch (e) {
  code = 1;
  if (!failed) { // a failure outside the steps (the browser did not start, ...)
    failed += 1;
    console.log(`not ok - ${String(e && e.stack || e).split('\n').slice(0, 6).join('\n  ')}`);
  }
} finally {
  if (context) await context.close().catch(() => {});
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(code || (failed ? 1 : 0));
