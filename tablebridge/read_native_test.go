//go:build !js

package tablebridge

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/tableproto"
)

// FuzzReadFrame: readFrame calls JSON exactly what encoding/json does
// (within its depth limit), and a frame it reads is the one tableproto's
// Decode (the server's decoder, over encoding/json) reads from the same text.
func FuzzReadFrame(f *testing.F) {
	f.Add(updateText)
	f.Add(`{"type":"snapshot","table":"t","tableVersion":3,"payload":{"a":{"n":[1,2]},"b":null},"changes":{"a":{"opId":"c.1","originId":"c","timestamp":9}}}`)
	f.Add(`{"type":"ack","table":"t","opId":"o","tableVersion":9,"duplicate":true}`)
	f.Add(`{"type":"update","table":"t","tableVersion":2,"payload":{"operation":"set","key":"\u00e9\ud83d\ude00","value":" x\t"}}`)
	f.Add(`{"type":"welcome","v":1,"clientId":"c","limits":{"maxTables":1}}`)
	f.Add(`[1,{"a":true},false,null,-1.5e-3]`)
	f.Fuzz(func(t *testing.T, text string) {
		if !utf8.ValidString(text) || strings.Count(text, "[")+strings.Count(text, "{") > maxDepth {
			return // JavaScript hands Go valid UTF-8; encoding/json's depth limit differs
		}
		fr, notJSON, err := readFrame(text)
		require.Equal(t, json.Valid([]byte(text)), !notJSON, "valid JSON? %q", text)
		if err != nil {
			return
		}
		want, perr := tableproto.Decode([]byte(text))
		if perr != nil || caseVariant(text) {
			// Decode refuses more (unknown types, payloads missing
			// fields); encoding/json also takes "TableVersion" for
			// "tableVersion", JSON.parse does not.
			return
		}
		require.Equal(t, want.Type, fr.Type)
		require.Equal(t, want.Table, fr.Table)
		require.Equal(t, want.TableVersion, fr.TableVersion)
		require.Equal(t, want.OpID, fr.OpID)
		require.Equal(t, want.OriginID, fr.OriginID)
		require.Equal(t, want.Timestamp, fr.Timestamp)
		require.Equal(t, want.Duplicate, fr.Duplicate)
		require.Equal(t, want.More, fr.More)
		require.Equal(t, want.Code, fr.Code)
		require.Equal(t, want.Message, fr.Message)
		require.Equal(t, want.Change, fr.Change)
		// Decode keeps a repeated snapshot key twice; the browser, as
		// JSON.parse, once with its last value.
		rows := func(rs []tableproto.Row) map[string]tableproto.Row {
			m := map[string]tableproto.Row{}
			for _, r := range rs {
				m[r.Key] = r
			}
			return m
		}
		require.Equal(t, rows(want.Rows), rows(fr.Rows))
	})
}

// caseVariant reports whether text names a frame field in another case.
func caseVariant(text string) bool {
	lower := strings.ToLower(text)
	for _, name := range []string{"type", "v", "clientId", "token", "limits", "table", "since", "opId", "payload", "changes",
		"more", "tableVersion", "originId", "timestamp", "duplicate", "code", "message", "id", "operation", "key", "value",
		"maxMessageBytes", "maxValueBytes", "maxTables", "opsPerSecond", "idleTimeoutMs"} {
		q := `"` + name + `"`
		if strings.Count(lower, strings.ToLower(q)) != strings.Count(text, q) {
			return true
		}
	}
	return false
}
