package tables_test

import (
	"strconv"
	"testing"

	"github.com/tabsync/tabsync/tableproto"
)

// BenchmarkSetOnline is the engine's share of a set on the connected tab
// (the step that hands the operation's frame out), natively.
func BenchmarkSetOnline(b *testing.B) {
	tb := newTab(b, "tabA", "lat")
	tb.online(0)
	for i := 0; b.Loop(); i++ {
		tb.now++
		r, _, err := tb.e.Set(tb.now, "lat", "k", `{"t":1764640000000.123,"i":`+strconv.Itoa(i)+`}`)
		if err != nil || len(r.Frames) > 1 {
			b.Fatal(err, len(r.Frames))
		}
		for _, f := range r.Frames {
			tb.e.Receive(tb.now, tableproto.Frame{Type: tableproto.Ack, Table: "lat", OpID: f.OpID, TableVersion: uint64(i + 1)})
		}
	}
}

// BenchmarkReceiveUpdate is the engine's share of another device's change
// arriving at the connected tab (the step that fires its event), natively.
func BenchmarkReceiveUpdate(b *testing.B) {
	tb := newTab(b, "tabB", "lat")
	tb.online(0)
	for i := 0; b.Loop(); i++ {
		tb.now++
		r := tb.e.Receive(tb.now, update("lat", uint64(i+1), "k", `{"t":1764640000000.123,"i":`+strconv.Itoa(i)+`}`, "other."+strconv.Itoa(i), "other"))
		if len(r.Events) != 1 {
			b.Fatal(len(r.Events))
		}
	}
}
