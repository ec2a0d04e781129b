// The relay of tables across devices (cmd/tabsync-server), as the tables
// behaviour runs it: built once per run with `go build` ($GO, or go), then
// started on 127.0.0.1 with a data directory of its own, stopped and
// started again on the same port and data (a relay restart, or an outage),
// and stopped for good when the behaviour ends, also when it fails or the
// runner exits.
//
//   const bin = await buildServer(dir);
//   const srv = await TablesServer.start(bin);   // srv.url: ws://127.0.0.1:PORT/sync
//   await srv.stop(); await srv.start();         // down, then up again
//   await srv.close();                           // stopped, data removed
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LAUNCH_TIMEOUT, freePort, waitForHttp, withTimeout } from './engines.mjs';
import { repo } from './package.mjs';

// buildServer builds cmd/tabsync-server into dir and resolves with the
// binary's path.
export async function buildServer(dir) {
  const out = join(dir, 'tabsync-server');
  try {
    await promisify(execFile)(process.env.GO || 'go', ['build', '-o', out, './cmd/tabsync-server'], { cwd: repo });
  } catch (err) {
    throw new Error(`go build ./cmd/tabsync-server: ${err.stderr || err.message}`);
  }
  return out;
}

export class TablesServer {
  // start starts binary on a free loopback port with an empty data
  // directory and resolves once it answers /healthz.
  static async start(binary) {
    const s = new TablesServer();
    s.binary = binary;
    s.port = await freePort();
    s.dataDir = await mkdtemp(join(tmpdir(), 'tabsync-server-'));
    s.proc = null;
    s.log = '';
    await s.start();
    return s;
  }

  // url is the WebSocket endpoint createTableSync connects to.
  get url() {
    return `ws://127.0.0.1:${this.port}/sync`;
  }

  // start starts the server again (after stop) on the same port and data.
  async start() {
    if (this.proc) throw new Error('tabsync-server: already running');
    const proc = spawn(this.binary, ['--listen', `127.0.0.1:${this.port}`, '--data', this.dataDir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.proc = proc;
    proc.stderr.on('data', (d) => { this.log = (this.log + d).slice(-4000); });
    // If the runner ends without close (a crash), take the server with it.
    this.kill = () => proc.exitCode === null && proc.signalCode === null && proc.kill('SIGKILL');
    process.once('exit', this.kill);
    const exited = new Promise((_, reject) => proc.once('exit', (code, sig) => reject(new Error(`tabsync-server exited (${code ?? sig}) before it was ready:\n${this.log}`))));
    exited.catch(() => {}); // only raced below
    await Promise.race([waitForHttp(`http://127.0.0.1:${this.port}/healthz`, LAUNCH_TIMEOUT), exited]);
  }

  // stop stops the server as SIGTERM does (its sockets closed, JetStream
  // flushed), killing it if it has not exited within 20 s.
  async stop() {
    const proc = this.proc;
    if (!proc) return;
    this.proc = null;
    process.removeListener('exit', this.kill);
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((resolve) => proc.once('exit', resolve));
    proc.kill('SIGTERM');
    await withTimeout(exited, 20_000, 'stopping tabsync-server').catch(() => {
      proc.kill('SIGKILL');
      return exited;
    });
  }

  // close stops the server and removes its data.
  async close() {
    await this.stop();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}
