// A static file server for the pages the engines load, on 127.0.0.1 only
// (a secure origin: Web Locks, BroadcastChannel and IndexedDB work there).
//
// Every HTML page it serves gets one script first in <head>, errorRecorder,
// which keeps the page's uncaught exceptions, unhandled rejections, failed
// resource loads and console.error calls in window.__errors. WebDriver classic
// (WebKitWebDriver) has no console log, so this is how every engine's errors
// are read the same way; the puppeteer engines also report their console.
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export const errorRecorder = `<script>
(() => {
  const errors = (window.__errors = []);
  const text = (v) => (v && v.stack) || (v && v.message) || String(v);
  addEventListener('error', (e) => {
    if (e.target && e.target !== window && (e.target.src || e.target.href)) {
      errors.push('failed to load ' + (e.target.src || e.target.href));
    } else {
      errors.push('exception: ' + text(e.error || e.message) + (e.filename ? ' (at ' + e.filename + ':' + e.lineno + ')' : ''));
    }
  }, true);
  addEventListener('unhandledrejection', (e) => errors.push('unhandled rejection: ' + text(e.reason)));
  const error = console.error;
  console.error = function (...args) {
    errors.push('console.error: ' + args.map(text).join(' '));
    return error.apply(this, args);
  };
})();
</script>`;

// serve serves mounts, URL path prefixes ("/", "/tabsync/") mapped to
// directories, the longest prefix first. A directory's index.html answers
// for it. It resolves with { url, close }.
export async function serve(mounts) {
  const prefixes = Object.keys(mounts).sort((a, b) => b.length - a.length);
  const server = createServer(async (req, res) => {
    try {
      const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
      const prefix = prefixes.find((p) => path.startsWith(p));
      if (prefix === undefined) return notFound(res);
      const root = mounts[prefix];
      let file = normalize(join(root, path.slice(prefix.length)));
      if (file !== root && !file.startsWith(root.endsWith(sep) ? root : root + sep)) return notFound(res);
      let st = await stat(file).catch(() => null);
      if (st && st.isDirectory()) {
        if (!path.endsWith('/')) {
          res.writeHead(301, { location: path + '/' }).end();
          return;
        }
        file = join(file, 'index.html');
        st = await stat(file).catch(() => null);
      }
      if (!st || !st.isFile()) return notFound(res);
      let body = await readFile(file);
      const type = types[extname(file)] || 'application/octet-stream';
      if (extname(file) === '.html') body = Buffer.from(inject(body.toString('utf8')));
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    } catch (err) {
      res.writeHead(500, { 'content-type': 'text/plain' }).end(String(err));
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

function notFound(res) {
  res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
}

// inject puts errorRecorder before the page's first script: right after
// <head> (or <html>, or at the start).
function inject(html) {
  for (const tag of [/<head[^>]*>/i, /<html[^>]*>/i]) {
    const m = tag.exec(html);
    if (m) return html.slice(0, m.index + m[0].length) + errorRecorder + html.slice(m.index + m[0].length);
  }
  return errorRecorder + html;
}
