// The declarations against typed usage files, with the real frameworks'
// types: test/types-check.ts (the core and the React hook) and
// test/adapters-types.ts (every adapter). tsc must report nothing, which
// includes every ts-expect-error line being an error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));

for (const project of ['test/tsconfig.json', 'test/tsconfig.adapters.json']) {
  test(`tsc -p ${project}`, () => {
    let out = '';
    try {
      execFileSync(process.execPath, [tsc, '-p', project], { cwd: root, encoding: 'utf8', timeout: 120_000 });
    } catch (err) {
      out = `${err.stdout || ''}${err.stderr || ''}` || String(err);
    }
    assert.equal(out, '', 'tsc reports no errors');
  });
}
