//go:build !js

package tableproto

import "testing"

// The relay's codec on its write path: it decodes one operation frame and
// encodes two frames per write, the ack to the writer and the update to
// every subscriber (issue 12).

var benchOp = []byte(`{"type":"operation","table":"game_scores","opId":"op_8f2c1a9e-4b7d-4e11-9c3a-0d5e6f7a8b9c",` +
	`"payload":{"operation":"set","key":"player1","value":{"name":"player1","score":150,"tags":["a","b"]}}}`)

func BenchmarkDecodeOperation(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchOp)))
	for b.Loop() {
		if _, err := Decode(benchOp); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeUpdate(b *testing.B) {
	f := Frame{Type: Update, Table: "game_scores", TableVersion: 123456, Timestamp: 1796198400000, OriginID: "client_7c1d",
		OpID:   "op_8f2c1a9e-4b7d-4e11-9c3a-0d5e6f7a8b9c",
		Change: Change{Operation: Set, Key: "player1", Value: RawValue(`{"name":"player1","score":150,"tags":["a","b"]}`)}}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(f); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeAck(b *testing.B) {
	f := Frame{Type: Ack, Table: "game_scores", OpID: "op_8f2c1a9e-4b7d-4e11-9c3a-0d5e6f7a8b9c", TableVersion: 123456}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Encode(f); err != nil {
			b.Fatal(err)
		}
	}
}
