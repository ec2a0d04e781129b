//go:build !js

package tableproto

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// nastyStrings are strings whose JSON text takes every rule of
// encoding/json's appendString.
var nastyStrings = []string{
	"", "plain", `"quoted" \back\slash`, "\b\f\n\r\t", "\x00\x01\x1f\x7f", "<a href='x'>&amp;</a>",
	"line\u2028para\u2029end", "\u2027\u202a", "\xff", "a\xc3(", "\xe2\x80", "\xe2\x80\xa8", "\xed\xa0\x80",
	"日本語", "\U0001F600 emoji", "\xf4\x90\x80\x80", "mixed \"\x02\u2029\xfe日",
}

// framesOfEveryType are frames of every type, with the fields it uses and
// some it does not, which Encode writes all the same.
func framesOfEveryType() []Frame {
	fs := sampleFrames()
	for _, s := range nastyStrings {
		fs = append(fs,
			Frame{Type: Update, Table: s, TableVersion: 1<<64 - 1, Timestamp: -1, OriginID: s, OpID: s, Change: Change{Operation: Op(s), Key: s, Value: RawValue(` { "s" : "` + strings.ReplaceAll(s, `"`, ``) + `" } `)}},
			Frame{Type: Ack, Table: s, OpID: s, TableVersion: 3},
			Frame{Type: Error, Code: Code(s), Message: s, Table: s, OpID: s},
			Frame{Type: Synced, Table: s, TableVersion: 9, More: true, Duplicate: true},
			Frame{Type: Pong, ID: s},
			Frame{Type: Hello, V: -3, ClientID: s, Token: s, Since: 5},
			Frame{Type: Type(s), ID: s, Change: Change{Operation: Set, Key: s, Value: RawValue(`1`)}, Rows: []Row{{Key: s}}},
		)
	}
	return fs
}

func TestEncodeMatchesReflect(t *testing.T) {
	for _, f := range framesOfEveryType() {
		want, werr := encodeReflect(f)
		got, err := Encode(f)
		if werr != nil {
			assert.Error(t, err)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, string(want), string(got))
		if f.Type != Snapshot && f.Limits == nil {
			fast, ok := appendFrame(nil, f)
			assert.True(t, ok)
			assert.Equal(t, string(want), string(fast))
		}
	}
}

// A value that is not JSON is refused by the fast path as by encoding/json.
func TestEncodeRefusesValuesNotJSON(t *testing.T) {
	for _, v := range []string{`{`, `nul`, `1 2`, `"a`, `[1,]`} {
		f := Frame{Type: Update, Table: "t", Change: Change{Operation: Set, Key: "k", Value: RawValue(v)}}
		_, ok := appendFrame(nil, f)
		assert.False(t, ok, v)
		_, err := Encode(f)
		assert.Error(t, err, v)
	}
}

func TestDecodeOperationFastPath(t *testing.T) {
	handled := []string{
		string(benchOp),
		`{"type":"operation","table":"t","opId":"o","payload":{"operation":"set","key":"k","value":null}}`,
		`{"type":"operation","table":"t","opId":"o","payload":{"operation":"delete","key":"k"}}`,
		`{"payload":{"value":[1,{"a":"}],"}],"key":"日本","operation":"set"},"opId":"o","type":"operation"}`,
		` { "type" : "operation" , "payload" : { "operation" : "set" , "key" : "k" , "value" : { "a" : [ 1 , 2 ] } } } `,
		`{"type":"operation","payload":{"operation":"other","key":"","value":"\u00e9\"\\"}}`,
		`{"type":"operation","table":"","payload":{"operation":"set","key":"<&>","value":-1.5e3}}`,
	}
	for _, in := range handled {
		got, ok := decodeOperation([]byte(in))
		require.True(t, ok, in)
		want, err := decodeReflect([]byte(in))
		require.Nil(t, err, in)
		assert.Equal(t, want, got, in)
	}
	notHandled := []string{
		``, `null`, `{}`, `[]`, `{"type":"operation"}`, `{"payload":{"operation":"set","key":"k"}}`,
		`{"type":"update","payload":{"operation":"set","key":"k","value":1}}`,
		`{"Type":"operation","payload":{"operation":"set","key":"k","value":1}}`,
		`{"type":"operation","TABLE":"t","payload":{"operation":"set","key":"k","value":1}}`,
		`{"type":"operation","payload":{"Key":"k","operation":"set","value":1}}`,
		`{"type":"operation","table":"a","table":"b","payload":{"operation":"set","key":"k","value":1}}`,
		`{"type":"operation","payload":{"operation":"set","key":"a","key":"b","value":1}}`,
		`{"type":"operation","payload":{"operation":"set","key":"k","value":1,"value":2}}`,
		`{"type":"operation","table":"t\u0041","payload":{"operation":"set","key":"k","value":1}}`,
		`{"type":"operation","payload":{"operation":"set","key":"\n","value":1}}`,
		"{\"type\":\"operation\",\"payload\":{\"operation\":\"set\",\"key\":\"\xff\",\"value\":1}}",
		"{\"type\":\"operation\",\"payload\":{\"operation\":\"set\",\"key\":\"a\tb\",\"value\":1}}",
		`{"type":"operation","table":null,"payload":{"operation":"set","key":"k","value":1}}`,
		`{"type":"operation","payload":{"operation":"set","key":null,"value":1}}`,
		`{"type":"operation","payload":{"operation":"set","key":"k"},"id":"x"}`,
		`{"type":"operation","payload":{"operation":"set","key":"k","value":}}`,
		`{"type":"operation","payload":{"operation":"set","key":"k","value":[1}]}}`,
		`{"type":"operation","payload":{"operation":"set","key":"k","value":1 2}}`,
		`{"type":"operation","payload":{"operation":"set","key":"k","value":1}} x`,
		`{"type":"operation","payload":{"operation":"set","key":"k","value":1},}`,
		`{"type":"operation","payload":{"operation":"set","key":"k","value":1}`,
		`{"type":"operation","table":7,"payload":{"operation":"set","key":"k"}}`,
		`{"type":"operation","payload":[]}`,
	}
	for _, in := range notHandled {
		_, ok := decodeOperation([]byte(in))
		assert.False(t, ok, in)
		got, gerr := Decode([]byte(in))
		want, werr := decodeReflect([]byte(in))
		assert.Equal(t, want, got, in)
		assert.Equal(t, werr, gerr, in)
	}
}

// FuzzEncodeMatchesReflect: Encode's text is encodeReflect's, byte for
// byte, and it fails when encodeReflect does. kind picks a frame type (past
// the types: typ).
func FuzzEncodeMatchesReflect(f *testing.F) {
	types := []Type{Hello, Subscribe, Unsubscribe, Operation, Ping, Welcome, Snapshot, Synced, Update, Ack, Error, Pong}
	for i, s := range nastyStrings {
		f.Add(uint8(i), s, 1, s, s, uint64(i), "op_1", "set", s, []byte(`{"a": [1, "<b>"]}`), i%2 == 0, uint64(7), s, int64(-i), i%3 == 0, s, s, s)
	}
	f.Add(uint8(200), "", 0, "", "", uint64(0), "", "", "", []byte(nil), false, uint64(0), "", int64(0), false, "", "", "")
	f.Add(uint8(8), "", 0, "", "", uint64(0), "", "delete", "k", []byte(`nul`), false, uint64(0), "", int64(0), false, "", "", "")
	f.Fuzz(func(t *testing.T, kind uint8, typ string, v int, clientID, token string, since uint64, opID, op, key string,
		value []byte, more bool, tableVersion uint64, originID string, timestamp int64, dup bool, code, message, id string) {
		fr := Frame{Type: Type(typ), V: v, ClientID: clientID, Token: token, Table: typ + key, Since: since, OpID: opID,
			Change: Change{Operation: Op(op), Key: key, Value: RawValue(value)}, More: more, TableVersion: tableVersion,
			OriginID: originID, Timestamp: timestamp, Duplicate: dup, Code: Code(code), Message: message, ID: id}
		if int(kind) < len(types) {
			fr.Type = types[kind]
		}
		want, werr := encodeReflect(fr)
		got, err := Encode(fr)
		if werr != nil {
			require.Error(t, err)
			return
		}
		require.NoError(t, err)
		require.Equal(t, string(want), string(got))
	})
}

// FuzzDecodeOperationMatchesReflect: whenever decodeOperation reads an
// input, encoding/json reads it without error into the same frame.
func FuzzDecodeOperationMatchesReflect(f *testing.F) {
	f.Add(benchOp)
	for _, fr := range framesOfEveryType() {
		fr.Type = Operation
		if b, err := Encode(fr); err == nil {
			f.Add(b)
		}
	}
	for _, s := range []string{
		` { "type" : "operation" , "payload" : { "operation" : "set" , "key" : "k" , "value" : { "a" : [ 1 , 2 ] } } } `,
		`{"type":"operation","payload":{"operation":"set","key":"k","value":[1,{"a":"}],\"x"}]}}`,
		`{"type":"operation","payload":{"operation":"set","key":"k","value":1},"Table":"t"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, ok := decodeOperation(data)
		if !ok {
			return
		}
		want, err := decodeReflect(data)
		require.Nil(t, err, string(data))
		require.Equal(t, want, got, string(data))
	})
}

// encoding/json refuses a text nested deeper than 10,000 levels, counted
// from the text's top: Decode and Encode refuse a value as deep as it
// does, a level more or less than the value's own depth (the fuzz targets
// do not reach these depths).
func TestFastCodecKeepsEncodingJSONsDepthLimit(t *testing.T) {
	for _, d := range []int{9997, 9998, 9999, 10000, 10001} {
		for _, v := range []string{strings.Repeat("[", d) + strings.Repeat("]", d),
			strings.Repeat(`{"a":`, d-1) + `{"x":"[{"}` + strings.Repeat("}", d-1)} {
			in := []byte(`{"type":"operation","table":"t","opId":"o","payload":{"operation":"set","key":"k","value":` + v + `}}`)
			got, gerr := Decode(in)
			want, werr := decodeReflect(in)
			assert.Equal(t, werr, gerr, "decoding a value %d deep", d)
			assert.Equal(t, want, got, "decoding a value %d deep", d)

			f := Frame{Type: Update, Table: "t", Change: Change{Operation: Set, Key: "k", Value: RawValue(v)}}
			wantText, werr2 := encodeReflect(f)
			gotText, gerr2 := Encode(f)
			assert.Equal(t, werr2 != nil, gerr2 != nil, "encoding a value %d deep: %v, %v", d, werr2, gerr2)
			assert.Equal(t, string(wantText), string(gotText), "encoding a value %d deep", d)
		}
	}
}
