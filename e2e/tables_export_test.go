//go:build e2e && !(js && wasm)

package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/server/servertest"
)

// exportWrites are the writes of TestTablesTheExportCarriesEveryString, in
// the page's JavaScript: [key, value] pairs. The inbox (npm/src/tables.js
// putGo) is kept for calls of up to 8192 bytes and made for one call past
// it; the second write is past it on both ends (the writer's set, and the
// server's frame entering the other device through the socket's listener),
// and the writes after it go through a kept inbox again, in a memory that
// may have grown since its view was made.
const exportWrites = `[
	['ké😀y', {s: 'tâble 😀 \u2028 \u0000 end'}],
	['big😀', {s: 'é😀'.repeat(60000)}],
	['after', {s: 'ü'.repeat(2000)}],
	['é'.repeat(500), {s: ''}],
]`

// The tables module's export, through the npm package as it ships (its
// own putGo and listen, not a test's copy): strings that are not ASCII, a
// call larger than the kept inbox, the kept inbox again after it, reach
// the writer's module and the other device unchanged; a key is limited in
// UTF-8 bytes (1024), not in UTF-16 units, with a clear error.
func TestTablesTheExportCarriesEveryString(t *testing.T) {
	srv := servertest.Run(t, nil)
	devs := devices(t, 2, 1, srv.URL(), "export-strings")
	for _, d := range devs {
		d.waitStatus(t, "online", 20*time.Second)
	}
	a, b := devs[0].tabs[0], devs[1].tabs[0]

	var grew []float64
	a.Eval(t, `(async () => {
		const grew = [];
		for (const [k, v] of `+exportWrites+`) {
			const before = db._exports.mem.buffer.byteLength;
			await db.set('scores', k, v);
			grew.push(db._exports.mem.buffer.byteLength - before);
		}
		return grew;
	})()`, &grew)
	t.Logf("the writer's wasm memory grew by %v bytes per write", grew)

	// 400 emoji are 800 UTF-16 units and 1,600 bytes: over the limit.
	var refused string
	a.Eval(t, `db.set('scores', '😀'.repeat(400), 1).then(() => 'stored', (e) => e.message)`, &refused)
	assert.Contains(t, refused, "key")
	assert.Contains(t, refused, "1024")

	same := `(async () => {
		const want = ` + exportWrites + `;
		const bad = [];
		for (const [k, v] of want) {
			const got = await db.get('scores', k);
			if (JSON.stringify(got) !== JSON.stringify(v)) bad.push(k.slice(0, 12) + ': ' + JSON.stringify(got === undefined ? null : got).slice(0, 40));
		}
		const keys = events.filter((e) => e.table === 'scores').map((e) => e.op.key);
		for (const [k] of want) if (!keys.includes(k)) bad.push('no event for ' + k.slice(0, 12));
		return bad;
	})()`
	var bad []string
	a.Eval(t, same, &bad)
	assert.Empty(t, bad, "the writer")
	require.NoError(t, b.Await(`events.length >= 4 && db.pending === 0`, 20*time.Second))
	b.Eval(t, same, &bad)
	assert.Empty(t, bad, "the other device")
	var errs []string
	for _, tab := range []*Tab{a, b} {
		tab.Eval(t, `errors.map((e) => e.phase + ': ' + e.message)`, &errs)
		assert.Empty(t, errs)
	}
}

// Reads and writes of one tab keep the order they were made in: set and
// delete enter the module at once once it started, so get and getAll
// must too, or a get made before a set awaits a microtask and reads the
// set's value.
func TestTablesAGetMadeBeforeASetReadsTheValueBefore(t *testing.T) {
	a := onlineTab(t, "read-order")

	var got []any
	a.Eval(t, `(async () => {
		await db.set('scores', 'k', 1);
		const one = db.get('scores', 'k');
		const all = db.getAll('scores');
		const write = db.set('scores', 'k', 2);
		const gone = db.get('scores', 'k');
		const del = db.delete('scores', 'k');
		return [await one, (await all).k, await gone, await write, await del, await db.get('scores', 'k')];
	})()`, &got)
	assert.Equal(t, []any{1.0, 1.0, 2.0, nil, nil, nil}, got)
}

// A write's number crosses into the module as an int32 and comes back with
// onSettled: the 2^31st write of a page settles too.
func TestTablesAWritePastTheInt32sNumbersSettles(t *testing.T) {
	a := onlineTab(t, "write-numbers")

	var got []any
	a.Eval(t, `(async () => {
		db._lastWrite = 2 ** 31 - 2;
		const settled = (p) => Promise.race([p.then(() => 'settled', (e) => e.message), new Promise((r) => setTimeout(() => r('not settled in 5 s'), 5000))]);
		return [await settled(db.set('scores', 'k', 1)), await settled(db.set('scores', 'k', 2)), await settled(db.delete('scores', 'k'))];
	})()`, &got)
	assert.Equal(t, []any{"settled", "settled", "settled"}, got)
}

// onlineTab is a tab of one device, online against a server of its own,
// its database named db.
func onlineTab(t *testing.T, db string) *Tab {
	t.Helper()
	d := devices(t, 1, 1, servertest.Run(t, nil).URL(), db)[0]
	d.waitStatus(t, "online", 20*time.Second)
	return d.tabs[0]
}
