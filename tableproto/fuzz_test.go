//go:build !js

package tableproto

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzDecode feeds Decode arbitrary bytes. It must never panic; a frame it
// accepts must encode to valid JSON that decodes to the same frame, and
// CheckClient must not panic on it either.
func FuzzDecode(f *testing.F) {
	for _, fr := range sampleFrames() {
		b, err := Encode(fr)
		require.NoError(f, err)
		f.Add(b)
	}
	for _, s := range []string{`null`, `[]`, `{}`, `{"type":"operation","payload":{"operation":"set","key":"","value":[[[[]]]]}}`,
		`{"type":"snapshot","payload":{"a":1,"a":2}}`, `{"type":"hello","v":1e400}`, `{"type":"subscribe","since":18446744073709551616}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := Decode(data)
		if err != nil {
			require.NotEmpty(t, err.Code)
			return
		}
		_ = CheckClient(&fr, 1<<10)
		b, eerr := Encode(fr)
		require.NoError(t, eerr)
		require.True(t, json.Valid(b), string(b))
		again, derr := Decode(b)
		require.Nil(t, derr, string(b))
		require.Equal(t, len(fr.Rows), len(again.Rows))
		require.Equal(t, fr.Change, again.Change)
		require.Equal(t, fr.Table, again.Table)
		require.Equal(t, fr.TableVersion, again.TableVersion)
	})
}
