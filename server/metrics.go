//go:build !js

package server

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tabsync/tabsync/tableproto"
)

// metrics are the counters behind /metrics, in the Prometheus text format.
type metrics struct {
	connections    atomic.Int64
	subscriptions  atomic.Int64
	rejectedOrigin atomic.Int64
	compacted      atomic.Int64
	ackPath        atomic.Int64 // changes applied on their publish acknowledgement
	consumerPath   atomic.Int64 // changes applied on the consumer's delivery
	errors         map[tableproto.Code]*atomic.Int64
	opsMu          sync.Mutex
	opResults      map[string]int64
	fanout         histogram
}

func (m *metrics) init() {
	m.errors = map[tableproto.Code]*atomic.Int64{}
	for _, c := range tableproto.Codes() {
		m.errors[c] = new(atomic.Int64)
	}
	m.opResults = map[string]int64{"stored": 0, "duplicate": 0, "refused": 0, "unavailable": 0}
	m.fanout.bounds = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5}
	m.fanout.counts = make([]int64, len(m.fanout.bounds)+1)
}

func (m *metrics) refused(c tableproto.Code) {
	if n := m.errors[c]; n != nil {
		n.Add(1)
	}
}

func (m *metrics) ops(result string) {
	m.opsMu.Lock()
	m.opResults[result]++
	m.opsMu.Unlock()
}

// ErrorCount returns how many refusals with code the server counted.
func (s *Server) ErrorCount(c tableproto.Code) int64 {
	if n := s.metrics.errors[c]; n != nil {
		return n.Load()
	}
	return 0
}

type histogram struct {
	mu     sync.Mutex
	bounds []float64
	counts []int64 // per bucket, the last one +Inf
	sum    float64
	n      int64
}

func (h *histogram) observe(v float64) {
	h.mu.Lock()
	i := sort.SearchFloat64s(h.bounds, v)
	h.counts[i]++
	h.sum += v
	h.n++
	h.mu.Unlock()
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	m := &s.metrics
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# HELP tabsync_connections Open WebSocket connections.\n# TYPE tabsync_connections gauge\ntabsync_connections %d\n", m.connections.Load())
	p("# HELP tabsync_subscriptions Table subscriptions of open connections.\n# TYPE tabsync_subscriptions gauge\ntabsync_subscriptions %d\n", m.subscriptions.Load())
	s.mu.Lock()
	tables := len(s.tables)
	s.mu.Unlock()
	p("# HELP tabsync_tables Tables this relay has touched since it started.\n# TYPE tabsync_tables gauge\ntabsync_tables %d\n", tables)
	p("# HELP tabsync_operations_total Operations by result: stored, duplicate (opId seen before, acked with its version), refused (error), unavailable (storage failed).\n# TYPE tabsync_operations_total counter\n")
	m.opsMu.Lock()
	results := make([]string, 0, len(m.opResults))
	for k := range m.opResults {
		results = append(results, k)
	}
	sort.Strings(results)
	for _, k := range results {
		p("tabsync_operations_total{result=%q} %d\n", k, m.opResults[k])
	}
	m.opsMu.Unlock()
	p("# HELP tabsync_errors_total Refused frames and closed connections, by error code.\n# TYPE tabsync_errors_total counter\n")
	for _, c := range tableproto.Codes() {
		p("tabsync_errors_total{code=%q} %d\n", c, m.errors[c].Load())
	}
	p("# HELP tabsync_rejected_origin_total WebSocket handshakes refused (Origin not allowed, or not a WebSocket).\n# TYPE tabsync_rejected_origin_total counter\ntabsync_rejected_origin_total %d\n", m.rejectedOrigin.Load())
	p("# HELP tabsync_compacted_versions_total Versions this relay never saw because JetStream had already replaced them with a newer change of the same key (more than --history changes of one key before the relay read them); subscribers saw a jump.\n# TYPE tabsync_compacted_versions_total counter\ntabsync_compacted_versions_total %d\n", m.compacted.Load())
	p("# HELP tabsync_changes_total Changes applied to this relay's copies of loaded tables, by the path that brought them first: ack (a change stored through this relay, fanned out on JetStream's publish acknowledgement) or consumer (the table's JetStream consumer: other relays' changes, and this relay's when the acknowledgement came later or the versions before it were missing).\n# TYPE tabsync_changes_total counter\n")
	p("tabsync_changes_total{path=\"ack\"} %d\ntabsync_changes_total{path=\"consumer\"} %d\n", m.ackPath.Load(), m.consumerPath.Load())
	h := &m.fanout
	h.mu.Lock()
	p("# HELP tabsync_fanout_seconds From JetStream storing a change (on the ack path: from this relay publishing it) to its update queued for every subscriber on this relay.\n# TYPE tabsync_fanout_seconds histogram\n")
	var cum int64
	for i, bound := range h.bounds {
		cum += h.counts[i]
		p("tabsync_fanout_seconds_bucket{le=\"%g\"} %d\n", bound, cum)
	}
	cum += h.counts[len(h.bounds)]
	p("tabsync_fanout_seconds_bucket{le=\"+Inf\"} %d\ntabsync_fanout_seconds_sum %g\ntabsync_fanout_seconds_count %d\n", cum, h.sum, h.n)
	h.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Write([]byte(b.String()))
}
