// The cross-engine suite: every behaviour of behaviours.mjs, and the two
// demos, in Chromium, Firefox and WebKit, against the packed npm package.
//
//   npm test                          all three engines
//   ENGINES=firefox,webkit npm test   some of them
//   ENGINES_REPORT=run.json npm test  also write the measured numbers
//
// `make engines` runs it after installing the engines
// (tools/ensure-browsers.sh) and building the package.
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { behaviours, demos } from './behaviours.mjs';
import { engineNames, launch } from './lib/engines.mjs';
import { bundleReactDemo, modules, pack, repo } from './lib/package.mjs';
import { serve } from './lib/server.mjs';
import { buildServer } from './lib/tabsync-server.mjs';
import { Session } from './session.mjs';

const engines = (process.env.ENGINES || engineNames.join(',')).split(',').map((e) => e.trim()).filter(Boolean);
for (const e of engines) {
  if (!engineNames.includes(e)) throw new Error(`ENGINES: unknown engine ${e}; want some of ${engineNames.join(',')}`);
}

const report = { date: new Date().toISOString(), cores: cpus().length, node: process.version, engines: {} };
let pkg, page, demo, bundle, serverDir, serverBinary;

before(async () => {
  pkg = pack();
  serverDir = mkdtempSync(join(tmpdir(), 'tabsync-server-bin-'));
  serverBinary = await buildServer(serverDir);
  page = await serve({
    '/': join(repo, 'e2e', 'testdata'),
    '/tabsync/': pkg.dist,
    '/zustand/': join(modules, 'zustand', 'esm'),
  });
  bundle = mkdtempSync(join(tmpdir(), 'tabsync-react-'));
  await bundleReactDemo(pkg.dir, bundle);
  demo = await serve({
    '/': join(repo, 'examples'),
    '/tabsync/': pkg.dist,
    '/react/dist/': bundle,
  });
});

after(async () => {
  await page?.close();
  await demo?.close();
  pkg?.cleanup();
  if (bundle) rmSync(bundle, { recursive: true, force: true });
  if (serverDir) rmSync(serverDir, { recursive: true, force: true });
  report.load = loadavg().map((x) => Math.round(x * 10) / 10);
  if (process.env.ENGINES_REPORT) writeFileSync(process.env.ENGINES_REPORT, `${JSON.stringify(report, null, 2)}\n`);
});

for (const engine of engines) {
  describe(engine, () => {
    let browser, session;
    const results = (report.engines[engine] = { passed: [], failed: [], skipped: [] });

    before(async () => {
      browser = await launch(engine);
      results.version = browser.version;
      session = new Session(browser, page.url, demo.url, results, serverBinary);
    });
    after(async () => {
      await browser?.close();
    });

    for (const [name, behaviour] of Object.entries({ ...behaviours, ...demos })) {
      it(name, async (t) => {
        try {
          const r = await session.run(behaviour);
          if (typeof r === 'string' && r.startsWith('skip: ')) {
            results.skipped.push(`${name}: ${r.slice(6)}`);
            t.skip(r.slice(6));
            return;
          }
          results.passed.push(name);
        } catch (err) {
          results.failed.push(`${name}: ${String(err.message).split('\n')[0]}`);
          throw err;
        }
      });
    }
  });
}
