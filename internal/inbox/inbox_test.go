package inbox

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// write copies p to the buffer at the address Addr gave, as JavaScript
// does through a view of the module's memory.
func write(t *testing.T, addr float64, p []byte) {
	for _, b := range [][]byte{kept, large} {
		if b != nil && Address(b) == addr {
			copy(b, p)
			return
		}
	}
	t.Fatalf("no buffer at %v", addr)
}

func TestTheKeptBufferKeepsItsAddress(t *testing.T) {
	a := Addr(5)
	write(t, a, []byte("hello"))
	assert.Equal(t, "hello", string(Bytes(5)))
	assert.Equal(t, a, Addr(Keep), "a call of Keep bytes fits the kept buffer")
	assert.Equal(t, a, Addr(0))
}

func TestALargeCallGetsABufferOfItsOwnReadOnce(t *testing.T) {
	big := make([]byte, Keep+1)
	for i := range big {
		big[i] = byte(i)
	}
	a := Addr(len(big))
	assert.NotEqual(t, Addr(0), a)
	write(t, a, big)
	assert.Equal(t, big, Bytes(-int32(len(big))))
	assert.Nil(t, Bytes(-1), "the large buffer is let go once read")
}

func TestACountNoBufferHoldsReadsNothing(t *testing.T) {
	Addr(0)
	assert.Nil(t, Bytes(Keep+1))
	Addr(Keep + 10)
	assert.Nil(t, Bytes(-(Keep + 11)))
	assert.NotNil(t, Bytes(0))
}
