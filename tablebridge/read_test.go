package tablebridge

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/tableproto"
)

// updateText is an update as the relay sends it (BenchmarkReadUpdate).
const updateText = `{"type":"update","table":"lat","tableVersion":123,"timestamp":1764630000000,"originId":"c-abcdefgh","opId":"t1.42","payload":{"operation":"set","key":"k","value":{"t":1764630000000.5,"i":42}}}`

func TestReadFrameReadsWhatTheRelaySends(t *testing.T) {
	f, notJSON, err := readFrame(updateText)
	require.NoError(t, err)
	assert.False(t, notJSON)
	assert.Equal(t, tableproto.Frame{Type: tableproto.Update, Table: "lat", TableVersion: 123, Timestamp: 1764630000000,
		OriginID: "c-abcdefgh", OpID: "t1.42", Change: tableproto.Change{Operation: tableproto.Set, Key: "k",
			Value: tableproto.RawValue(`{"t":1764630000000.5,"i":42}`)}}, f)

	f, _, err = readFrame(`{"type":"snapshot","table":"t","tableVersion":3,"more":true,"payload":{"a":{"n":1},"b":null}}`)
	require.NoError(t, err)
	assert.Equal(t, uint64(3), f.TableVersion)
	assert.True(t, f.More)
	assert.Equal(t, []tableproto.Row{{Key: "a", Value: tableproto.RawValue(`{"n":1}`)}, {Key: "b", Value: tableproto.RawValue(`null`)}}, f.Rows)
	f, _, err = readFrame(`{"type":"snapshot","table":"t","tableVersion":3,"payload":{"a":1,"b":2},
		"changes":{"a":{"opId":"c.1","originId":"c","timestamp":9}}}`)
	require.NoError(t, err)
	assert.Equal(t, []tableproto.Row{{Key: "a", Value: tableproto.RawValue(`1`), OpID: "c.1", OriginID: "c", Timestamp: 9},
		{Key: "b", Value: tableproto.RawValue(`2`)}}, f.Rows)

	f, _, err = readFrame(`{"type":"ack","table":"t","opId":"o","tableVersion":9,"duplicate":true}`)
	require.NoError(t, err)
	assert.Equal(t, tableproto.Frame{Type: tableproto.Ack, Table: "t", OpID: "o", TableVersion: 9, Duplicate: true}, f)
	f, _, err = readFrame(`{"type":"welcome","v":1,"clientId":"c-1","limits":{"maxTables":100}}`)
	require.NoError(t, err)
	assert.Equal(t, tableproto.Frame{Type: tableproto.Welcome, V: 1, ClientID: "c-1"}, f)
	f, _, err = readFrame(`{"type":"error","code":"rateLimited","message":"slow \"down\"","opId":"o","table":"t"}`)
	require.NoError(t, err)
	assert.Equal(t, tableproto.Frame{Type: tableproto.Error, Code: "rateLimited", Message: `slow "down"`, OpID: "o", Table: "t"}, f)
}

// What JSON.parse and the old js.Value reader made of a value, readFrame
// makes of its text: escapes decoded (a lone surrogate as U+FFFD, as
// JavaScript's strings reach Go), the value without whitespace, the last of
// repeated names, a repeated snapshot key in its first place.
func TestReadFrameDecodesLikeJSONParse(t *testing.T) {
	f, _, err := readFrame(` { "type" : "update" , "table":"t","tableVersion":1,"tableVersion":2,
		"payload" : { "operation":"set", "key":"a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00\ud800x\udc00",
		"value" : { "s" : "a b\"{ }" , "n" : [ 1 , 2.5e3 , -0 ] , "x" : null } } } `)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), f.TableVersion)
	assert.Equal(t, "a\"\\/\b\f\n\r\té😀\ufffdx\ufffd", f.Change.Key)
	assert.Equal(t, `{"s":"a b\"{ }","n":[1,2.5e3,-0],"x":null}`, string(f.Change.Value))

	f, _, err = readFrame(`{"type":"snapshot","table":"t","tableVersion":3,"payload":{"a":1,"b":2,"a":3}}`)
	require.NoError(t, err)
	assert.Equal(t, []tableproto.Row{{Key: "a", Value: tableproto.RawValue(`3`)}, {Key: "b", Value: tableproto.RawValue(`2`)}}, f.Rows)
}

func TestReadFrameRefusesWrongTypes(t *testing.T) {
	for _, bad := range []string{`[1]`, `"update"`, `{}`, `{"type":1}`, `{"type":null}`, `{"type":"update","tableVersion":"7"}`,
		`{"type":"update","tableVersion":-1}`, `{"type":"update","tableVersion":1.5}`, `{"type":"update","payload":3}`,
		`{"type":"update"}`, `{"type":"update","payload":null}`, `{"type":"update","payload":{"key":1}}`,
		`{"type":"snapshot","payload":"x"}`, `{"type":"ack","duplicate":"yes"}`, `{"type":"welcome","v":"1"}`,
		`{"type":"snapshot","payload":{"a":1},"changes":3}`, `{"type":"snapshot","payload":{"a":1},"changes":{"a":{"opId":5}}}`} {
		_, notJSON, err := readFrame(bad)
		assert.Error(t, err, bad)
		assert.False(t, notJSON, bad)
	}
	for _, bad := range []string{``, ` `, `{`, `{"type":"update"`, `{"type":"update"} x`, `{"type":"update",}`, `{'type':1}`,
		`{"type":"a` + "\n" + `"}`, `{"type":"\x"}`, `{"type":"\u12"}`, `{"type":"x","n":01}`, `{"type":"x","n":1.}`,
		`{"type":"x","n":-}`, `{"type":"x","n":1e}`, `{"type":"x","n":tru}`, `{"type":"x","n":[1,]}`, `{"type":"x","n":[1 2]}`,
		`{"type":"x","n":{"a"}}`, `{"type":"x","n":NaN}`, `{"type":"x" "n":1}`} {
		_, notJSON, err := readFrame(bad)
		assert.Error(t, err, bad)
		assert.True(t, notJSON, bad)
	}
	deep := `{"type":"update","payload":{"operation":"set","key":"k","value":`
	for range maxDepth + 1 {
		deep += "["
	}
	_, _, err := readFrame(deep)
	assert.ErrorIs(t, err, errTooDeep)
}
