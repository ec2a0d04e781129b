// The game-scores demo: the five lines of the README, plus a little UI.
import { createTableSync } from '/tabsync/tabsync.mjs';

const q = new URLSearchParams(location.search);
const serverUrl = q.get('server') || `ws://${location.hostname}:8081/sync`;
const db = createTableSync({ serverUrl, dbName: 'game-scores-demo', tables: ['game_scores'],
  onError: (e) => log({ origin: 'error', text: `${e.phase}: ${e.message}` }) });
window.db = db;

const $ = (id) => document.getElementById(id);
$('server').textContent = serverUrl;

function log({ origin, text }) {
  const li = document.createElement('li');
  const o = document.createElement('span');
  o.className = `origin ${origin}`;
  o.textContent = origin;
  li.append(o, ' ', text);
  $('log').prepend(li);
}

async function render() {
  const all = await db.getAll('game_scores');
  const rows = Object.entries(all).sort((a, b) => b[1].score - a[1].score);
  $('rows').replaceChildren(...rows.map(([key, p]) => {
    const tr = document.createElement('tr');
    const del = document.createElement('button');
    del.textContent = '✕';
    del.title = `delete ${key}`;
    del.onclick = () => db.delete('game_scores', key);
    tr.append(cell(p.name), cell(String(p.score)), cell(del));
    return tr;
  }));
}

function cell(content) {
  const td = document.createElement('td');
  td.append(content);
  return td;
}

function showStatus() {
  $('status').textContent = db.status;
  $('status').className = `status ${db.status}`;
  $('pending').textContent = String(db.pending);
}

window.addEventListener('idb-sync-update', (e) => {
  const { table, op, origin, meta } = e.detail;
  const v = meta.tableVersion ? `v${meta.tableVersion}` : 'pending';
  const what = op.operation === 'set' ? `${op.key} = ${op.value.score}` : `${op.key} deleted`;
  log({ origin, text: `${table}: ${what} (${v})` });
  render();
});

$('add').onsubmit = async (e) => {
  e.preventDefault();
  const name = $('name').value.trim();
  const score = Number($('score').value);
  await db.set('game_scores', name, { name, score, lastUpdated: new Date().toISOString() });
  $('score').value = '';
  $('name').value = '';
};

setInterval(showStatus, 200);
db.connect().then(render);
render();
