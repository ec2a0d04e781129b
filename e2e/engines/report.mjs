// report.mjs prints the Browser support table (README.md) from the numbers a
// run of the suite wrote with ENGINES_REPORT:
//
//   make engines ENGINES_REPORT=docs/browsers/run.json
//   node e2e/engines/report.mjs docs/browsers/run.json
import { readFileSync } from 'node:fs';

const file = process.argv[2];
if (!file) {
  console.error('usage: node report.mjs RUN.json');
  process.exit(2);
}
const run = JSON.parse(readFileSync(file, 'utf8'));
const engines = Object.entries(run.engines);
const ms = (v) => (v === undefined ? 'n/a' : `${v} ms`);
const rows = [
  ['Engine (driver)', (e) => ({ chromium: 'Chromium (puppeteer-core, CDP)', firefox: 'Firefox ESR (puppeteer-core, WebDriver BiDi)', webkit: 'WebKitGTK MiniBrowser (selenium-webdriver, WebKitWebDriver)' })[e]],
  ['Version', (e, r) => r.version],
  ['Behaviours passed', (e, r) => `${r.passed.length} of ${r.passed.length + r.failed.length + r.skipped.length}`],
  ['Ready: a new tab\'s navigation → ready, the driver\'s call after the load included (median of 3)', (e, r) => ms(r.navigationToReadyMs)],
  ['Ready: createBroadcastSync → ready, the module fetched and compiled while the page loaded (median of 3)', (e, r) => ms(r.readyMs)],
  ['Change round trip, median of 40 (plain BroadcastChannel)', (e, r) => `${ms(r.latencyRttMs)} (${ms(r.broadcastChannelRttMs)})`],
  ['New tab: created → has the state of the 4 open tabs', (e, r) => ms(r.newTabStateMs)],
  ['Leader handover after a close, median of 5 (max)', (e, r) => `${ms(r.handoverMs)} (${ms(r.handoverMaxMs)})`],
  ['setTimeout(fn, 10) in a hidden tab fires after', (e, r) => ms(r.hiddenTimerMs)],
  ['Hidden tab: a change reaches it', (e, r) => ms(r.toHiddenMs)],
  ["Hidden tab: its change's first / final value arrives", (e, r) => `${ms(r.fromHiddenFirstMs)} / ${ms(r.fromHiddenFinalMs)}`],
  ["Hidden leader answers a new tab's state request after", (e, r) => ms(r.hiddenAnswersNewTabMs)],
  ['Tables, two devices: set() → event on the other device, median of 20 (max), tab holding the connection / other tab',
    (e, r) => `${ms(r.tablesConnectedTabMs)} (${ms(r.tablesConnectedTabMaxMs)}) / ${ms(r.tablesOtherTabMs)} (${ms(r.tablesOtherTabMaxMs)})`],
  ["Tables: hidden tabs of the 4 (B's connected tab hidden?), their setTimeout(fn, 10) meanwhile", (e, r) => (r.tablesHiddenTabs === undefined ? 'n/a' :
    `${r.tablesHiddenTabs} (${r.tablesConnectedTabHidden ? 'yes' : 'no'})${r.tablesHiddenTabs ? `, ${ms(r.tablesHiddenTimerMs)}` : ''}`)],
  ['Tables: a write made while the server was down reaches the other device, after the restart', (e, r) => ms(r.tablesAfterRestartMs)],
  ['Not passing', (e, r) => [...r.failed, ...r.skipped].join('; ') || 'none'],
];
const line = (cells) => `| ${cells.join(' | ')} |`;
console.log(line(['', ...engines.map(([e]) => e)]));
console.log(line(['---', ...engines.map(() => '---')]));
for (const [label, f] of rows) console.log(line([label, ...engines.map(([e, r]) => f(e, r))]));
console.log(`\nMeasured ${run.date.slice(0, 16).replace('T', ' ')} UTC on ${run.cores} cores (load ${run.load.join(', ')}), Node ${run.node}.`);
