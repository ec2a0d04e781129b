// Package tableproto is the wire format of tabsync's table sync: the frames a
// client and tabsync-server exchange over a WebSocket at /sync, their error
// codes, and the rules for table names, keys, opIds and values.
// docs/SERVER-PROTOCOL.md is the full description; this is the summary.
//
// Every frame is one JSON object in one WebSocket text message, with a
// "type". The field names follow the reference design (subscribe, operation
// with opId, snapshot and update with tableVersion, originId, timestamp):
//
//	client → server
//	hello        {type, v: 1, clientId?, token?}           must come first
//	subscribe    {type, table, since?}                    since: the last tableVersion the client has
//	unsubscribe  {type, table}
//	operation    {type, table, opId, payload: {operation: "set"|"delete", key, value?}}
//	ping         {type, id?}
//
//	server → client
//	welcome      {type, v, clientId, limits}               hello accepted
//	snapshot     {type, table, tableVersion, timestamp, payload: {key: value…}, more?}
//	update       {type, table, tableVersion, timestamp, originId, opId, payload}
//	synced       {type, table, tableVersion}               the subscription has caught up
//	ack          {type, table, opId, tableVersion, duplicate?}
//	error        {type, code, message, table?, opId?}
//	pong         {type, id?}
//
// Each table has a tableVersion, assigned by the server, that grows with
// every change (a delete is a change). A subscribe is answered by either a
// snapshot (one consistent cut at one tableVersion, possibly in several
// chunks marked more) or, when since is given and the changes after it are
// still available, the updates after since; then synced; then every later
// update, in version order, each once. Every operation gets an ack or an
// error carrying its opId; an opId sent again is acknowledged with its
// original tableVersion and duplicate: true, and applied once.
//
// # Wasm
//
// The types, constants and checks (frame.go) use no encoding/json, fmt or
// reflect, so the browser module may link them; the JSON codec ([Encode],
// [Decode], [CheckClient]) is built only for !js. In the browser, the
// tables module reads server frames from their text in Go with its own
// reader (tablebridge/read.go) and writes its frames with its own appender
// (tablebridge/wire_js.go), neither linking encoding/json.
//
// # Speed
//
// The relay decodes one operation frame and encodes an ack and an update
// for every write, so those do not go through encoding/json's reflection:
// [Encode] writes every frame but a snapshot (and a welcome's limits) with a
// hand-written appender, and [Decode] reads an operation frame of the shape
// clients send with a small scanner, leaving any other input to
// encoding/json. Both are tested and fuzzed byte for byte against the
// encoding/json codec they replace (json_fast_test.go), so the wire text,
// and what unusual input decodes to or is refused with, are encoding/json's.
// BenchmarkDecodeOperation, BenchmarkEncodeUpdate and BenchmarkEncodeAck
// measure them.
package tableproto
