// node tests/report/check_report.mjs PAGE.html... [--screenshot PNG]
//
// Opens each backtest report from file:// in headless Chromium (Debian's
// /usr/bin/chromium, or $SLUICE_CHROMIUM) with the network closed, waits until
// the page says it has drawn every chart (window.sluiceReport.done), and
// fails a page when:
//   - a chart failed, or the page reported an error of its own;
//   - the console logged an error, or a script threw;
//   - the page asked for anything but itself (file:, data:, blob:);
//   - a chart container holds no SVG marks;
//   - markup from the metrics ran (window.sluicePwned) or the pipeline name
//     and reason texts are not shown as text.
// --screenshot writes a full-page PNG of the first page.
// Needs report/node_modules/playwright-core: scripts/install-deps.sh.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHROMIUM = process.env.SLUICE_CHROMIUM || '/usr/bin/chromium';
const DRAW_TIMEOUT_MS = 60000;

function usage(message) {
  console.error(`check_report: ${message}\nusage: node tests/report/check_report.mjs PAGE.html... [--screenshot PNG]`);
  process.exit(2);
}

const pages = [];
let screenshot = null;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--screenshot') {
    if (i + 1 >= argv.length) usage('--screenshot needs a file name');
    screenshot = resolve(argv[++i]);
  } else if (argv[i].startsWith('-')) {
    usage(`unknown option ${argv[i]}`);
  } else {
    pages.push(resolve(argv[i]));
  }
}
if (!pages.length) usage('no page given');
for (const page of pages) {
  if (!existsSync(page)) usage(`${page} does not exist`);
}

let chromium;
try {
  ({ chromium } = createRequire(join(root, 'report', 'package.json'))('playwright-core'));
} catch (err) {
  console.error(`check_report: cannot load playwright-core from ${join(root, 'report', 'node_modules')} (${err.message}).\n` +
    'Run scripts/install-deps.sh (or: npm ci --prefix report).');
  process.exit(1);
}
if (!existsSync(CHROMIUM)) {
  console.error(`check_report: ${CHROMIUM} is missing. Run scripts/install-deps.sh (Debian package chromium), ` +
    'or point SLUICE_CHROMIUM at a Chromium binary.');
  process.exit(1);
}

// What the page shows and knows once it is drawn. Runs in the page.
function inspectPage() {
  const status = window.sluiceReport || {};
  const charts = Array.from(document.querySelectorAll('#report .chart'));
  const shown = document.getElementById('report-header').innerText + '\n' + document.getElementById('report').innerText;
  let metrics = null;
  try {
    metrics = JSON.parse(document.getElementById('sluice-metrics').textContent);
  } catch (err) {
    metrics = null;
  }
  const expectedTexts = [];
  if (metrics) {
    if (metrics.pipeline && metrics.pipeline.name) expectedTexts.push(String(metrics.pipeline.name));
    for (const p of metrics.policies || []) {
      for (const r of (p.reasons || []).slice(0, 15)) {
        if (r.text) expectedTexts.push(String(r.text));
      }
    }
  }
  return {
    done: status.done === true,
    charts: status.charts,
    drawn: status.drawn,
    errors: Array.isArray(status.errors) ? status.errors : ['window.sluiceReport.errors is not a list'],
    containers: charts.map((box, i) => ({
      index: i,
      title: box.querySelector('svg .role-title-text') ? box.querySelector('svg .role-title-text').textContent : '',
      svgs: box.querySelectorAll('svg').length,
      marks: box.querySelectorAll('svg .role-mark > *').length,
    })),
    errorNotes: Array.from(document.querySelectorAll('.chart-error, .fatal')).map((e) => e.textContent),
    pwned: window.sluicePwned,
    missingTexts: expectedTexts.filter((t) => !shown.includes(t.replace(/\s+/g, ' ').trim())),
  };
}

async function checkPage(context, file, screenshotPath) {
  const problems = [];
  const page = await context.newPage();
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (/^(file|data|blob):/.test(url)) return route.continue();
    problems.push(`request to ${url}`);
    return route.abort();
  });
  const started = Date.now();
  try {
    await page.goto(pathToFileURL(file).href, { waitUntil: 'load' });
    await page.waitForFunction(() => window.sluiceReport && window.sluiceReport.done === true, null, { timeout: DRAW_TIMEOUT_MS });
  } catch (err) {
    problems.push(`the page did not finish drawing: ${err.message.split('\n')[0]}`);
  }
  const r = await page.evaluate(inspectPage);
  for (const e of r.errors) problems.push(`report error: ${e}`);
  for (const e of r.errorNotes) problems.push(`shown error: ${e}`);
  if (!r.containers.length) problems.push('no chart container');
  if (r.charts !== r.containers.length) problems.push(`sluiceReport.charts is ${r.charts}, the page has ${r.containers.length} chart containers`);
  if (r.drawn !== r.charts) problems.push(`${r.drawn} of ${r.charts} charts drawn`);
  for (const c of r.containers) {
    if (c.svgs !== 1 || c.marks === 0) {
      problems.push(`chart ${c.index + 1} "${c.title}": ${c.svgs} svg, ${c.marks} marks`);
    }
  }
  if (r.pwned !== undefined) problems.push(`markup from the metrics ran (window.sluicePwned = ${r.pwned})`);
  for (const t of r.missingTexts) problems.push(`not shown as text: ${JSON.stringify(t)}`);
  if (screenshotPath) await page.screenshot({ path: screenshotPath, fullPage: true });
  await page.close();
  const name = file.startsWith(root + '/') ? file.slice(root.length + 1) : file;
  const timing = `${Date.now() - started} ms`;
  if (problems.length) {
    console.log(`FAIL ${name}: ${r.containers.length} charts, ${timing}`);
    for (const p of problems) console.log(`  ${p}`);
  } else {
    console.log(`ok   ${name}: ${r.containers.length} charts drawn, ${r.containers.reduce((n, c) => n + c.marks, 0)} SVG marks, ${timing}`);
  }
  return problems.length === 0;
}

const profile = mkdtempSync(join(tmpdir(), 'sluice-report-chromium-'));
let passed = 0;
let failed = 0;
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    // The machine has no network: no update checks, no sync, no QUIC probes.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1360, height: 900 },
    deviceScaleFactor: 1,
  });
  for (let i = 0; i < pages.length; i++) {
    if (await checkPage(context, pages[i], i === 0 ? screenshot : null)) passed++;
    else failed++;
  }
} catch (err) {
  console.log(`FAIL: ${err.message}`);
  failed++;
} finally {
  if (context) await context.close();
  rmSync(profile, { recursive: true, force: true });
}
if (screenshot && failed === 0) console.log(`screenshot: ${screenshot}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
