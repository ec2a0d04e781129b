// The wire-format corpus (testdata/wire at the repository's root, see its
// README) against the built ESM entry and the real tabsync.wasm: every
// message is posted onto Node's BroadcastChannel where an instance
// configured as its file's receiver listens. An accepted message is
// received and not dropped; a rejected one is dropped under its reason, and
// the first drop of each reason reaches onError (phase 'protocol').
// Skipped until `make build` has made dist/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { store } from './store.mjs';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const wire = fileURLToPath(new URL('../../testdata/wire/', import.meta.url));
const built = ['tabsync.mjs', 'tabsync-nopersist.wasm'].every((f) => existsSync(dist + f));
const skip = built ? false : 'dist/ not built (run `make build` at the repo root)';

// readCorpus reads one file with '{self}' standing for the receiving tab's id.
function readCorpus(name, self) {
  const f = JSON.parse(readFileSync(wire + name, 'utf8').replaceAll('{self}', self));
  assert.ok(Array.isArray(f.cases) && f.cases.length > 0, `${name} has cases`);
  return f;
}

async function until(check, what, ms = 3000) {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`waited ${ms} ms for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('every message of testdata/wire is accepted or dropped as it says', { skip }, async (t) => {
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (url) =>
    new Response(readFileSync(dist + String(url).split('/').pop()), { headers: { 'Content-Type': 'application/wasm' } });
  try {
    const { createBroadcastSync } = await import(dist + 'tabsync.mjs');
    const names = readdirSync(wire).filter((n) => n.endsWith('.json')).sort();
    assert.ok(names.length > 0);
    for (const name of names) {
      await t.test(name, async () => {
        const { receiver } = readCorpus(name, 'x');
        const errors = [];
        const channelName = `corpus-${process.pid}-${name}`;
        const sync = createBroadcastSync(store(), {
          channelName,
          throttleMs: 0,
          appVersion: receiver.appVersion,
          maxMessageBytes: receiver.maxMessageBytes,
          onError: (e) => errors.push(`${e.phase}: ${e.message}`),
        });
        sync.start();
        await sync.ready;
        const ch = new BroadcastChannel(channelName);
        const reported = new Set();
        try {
          for (const c of readCorpus(name, sync.getTabId()).cases) {
            const before = sync.getStats();
            const errs = errors.length;
            ch.postMessage(c.message);
            await until(() => sync.getStats().received === before.received + 1, `${c.name} to be received`);
            const after = sync.getStats();
            if (c.expect === 'accepted') {
              assert.equal(after.dropped, before.dropped, `${c.name}: not dropped`);
              assert.equal(errors.length, errs, `${c.name}: nothing reported`);
              continue;
            }
            assert.equal(c.expect, 'rejected', `${c.name}: expect`);
            assert.equal(after.dropped, before.dropped + 1, `${c.name}: dropped`);
            assert.equal(after.droppedByReason[c.reason], before.droppedByReason[c.reason] + 1, `${c.name}: dropped as ${c.reason}`);
            if (!reported.has(c.reason)) {
              reported.add(c.reason);
              assert.equal(errors.length, errs + 1, `${c.name}: the first drop as ${c.reason} is reported`);
              assert.match(errors[errs], /^protocol: /);
            }
          }
        } finally {
          ch.close();
          sync.destroy();
        }
      });
    }
  } finally {
    globalThis.fetch = realFetch;
  }
});
