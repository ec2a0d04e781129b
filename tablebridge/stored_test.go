package tablebridge

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/tables"
)

// stringify writes records as JSON.stringify does (no HTML escaping).
func stringify(t *testing.T, v any) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(v))
	return b.String()
}

func TestReadStoredRowsReadsTheRowsStoresRecords(t *testing.T) {
	type rec struct {
		T   string  `json:"t"`
		K   string  `json:"k"`
		V   string  `json:"v"`
		D   bool    `json:"d"`
		Ver float64 `json:"ver"`
		Op  string  `json:"op"`
		C   string  `json:"c"`
		Ts  float64 `json:"ts"`
	}
	want := []tables.Row{
		{Table: "scores", Key: "p1", Value: `{"score":1500,"name":"é \"q\" \n <&>"}`, Version: 12, OpID: "tab.3", Client: "c-1", Timestamp: 1_700_000_000_123},
		{Table: "scores", Key: "p\u2028 2", Deleted: true, Version: 13, OpID: "o", Client: "c-2", Timestamp: 1},
		{Table: "t", Key: "k", Value: "7"},
	}
	var recs []rec
	for _, r := range want {
		recs = append(recs, rec{r.Table, r.Key, r.Value, r.Deleted, float64(r.Version), r.OpID, r.Client, float64(r.Timestamp)})
	}
	got, err := readStoredRows(stringify(t, recs))
	require.NoError(t, err)
	assert.Equal(t, want, got)

	// A record from elsewhere: unknown names skipped, other types and
	// missing fields read as zero values.
	got, err = readStoredRows(`[{"t":"a","k":"b","x":{"y":[1,2]},"v":null,"d":false,"ver":"9","op":1}]`)
	require.NoError(t, err)
	assert.Equal(t, []tables.Row{{Table: "a", Key: "b"}}, got)

	got, err = readStoredRows(` [ ] `)
	require.NoError(t, err)
	assert.Empty(t, got)
	for _, bad := range []string{``, `{}`, `[`, `[{"t":"a"}`, `[{"t":"a"},]`, `[{"t":"a"}] x`, `[1]`, "[{\"t\":\"a\x01\"}]"} {
		_, err := readStoredRows(bad)
		assert.Error(t, err, bad)
	}
}

func TestReadStoredOpsReadsTheOutboxsRecordsAndDropsMalformedOnes(t *testing.T) {
	want := []tables.Op{
		{OpID: "tab.3", Table: "scores", Key: "p1", Value: `{"a":"\"<"}`, Tab: "tab", Seq: 3, At: 1_700_000_000_123},
		{OpID: "tab.4", Table: "scores", Key: "p1", Delete: true, Value: "", Tab: "tab", Seq: 4, At: 1_700_000_000_124},
	}
	var recs []map[string]any
	for _, o := range want {
		recs = append(recs, map[string]any{"opId": o.OpID, "t": o.Table, "k": o.Key, "d": o.Delete, "v": o.Value,
			"tab": o.Tab, "seq": o.Seq, "at": o.At})
	}
	recs = append(recs, map[string]any{"opId": "x.1", "t": "scores", "k": "p1", "d": false}) // no value
	recs = append(recs, map[string]any{"opId": 5, "t": "scores", "k": "p1", "v": "1"})       // opId not a string
	got, err := readStoredOps(stringify(t, recs))
	require.NoError(t, err)
	assert.Equal(t, want, got)
}
