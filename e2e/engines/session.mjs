// A Session is what a behaviour (behaviours.mjs) is given: one running
// engine, the served test page and demos, and the tabs the behaviour opens.
// Tabs of the test page are reused: when a behaviour ends, each tab it used
// is checked for page errors, its instance destroyed (page.js reset()) and
// the tab left idle for the next behaviour; demo tabs and closed tabs are
// not reused. The other devices and the tables server a behaviour starts
// end with it.
import assert from 'node:assert/strict';
import { LOAD_TIMEOUT, sleep } from './lib/engines.mjs';
import { TablesServer } from './lib/tabsync-server.mjs';

export class Session {
  // browser: from launch(); base: URL of the test page's server; demoBase:
  // URL of the demos' server; results: the object numbers are recorded in;
  // serverBinary: cmd/tabsync-server, built (see tabsync-server.mjs).
  constructor(browser, base, demoBase, results, serverBinary) {
    this.browser = browser;
    this.base = base;
    this.demoBase = demoBase;
    this.results = results;
    this.serverBinary = serverBinary;
    this.idle = [];
    this.used = [];
    this.owned = []; // devices and servers, closed after the behaviour
    this.channels = 0;
  }

  // run runs one behaviour, then checks and releases its tabs, and closes
  // the devices and servers it started. It resolves with what the behaviour
  // returned.
  async run(behaviour) {
    try {
      return await behaviour(this);
    } finally {
      const used = this.used;
      this.used = [];
      try {
        await this.release(used);
      } finally {
        const owned = this.owned.reverse();
        this.owned = [];
        for (const o of owned) await o.close().catch(() => {});
      }
    }
  }

  // releaseTabs releases the tabs the behaviour used so far (checked,
  // reset, left idle), for a behaviour that goes on with other tabs.
  async releaseTabs() {
    const used = this.used;
    this.used = [];
    await this.release(used);
  }

  async release(pages) {
    const problems = [];
    for (const p of pages) {
      if (p.tab.closed) continue;
      const errors = (await p.tab.errors().catch((e) => [`reading the errors: ${e.message}`]))
        .filter((e) => !p.expected.some((re) => re.test(e)));
      if (errors.length) problems.push(`${p.tab.url}:\n\t${errors.join('\n\t')}`);
      if (p.demo || p.hidden || p.device || errors.length) {
        await p.tab.close().catch(() => {});
        continue;
      }
      await p.tab.eval('(reset(), true)');
      this.idle.push(p.tab);
    }
    assert.deepEqual(problems, [], 'errors in the pages');
  }

  // channel returns a channel name no other behaviour of the run uses.
  channel() {
    return `ch-${this.browser.name}-${++this.channels}-${Date.now() % 1e6}`;
  }

  // record keeps a measured number of this engine for the report.
  record(key, value) {
    this.results[key] = value;
  }

  // openTabs returns n tabs showing the test page, idle ones first unless
  // fresh is set.
  async openTabs(n, { fresh = false } = {}) {
    const pages = [];
    for (let i = 0; i < n; i++) {
      let tab = fresh ? null : this.idle.pop();
      if (!tab) {
        tab = await this.browser.open(`${this.base}/page.html`);
        await tab.waitFor('window.pageReady === true', LOAD_TIMEOUT);
      }
      pages.push(this.use(new Page(tab)));
    }
    return pages;
  }

  // openSynced returns n tabs set up on channel with config.
  async openSynced(n, channel, config) {
    const pages = await this.openTabs(n);
    for (const p of pages) await p.setup(channel, config);
    return pages;
  }

  // openDemo opens path (such as '/plain/') of the demos in a new tab.
  async openDemo(path) {
    const tab = await this.browser.open(this.demoBase + path);
    const page = this.use(new Page(tab));
    page.demo = true;
    return page;
  }

  // device opens another device: a profile of the engine sharing nothing
  // with this one's tabs or the other devices' (storage, BroadcastChannel,
  // Web Locks), closed after the behaviour. Its tabs are checked for errors
  // as the others are, and not reused.
  async device() {
    const d = await this.browser.device();
    this.owned.push(d);
    return {
      // openTabs opens n tabs of url (a path of the test page's server),
      // one after the other: the last one opened is in front.
      openTabs: async (n, url) => {
        const pages = [];
        for (let i = 0; i < n; i++) {
          const page = this.use(new Page(await d.open(this.base + url)));
          page.device = true;
          pages.push(page);
        }
        return pages;
      },
    };
  }

  // tablesServer starts a tabsync-server on 127.0.0.1 with an empty data
  // directory (see tabsync-server.mjs), stopped and removed after the
  // behaviour.
  async tablesServer() {
    if (!this.serverBinary) throw new Error('no tabsync-server binary: the runner builds one (buildServer)');
    const srv = await TablesServer.start(this.serverBinary);
    this.owned.push(srv);
    return srv;
  }

  use(page) {
    this.used.push(page);
    return page;
  }

  // noErrors asserts that the pages recorded no error.
  async noErrors(pages) {
    for (const p of pages) assert.deepEqual(await p.tab.errors(), [], `errors in ${p.tab.url}`);
  }

  // waitUntil polls the async condition f until it is true.
  async waitUntil(f, timeoutMs, what) {
    const deadline = Date.now() + timeoutMs;
    while (!(await f())) {
      if (Date.now() > deadline) throw new Error(`${this.browser.name}: waited ${timeoutMs} ms for ${what}`);
      await sleep(25);
    }
  }
}

// Page is a tab of the test page with the shorthands the behaviours use.
class Page {
  constructor(tab) {
    this.tab = tab;
    this.expected = []; // errors the behaviour caused on purpose
  }

  // expect makes errors matching re no failure of this tab: the ones the
  // behaviour causes on purpose, which only it can tell apart.
  expect(re) {
    this.expected.push(re);
  }

  eval(expr) {
    return this.tab.eval(expr);
  }

  waitFor(expr, timeoutMs) {
    return this.tab.waitFor(expr, timeoutMs);
  }

  reload() {
    return this.tab.reload();
  }

  // front makes the tab the one the user looks at (see engines.mjs).
  front() {
    return this.tab.front();
  }

  // hide puts the tab in the background; it is closed, not reused, after
  // the behaviour.
  hide() {
    this.hidden = true;
    return this.tab.hide();
  }

  close() {
    return this.tab.close();
  }

  // setup syncs a new zustand store holding initial (a JavaScript
  // expression) on channel with config (object fields, as JavaScript) and
  // resolves with the tab id once ready.
  async setup(channel, config, initial = '{}') {
    const id = await this.eval(`setup({channelName: ${JSON.stringify(channel)}, ${config}}, ${initial})`);
    assert.ok(id, 'setup returned a tab id');
    return id;
  }
}
