package tableproto

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestValidNames(t *testing.T) {
	good := []string{"game_scores", "a", "A-9_z", strings.Repeat("t", MaxTableLen)}
	bad := []string{"", "a b", "a.b", "tab/le", "é", "a*", "a>", strings.Repeat("t", MaxTableLen+1)}
	for _, s := range good {
		assert.NoError(t, ValidTable(s), s)
	}
	for _, s := range bad {
		assert.Error(t, ValidTable(s), s)
	}

	assert.NoError(t, ValidKey("player 1: é/*>.."))
	assert.NoError(t, ValidKey(strings.Repeat("k", MaxKeyBytes)))
	assert.Error(t, ValidKey(""))
	assert.Error(t, ValidKey(strings.Repeat("k", MaxKeyBytes+1)))
	assert.Error(t, ValidKey("bad \xff utf8"))

	assert.NoError(t, ValidOpID("op_1234567890_abc123"))
	assert.NoError(t, ValidOpID("1b4e28ba-2fa1-11d2-883f-0016d3cca427"))
	assert.NoError(t, ValidOpID("c1:42.7"))
	assert.Error(t, ValidOpID(""))
	assert.Error(t, ValidOpID("op 1"))
	assert.Error(t, ValidOpID(strings.Repeat("o", MaxOpIDLen+1)))

	assert.NoError(t, ValidClientID("client_xxx"))
	assert.Error(t, ValidClientID("a/b"))
	assert.Error(t, ValidClientID(strings.Repeat("c", MaxClientIDLen+1)))
}

func TestDepth(t *testing.T) {
	for v, want := range map[string]int{
		`1`: 0, `"[[["`: 0, `[]`: 1, `{"a":[1,{"b":[]}]}`: 4, `["\"[", [[]]]`: 3, `"\\"`: 0,
	} {
		assert.Equal(t, want, Depth([]byte(v)), v)
	}
}

func TestCheckOperation(t *testing.T) {
	op := func(edit func(*Frame)) *Frame {
		f := &Frame{Type: Operation, Table: "t", OpID: "o1", Change: Change{Operation: Set, Key: "k", Value: RawValue(`{"a":1}`)}}
		if edit != nil {
			edit(f)
		}
		return f
	}
	assert.Nil(t, CheckOperation(op(nil), 100))
	assert.Nil(t, CheckOperation(op(func(f *Frame) { f.Change = Change{Operation: Delete, Key: "k"} }), 100))
	for name, c := range map[string]struct {
		edit func(*Frame)
		want Code
	}{
		"bad table":         {func(f *Frame) { f.Table = "a.b" }, CodeBadTable},
		"bad opId":          {func(f *Frame) { f.OpID = "" }, CodeBadOpID},
		"bad key":           {func(f *Frame) { f.Change.Key = "" }, CodeBadKey},
		"no value":          {func(f *Frame) { f.Change.Value = nil }, CodeBadMessage},
		"delete with value": {func(f *Frame) { f.Change.Operation = Delete }, CodeBadMessage},
		"bad operation":     {func(f *Frame) { f.Change.Operation = "put" }, CodeBadMessage},
		"too big":           {func(f *Frame) { f.Change.Value = RawValue(`"` + strings.Repeat("x", 300) + `"`) }, CodeValueTooBig},
		"too deep":          {func(f *Frame) { f.Change.Value = RawValue(strings.Repeat("[", 65) + strings.Repeat("]", 65)) }, CodeTooDeep},
	} {
		err := CheckOperation(op(c.edit), 200)
		if assert.NotNil(t, err, name) {
			assert.Equal(t, c.want, err.Code, name)
		}
	}
}

func TestCodes(t *testing.T) {
	seen := map[Code]bool{}
	for _, c := range Codes() {
		assert.False(t, seen[c], c)
		seen[c] = true
	}
	assert.Len(t, seen, 22)
	assert.True(t, CodeUnauthorized.Fatal())
	assert.False(t, CodeBadKey.Fatal())
	assert.True(t, CodeRateLimited.Retry())
}
