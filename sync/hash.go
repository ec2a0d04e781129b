package sync

// fnv is FNV-1a, 64 bits: enough to notice two tabs disagreeing, with no
// import of hash/fnv's interfaces on the browser's hot path.
type fnv struct{ sum uint64 }

func newHash() *fnv { return &fnv{sum: 14695981039346656037} }

func (h *fnv) add(s string) {
	for i := 0; i < len(s); i++ {
		h.sum ^= uint64(s[i])
		h.sum *= 1099511628211
	}
}
