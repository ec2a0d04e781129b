// The three browser engines behind one small interface, each driven by a
// maintained library: Chromium and Firefox by puppeteer-core (CDP and
// WebDriver BiDi), WebKit (WebKitGTK's MiniBrowser under Xvfb) by
// selenium-webdriver talking to WebKitWebDriver.
//
//   const browser = await launch('firefox');
//   const tab = await browser.open(url);      // a new tab (window in WebKit)
//   await tab.eval('store.getState().n');     // awaited, JSON-decoded
//   await tab.waitFor('sync.isLeader()', 5000);
//   await tab.reload(); await tab.close(); await browser.close();
//   const other = await browser.device();     // a second device: open, close
//
// Every tab of a browser shares one profile (storage, BroadcastChannel, Web
// Locks), as the tabs of a user's browser do. browser.device() opens another
// profile, sharing nothing with the first, as a second device would: a
// browser context in Chromium and Firefox (a user context over BiDi), its
// tabs in a window of their own, or a second MiniBrowser session in WebKit
// (WebKitWebDriver runs one session at a time, so a second driver too, on
// the same X display; an automation session's storage is its own). Nothing here turns timer
// throttling off. Headless Chromium and Firefox keep their tabs in one tab
// strip: the tab opened last, or brought to the front (tab.front()), is
// visible and every other one is hidden, as for a user; hidden tabs run as
// the engine runs them for a user. WebKit's tabs are windows, all visible
// unless minimized (tab.hide()).
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const engineNames = ['chromium', 'firefox', 'webkit'];

// Timeouts of the driver, generous for a loaded 2-core machine.
export const LAUNCH_TIMEOUT = 60_000;
export const LOAD_TIMEOUT = 30_000;
export const CALL_TIMEOUT = 20_000;
const POLL_MS = 25;

// binaries finds each engine's program: $CHROME, $FIREFOX, $WEBKIT_DRIVER
// and $MINIBROWSER override the lookup (tools/ensure-browsers.sh installs
// them from Debian and prints these variables).
export function binaries(name) {
  const which = (...names) => {
    for (const n of names) {
      try {
        return execFileSync('sh', ['-c', `command -v "${n}"`], { encoding: 'utf8' }).trim();
      } catch {
        // not on PATH; try the next name
      }
    }
    return '';
  };
  switch (name) {
    case 'chromium':
      return { browser: process.env.CHROME || which('chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable') };
    case 'firefox':
      return { browser: process.env.FIREFOX || which('firefox-esr', 'firefox') };
    case 'webkit':
      return {
        driver: process.env.WEBKIT_DRIVER || which('WebKitWebDriver'),
        browser: process.env.MINIBROWSER || findMiniBrowser(),
        xvfb: which('Xvfb'),
      };
    default:
      throw new Error(`unknown engine ${name}; want one of ${engineNames.join(', ')}`);
  }
}

// findMiniBrowser asks dpkg where libwebkit2gtk-4.1-0 put MiniBrowser.
function findMiniBrowser() {
  try {
    const files = execFileSync('dpkg', ['-L', 'libwebkit2gtk-4.1-0'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return files.split('\n').find((f) => f.endsWith('/MiniBrowser')) || '';
  } catch {
    return '';
  }
}

// missing returns why name cannot run here, or '' when it can.
export function missing(name) {
  const b = binaries(name);
  const absent = Object.entries(b).filter(([, v]) => !v).map(([k]) => k);
  if (absent.length === 0) return '';
  return `${name}: no ${absent.join(', ')} found; run tools/ensure-browsers.sh (see README, Browser support)`;
}

// launch starts the engine and resolves with its Browser.
export async function launch(name) {
  const why = missing(name);
  if (why) throw new Error(why);
  return name === 'webkit' ? WebKitBrowser.launch() : PuppeteerBrowser.launch(name);
}

// withTimeout rejects with what if p has not settled within ms.
export function withTimeout(p, ms, what) {
  let timer;
  return Promise.race([
    p,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// wrap turns an expression into one that evaluates to the JSON of its
// awaited value, so that every engine returns the same thing.
const wrap = (expr) => `(async () => { const v = await (${expr}); return v === undefined ? null : JSON.stringify(v); })()`;

// Tab is what the behaviours use; the engines implement evalRaw, reload and
// close.
class Tab {
  constructor(browser, url) {
    this.browser = browser;
    this.url = url;
    this.closed = false;
    this.console = []; // driver-reported errors (puppeteer engines)
  }

  // eval evaluates the JavaScript expression expr in the page, awaits the
  // promise it gives, if any, and resolves with its value through JSON.
  async eval(expr) {
    const json = await withTimeout(this.evalRaw(wrap(expr)), CALL_TIMEOUT, `${this.browser.name}: evaluating ${abbrev(expr)}`);
    return json === null || json === undefined ? undefined : JSON.parse(json);
  }

  // waitFor evaluates expr every few ms until it is truthy; an exception
  // counts as false. It rejects after timeoutMs, with the page's errors.
  async waitFor(expr, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs;
    let last = 'it stayed false';
    for (;;) {
      try {
        if (await this.eval(`(async () => { try { return !!(await (${expr})) } catch (e) { return false } })()`)) return;
      } catch (err) {
        last = String(err.message || err);
      }
      if (Date.now() >= deadline) break;
      await sleep(POLL_MS);
    }
    const errs = await this.errors().catch(() => []);
    throw new Error(`${this.browser.name}: waited ${timeoutMs} ms for ${abbrev(expr)} in ${this.url}: ${last}` +
      (errs.length ? `\npage errors:\n\t${errs.join('\n\t')}` : ''));
  }

  // errors returns what the page recorded in window.__errors (see
  // server.mjs) and what the driver saw on the console.
  async errors() {
    const recorded = this.closed ? [] : (await this.eval('window.__errors || []')) || [];
    return [...recorded, ...this.console];
  }

  // loaded waits for the page's load event after a navigation; WebKit may
  // return from a navigation before the page's scripts have run.
  async loaded() {
    await this.waitFor('document.readyState === "complete"', LOAD_TIMEOUT);
  }
}

class PuppeteerBrowser {
  static async launch(name) {
    const { default: puppeteer } = await import('puppeteer-core');
    const { browser: executablePath } = binaries(name);
    const profile = await mkdtemp(join(tmpdir(), `tabsync-${name}-`));
    const options = { executablePath, headless: true, userDataDir: profile, timeout: LAUNCH_TIMEOUT, protocolTimeout: CALL_TIMEOUT * 2 };
    if (name === 'firefox') {
      options.browser = 'firefox';
    } else {
      options.args = [
        // Without these Chromium keeps trying to reach hosts this network
        // does not have (see BROWSER-NOTES.md).
        '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
        ...(process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : []),
      ];
    }
    const b = new PuppeteerBrowser();
    b.name = name;
    b.profile = profile;
    b.pptr = await puppeteer.launch(options);
    b.target = b.pptr; // where new tabs open: the browser, or a device's context
    b.version = await b.pptr.version();
    b.tabs = [];
    return b;
  }

  // device opens a browser context (its own storage, BroadcastChannel and
  // Web Locks); its first tab opens in a new window, so that the device has
  // a tab in front of its own, as a second device's screen would.
  async device() {
    const d = new PuppeteerBrowser();
    d.name = this.name;
    d.version = this.version;
    d.pptr = this.pptr;
    d.target = await withTimeout(this.pptr.createBrowserContext(), LOAD_TIMEOUT, `${this.name}: creating a browser context`);
    d.tabs = [];
    d.newWindow = true;
    d.close = () => withTimeout(d.target.close(), 15_000, `${this.name}: closing a browser context`);
    return d;
  }

  // open loads url in a new tab, which becomes the selected one.
  async open(url) {
    const how = this.newWindow ? { type: 'window' } : undefined;
    this.newWindow = false;
    const page = await withTimeout(this.target.newPage(how), LOAD_TIMEOUT, `${this.name}: opening a tab`);
    const tab = new PuppeteerTab(this, url, page);
    this.tabs.push(tab);
    await page.goto(url, { waitUntil: 'load', timeout: LOAD_TIMEOUT });
    return tab;
  }

  async close() {
    await withTimeout(this.pptr.close(), 15_000, `${this.name}: closing`).catch(() => this.pptr.process()?.kill('SIGKILL'));
    await rm(this.profile, { recursive: true, force: true });
  }
}

class PuppeteerTab extends Tab {
  constructor(browser, url, page) {
    super(browser, url);
    this.page = page;
    page.on('console', (m) => {
      if (m.type() === 'error') this.console.push(`console error: ${m.text()}`);
    });
    page.on('pageerror', (e) => this.console.push(`page error: ${e.message || e}`));
  }

  evalRaw(js) {
    return this.page.evaluate(js);
  }

  // front makes this the browser's selected tab, visible; the others are
  // hidden then, as in a window's tab strip.
  async front() {
    await this.page.bringToFront();
  }

  // hide puts another tab in front of this one, opening a blank tab if
  // there is no other.
  async hide() {
    const other = this.browser.tabs.find((t) => t !== this && !t.closed);
    if (other) await other.front();
    else await this.browser.target.newPage();
  }

  async reload() {
    await this.page.reload({ waitUntil: 'load', timeout: LOAD_TIMEOUT });
  }

  // close closes the tab as a user does: unload handlers run, beforeunload
  // prompts do not.
  async close() {
    if (this.closed) return;
    this.closed = true;
    await withTimeout(this.page.close({ runBeforeUnload: false }), CALL_TIMEOUT, `${this.browser.name}: closing a tab`);
  }
}

// WebKitBrowser runs Xvfb, WebKitWebDriver and, through it, MiniBrowser.
// WebDriver classic has one current window per session, so every command
// switches to its tab's window first, one command at a time.
class WebKitBrowser {
  // launch starts Xvfb, or uses the display of a running one.
  static async launch(display) {
    const { xvfb, driver, browser: binary } = binaries('webkit');
    const b = new WebKitBrowser();
    b.name = 'webkit';
    b.children = [];
    b.queue = Promise.resolve();
    b.current = null;
    b.tabs = [];
    // If this process ends without close (a crash, a failed run), take Xvfb
    // and the driver with it; MiniBrowser ends with its X server.
    b.killChildren = () => b.children.forEach((c) => c.exitCode === null && c.signalCode === null && c.kill('SIGKILL'));
    process.once('exit', b.killChildren);
    try {
      b.display = display || (await b.startXvfb(xvfb));
      const port = await freePort();
      const wd = spawn(driver, [`--port=${port}`, '--host=127.0.0.1'], {
        env: { ...process.env, DISPLAY: b.display },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      b.children.push(wd);
      b.driverLog = '';
      wd.stderr.on('data', (d) => { b.driverLog = (b.driverLog + d).slice(-4000); });
      const { Builder } = await import('selenium-webdriver');
      const server = `http://127.0.0.1:${port}`;
      await waitForHttp(`${server}/status`, LAUNCH_TIMEOUT);
      b.driver = await withTimeout(new Builder()
        .usingServer(server)
        .withCapabilities({
          browserName: 'MiniBrowser',
          'webkitgtk:browserOptions': { binary, args: ['--automation'] },
        })
        .build(), LAUNCH_TIMEOUT, 'webkit: starting a session');
      await b.driver.manage().setTimeouts({ script: CALL_TIMEOUT, pageLoad: LOAD_TIMEOUT });
      const caps = await b.driver.getCapabilities();
      b.version = `MiniBrowser ${caps.get('browserVersion') || ''}`.trim();
      b.first = await b.driver.getWindowHandle(); // used by the first open
      return b;
    } catch (err) {
      await b.close();
      throw new Error(`${err.message}${b.driverLog ? `\nWebKitWebDriver:\n${b.driverLog}` : ''}`);
    }
  }

  // device starts a second driver and MiniBrowser session on this one's
  // display.
  device() {
    return WebKitBrowser.launch(this.display);
  }

  // startXvfb starts an X server on a free display and resolves with it.
  startXvfb(xvfb) {
    const x = spawn(xvfb, ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp'], {
      stdio: ['ignore', 'ignore', 'ignore', 'pipe'],
    });
    this.children.push(x);
    return withTimeout(new Promise((resolve, reject) => {
      let out = '';
      x.stdio[3].on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(`:${out.trim()}`);
      });
      x.once('exit', (code) => reject(new Error(`Xvfb exited with ${code}`)));
    }), LAUNCH_TIMEOUT, 'starting Xvfb');
  }

  // run runs f with the driver on window handle, after the commands queued
  // before it.
  run(handle, f) {
    const next = this.queue.then(async () => {
      if (handle && this.current !== handle) {
        await this.driver.switchTo().window(handle);
        this.current = handle;
      }
      return f(this.driver);
    });
    this.queue = next.catch(() => {});
    return next;
  }

  // open loads url in a new window (the first time, in the window the
  // session started with).
  async open(url) {
    const handle = await this.run(null, async (d) => {
      if (this.first) {
        const h = this.first;
        this.first = null;
        return h;
      }
      await d.switchTo().newWindow('window');
      return d.getWindowHandle();
    });
    this.current = handle;
    const tab = new WebKitTab(this, url, handle);
    this.tabs.push(tab);
    await this.run(handle, (d) => d.get(url));
    await tab.loaded();
    return tab;
  }

  async close() {
    process.removeListener('exit', this.killChildren);
    if (this.driver) await withTimeout(this.driver.quit(), 15_000, 'webkit: quitting').catch(() => {});
    for (const c of this.children.reverse()) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGTERM');
        await withTimeout(new Promise((r) => c.once('exit', r)), 5_000, 'stopping').catch(() => c.kill('SIGKILL'));
      }
    }
  }
}

class WebKitTab extends Tab {
  constructor(browser, url, handle) {
    super(browser, url);
    this.handle = handle;
  }

  evalRaw(js) {
    return this.browser.run(this.handle, async (d) => {
      const r = await d.executeAsyncScript(`const done = arguments[arguments.length - 1];
        (${js}).then((v) => done({ v }), (e) => done({ e: String(e) + (e && e.stack ? "\\n" + e.stack : "") }));`);
      if (r && r.e !== undefined) throw new Error(r.e);
      return r ? r.v : null;
    });
  }

  // front does nothing: each tab is a window of its own, and they are all
  // visible unless hidden.
  async front() {}

  // hide minimizes the tab's window.
  async hide() {
    await this.browser.run(this.handle, (d) => d.manage().window().minimize());
  }

  async reload() {
    await this.browser.run(this.handle, (d) => d.navigate().refresh());
    await this.loaded();
  }

  async close() {
    if (this.closed) return;
    this.closed = true;
    await this.browser.run(this.handle, async (d) => {
      await d.close();
      this.browser.current = null;
      const left = await d.getAllWindowHandles();
      if (left.length > 0) {
        await d.switchTo().window(left[0]);
        this.browser.current = left[0];
      }
    });
  }
}

// freePort resolves with a TCP port of 127.0.0.1 that nothing listens on.
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// waitForHttp resolves once url answers 2xx; it rejects after timeoutMs.
export async function waitForHttp(url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url}: no answer within ${timeoutMs} ms`);
    await sleep(50);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function abbrev(s) {
  s = s.replace(/\s+/g, ' ').trim();
  return JSON.stringify(s.length > 120 ? `${s.slice(0, 117)}...` : s);
}
