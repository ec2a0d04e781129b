//go:build !js

package tableproto

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sampleFrames() []Frame {
	return []Frame{
		{Type: Hello, V: Version, ClientID: "c1", Token: "secret"},
		{Type: Welcome, V: Version, ClientID: "c1", Limits: &Limits{MaxMessageBytes: 1 << 20, MaxValueBytes: 1 << 19, MaxTables: 100, OpsPerSecond: 1000, IdleTimeoutMs: 90000}},
		{Type: Subscribe, Table: "game_scores", Since: 41},
		{Type: Unsubscribe, Table: "game_scores"},
		{Type: Operation, Table: "game_scores", OpID: "op_1", Change: Change{Operation: Set, Key: "player1", Value: RawValue(`{"name":"player1","score":100}`)}},
		{Type: Operation, Table: "game_scores", OpID: "op_2", Change: Change{Operation: Delete, Key: "player1"}},
		{Type: Operation, Table: "t", OpID: "op_3", Change: Change{Operation: Set, Key: "k", Value: RawValue(`null`)}},
		{Type: Snapshot, Table: "game_scores", TableVersion: 5, Timestamp: 1234567890, Rows: []Row{{Key: "player2", Value: RawValue(`200`), OpID: "op_7", OriginID: "c1", Timestamp: 1234567000}, {Key: "player1", Value: RawValue(`{"s":[1,2]}`)}}, More: true},
		{Type: Snapshot, Table: "empty", TableVersion: 0, Timestamp: 1},
		{Type: Update, Table: "game_scores", TableVersion: 6, Timestamp: 1234567890, OriginID: "client_xxx", OpID: "op_1", Change: Change{Operation: Set, Key: "p\"1<", Value: RawValue(`150`)}},
		{Type: Update, Table: "game_scores", TableVersion: 7, Timestamp: 1, OriginID: "c", OpID: "op_2", Change: Change{Operation: Delete, Key: "p"}},
		{Type: Synced, Table: "game_scores", TableVersion: 7},
		{Type: Ack, Table: "game_scores", OpID: "op_1", TableVersion: 6, Duplicate: true},
		{Type: Error, Code: CodeRateLimited, Message: "slow down", Table: "t", OpID: "op_9"},
		{Type: Ping, ID: "7"},
		{Type: Pong, ID: "7"},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, f := range sampleFrames() {
		b, err := Encode(f)
		require.NoError(t, err)
		got, perr := Decode(b)
		require.Nil(t, perr, string(b))
		if f.Type == Snapshot && f.Rows == nil {
			f.Rows = nil
		}
		assert.Equal(t, f, got, string(b))
	}
}

func TestWireNames(t *testing.T) {
	b, err := Encode(Frame{Type: Update, Table: "game_scores", TableVersion: 6, Timestamp: 1234567890, OriginID: "client_xxx", OpID: "op_1",
		Change: Change{Operation: Set, Key: "player1", Value: RawValue(`{"score":150}`)}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"type":"update","table":"game_scores","payload":{"operation":"set","key":"player1","value":{"score":150}},
		"originId":"client_xxx","opId":"op_1","tableVersion":6,"timestamp":1234567890}`, string(b))
}

// A snapshot's "changes" is additive: a server without it still decodes
// (rows with no opId), and its names are the update's.
func TestSnapshotChanges(t *testing.T) {
	f, perr := Decode([]byte(`{"type":"snapshot","table":"t","tableVersion":3,"payload":{"a":1,"b":2},
		"changes":{"a":{"opId":"op_1","originId":"c1","timestamp":5}}}`))
	require.Nil(t, perr)
	assert.Equal(t, []Row{{Key: "a", Value: RawValue(`1`), OpID: "op_1", OriginID: "c1", Timestamp: 5}, {Key: "b", Value: RawValue(`2`)}}, f.Rows)
	f, perr = Decode([]byte(`{"type":"snapshot","table":"t","tableVersion":3,"payload":{"a":1}}`))
	require.Nil(t, perr)
	assert.Equal(t, []Row{{Key: "a", Value: RawValue(`1`)}}, f.Rows)
	_, perr = Decode([]byte(`{"type":"snapshot","table":"t","payload":{"a":1},"changes":[1]}`))
	require.NotNil(t, perr)
	assert.Equal(t, CodeBadMessage, perr.Code)
}

func TestDecodeRefuses(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Code
	}{
		{`not json`, CodeBadMessage},
		{`[]`, CodeBadMessage},
		{`"hello"`, CodeBadMessage},
		{`null`, CodeBadMessage},
		{`{}`, CodeBadMessage},
		{`{"type":1}`, CodeBadMessage},
		{`{"type":"HELLO"}`, CodeUnknownType},
		{`{"type":"subscribe","table":"t","since":-1}`, CodeBadMessage},
		{`{"type":"subscribe","table":"t","since":1.5}`, CodeBadMessage},
		{`{"type":"subscribe","table":"t","since":"3"}`, CodeBadMessage},
		{`{"type":"operation","table":"t","opId":"o"}`, CodeBadMessage},
		{`{"type":"operation","table":"t","opId":"o","payload":[]}`, CodeBadMessage},
		{`{"type":"operation","table":"t","opId":"o","payload":{"key":"k"}}`, CodeBadMessage},
		{`{"type":"operation","table":"t","opId":"o","payload":{"operation":"set","key":7}}`, CodeBadMessage},
		{`{"type":"snapshot","payload":[1]}`, CodeBadMessage},
	} {
		_, err := Decode([]byte(c.in))
		if assert.NotNil(t, err, c.in) {
			assert.Equal(t, c.want, err.Code, c.in)
			assert.NotEmpty(t, err.Message)
		}
	}
}

func TestCheckClient(t *testing.T) {
	dec := func(s string) *Frame {
		f, err := Decode([]byte(s))
		require.Nil(t, err, s)
		return &f
	}
	assert.Nil(t, CheckClient(dec(`{"type":"hello","v":1,"token":"x"}`), 0))
	assert.Nil(t, CheckClient(dec(`{"type":"operation","table":"t","opId":"o","payload":{"operation":"set","key":"k","value":null}}`), 0))
	for in, want := range map[string]Code{
		`{"type":"hello"}`:                        CodeUnsupportedVersion,
		`{"type":"hello","v":2}`:                  CodeUnsupportedVersion,
		`{"type":"hello","v":1,"clientId":"a b"}`: CodeBadClientID,
		`{"type":"subscribe","table":""}`:         CodeBadTable,
		`{"type":"unsubscribe","table":"a.b"}`:    CodeBadTable,
		`{"type":"synced","table":"t"}`:           CodeUnknownType,
		`{"type":"ack","table":"t"}`:              CodeUnknownType,
		`{"type":"operation","table":"t","opId":"o","originId":"x","payload":{"operation":"delete","key":"k"}}`:                         CodeBadMessage,
		`{"type":"operation","table":"t","opId":"o","tableVersion":9,"payload":{"operation":"delete","key":"k"}}`:                       CodeBadMessage,
		`{"type":"operation","table":"t","opId":"o","payload":{"operation":"set","key":"k","value":"` + strings.Repeat("x", 20) + `"}}`: CodeValueTooBig,
	} {
		err := CheckClient(dec(in), 10)
		if assert.NotNil(t, err, in) {
			assert.Equal(t, want, err.Code, in)
		}
	}
}

func TestDecodeCompactsValues(t *testing.T) {
	f, err := Decode([]byte(`{"type":"operation","table":"t","opId":"o","payload":{"operation":"set","key":"k","value": { "a" : [ 1 , 2 ] } }}`))
	require.Nil(t, err)
	assert.Equal(t, `{"a":[1,2]}`, string(f.Change.Value))
}
