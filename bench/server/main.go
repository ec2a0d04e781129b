//go:build !js

// Command server is the load generator of `make bench-server`: it measures
// tabsync-server next to a bare coder/websocket hub (broadcast to every
// connection, no storage) in the same run, on loopback only, and writes
// docs/SERVER-BENCHMARKS.md, docs/bench/server.json and docs/bench/server.svg.
//
// The relay and the hub run as separate processes (the relay is the real
// tabsync-server binary), so memory and CPU are theirs alone; the clients
// run here.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/coder/websocket"
	natsserver "github.com/nats-io/nats-server/v2/server"

	"github.com/tabsync/tabsync/tableproto"
)

var (
	hubMode   = flag.String("hub", "", "internal: run the bare hub on this address and print it")
	outDir    = flag.String("out", "docs", "where SERVER-BENCHMARKS.md and bench/server.* go")
	quick     = flag.Bool("quick", false, "fewer messages and connections (a smoke run, numbers not for docs)")
	relayBin  = flag.String("relay", "", "tabsync-server binary (default: built into a temp dir)")
	subsN     = flag.Int("subs", 1000, "subscribers in the fan-out runs")
	idleN     = flag.Int("idle", 10000, "idle connections in the memory run")
	fanoutMsg = flag.Int("messages", 300, "messages per fan-out run")
	verbose   = flag.Bool("v", false, "print the servers' logs")
	only      = flag.String("only", "", "run only these parts, comma-separated: fanout,writes,idle,cluster")
)

func want(part string) bool { return *only == "" || strings.Contains(","+*only+",", ","+part+",") }

const token = "bench-token-0123456789"

func main() {
	flag.Parse()
	if *hubMode != "" {
		runHub(*hubMode)
		return
	}
	if *quick {
		*subsN, *idleN, *fanoutMsg = 100, 500, 60
	}
	log.SetFlags(0)
	res := &Results{Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), CPUs: runtime.NumCPU(), GoVersion: runtime.Version()}
	res.Load = loadAvg()
	bin := *relayBin
	tmp, err := os.MkdirTemp("", "tabsync-bench-server")
	check(err)
	defer os.RemoveAll(tmp)
	if bin == "" {
		bin = filepath.Join(tmp, "tabsync-server")
		log.Printf("building tabsync-server")
		out, err := exec.Command("go", "build", "-o", bin, "./cmd/tabsync-server").CombinedOutput()
		if err != nil {
			log.Fatalf("go build: %v\n%s", err, out)
		}
	}
	self, err := os.Executable()
	check(err)

	// 1. Fan-out: one writer, N subscribers, one table.
	if want("fanout") {
		hub := startProc(self, []string{"-hub", "127.0.0.1:0"}, nil, hubAddrRE)
		res.FanoutHub = fanout(hubTarget(hub.addr), *subsN, *fanoutMsg)
		hub.stop()
		log.Printf("fan-out, hub:   %s", res.FanoutHub)
		prof := filepath.Join(tmp, "relay-fanout.pprof")
		relay := startRelayEnv(bin, tmp, "one", nil, "TABSYNC_CPUPROFILE="+prof)
		res.FanoutRelay = fanout(relayTarget([]string{relay.addr}), *subsN, *fanoutMsg)
		relay.stop()
		log.Printf("fan-out, relay: %s", res.FanoutRelay)
		if out, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=25", bin, prof).Output(); err == nil {
			res.FanoutProfile = string(out)
		}
	}

	// 2. Acked writes: 100 writers on 10 tables.
	if want("writes") {
		relay := startRelay(bin, tmp, "writes", nil)
		res.WritesRelay = writes(relayTarget([]string{relay.addr}), 100, 10, 5*time.Second)
		relay.stop()
		log.Printf("writes, relay: %s", res.WritesRelay)
		hub := startProc(self, []string{"-hub", "127.0.0.1:0"}, nil, hubAddrRE)
		res.WritesHub = writes(hubTarget(hub.addr), 100, 10, 5*time.Second)
		hub.stop()
		log.Printf("writes, hub:   %s", res.WritesHub)
	}

	// 3. Idle connections.
	if want("idle") {
		hub := startProc(self, []string{"-hub", "127.0.0.1:0"}, nil, hubAddrRE)
		res.IdleHub = idle(hub, hubTarget(hub.addr), *idleN)
		hub.stop()
		log.Printf("idle, hub:   %s", res.IdleHub)
		relay := startRelay(bin, tmp, "idle", nil)
		res.IdleRelay = idle(relay, relayTarget([]string{relay.addr}), *idleN)
		relay.stop()
		log.Printf("idle, relay: %s", res.IdleRelay)
	}

	// 4. Fan-out through two relays on a three-node cluster.
	if want("cluster") {
		nodes := startCluster(tmp)
		var urls []string
		for _, n := range nodes {
			urls = append(urls, n.ClientURL())
		}
		ra := startRelay(bin, tmp, "c1", []string{"--nats", strings.Join(urls, ","), "--replicas", "3"})
		rb := startRelay(bin, tmp, "c2", []string{"--nats", urls[1] + "," + urls[2] + "," + urls[0], "--replicas", "3"})
		res.FanoutCluster = fanout(relayTarget([]string{ra.addr, rb.addr}), *subsN, *fanoutMsg)
		log.Printf("fan-out, 2 relays on 3 nodes: %s", res.FanoutCluster)
		ra.stop()
		rb.stop()
		for _, n := range nodes {
			n.Shutdown()
			n.WaitForShutdown()
		}
	}
	res.LoadAfter = loadAvg()
	if !*quick {
		check(res.write(*outDir))
	}
	fmt.Println(res.markdown())
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// ---- processes

type proc struct {
	cmd  *exec.Cmd
	addr string
}

var (
	hubAddrRE   = regexp.MustCompile(`hub listening on (\S+)`)
	relayAddrRE = regexp.MustCompile(`url=ws://(\S+)/sync`)
)

func startProc(bin string, args, env []string, re *regexp.Regexp) *proc {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	stderr, err := cmd.StderrPipe()
	check(err)
	cmd.Stdout = cmd.Stderr
	check(cmd.Start())
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if *verbose {
				log.Printf("[%s] %s", filepath.Base(bin), sc.Text())
			}
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case a := <-addr:
		return &proc{cmd: cmd, addr: a}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		log.Fatalf("%s did not start", bin)
	}
	return nil
}

func startRelay(bin, tmp, name string, extra []string) *proc {
	return startRelayEnv(bin, tmp, name, extra)
}

func startRelayEnv(bin, tmp, name string, extra []string, env ...string) *proc {
	args := append([]string{"--listen", "127.0.0.1:0", "--data", filepath.Join(tmp, "data-"+name),
		"--ops-per-second", "1000000", "--max-connections", "50000", "--max-queue-bytes", "67108864", "--idle-timeout", "1h"}, extra...)
	return startProc(bin, args, append([]string{"TOKEN=" + token}, env...), relayAddrRE)
}

func (p *proc) stop() {
	p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
}

// rssKB and cpuTicks read /proc for the process.
func (p *proc) rssKB() int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			n, _ := strconv.ParseInt(strings.Fields(l)[1], 10, 64)
			return n
		}
	}
	return 0
}

func (p *proc) cpuTicks() int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st
}

// ---- the bare hub: every text message goes to every other connection;
// a message starting with "w" is also answered "a" (its ack).

type hubConn struct {
	ws  *websocket.Conn
	out chan []byte
}

func runHub(addr string) {
	var mu sync.Mutex
	conns := map[*hubConn]struct{}{}
	rooms := map[string]map[*hubConn]struct{}{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
		if err != nil {
			return
		}
		ws.SetReadLimit(1 << 20)
		c := &hubConn{ws: ws, out: make(chan []byte, 1024)}
		room := r.URL.Query().Get("room")
		mu.Lock()
		conns[c] = struct{}{}
		if room != "" {
			if rooms[room] == nil {
				rooms[room] = map[*hubConn]struct{}{}
			}
			rooms[room][c] = struct{}{}
		}
		mu.Unlock()
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			for {
				select {
				case b := <-c.out:
					if ws.Write(ctx, websocket.MessageText, b) != nil {
						cancel()
						return
					}
				case <-ctx.Done():
					return
				}
			}
		}()
		for {
			_, b, err := ws.Read(ctx)
			if err != nil {
				break
			}
			mu.Lock()
			targets := conns
			if len(b) > 0 && b[0] == 'w' { // "w<room> <payload>": to the room, ack to the sender
				sp := strings.IndexByte(string(b), ' ')
				targets = rooms[string(b[1:sp])]
				select {
				case c.out <- []byte("a"):
				default:
				}
			}
			for o := range targets {
				if o != c {
					select {
					case o.out <- b:
					default: // a slow reader loses messages (the relay would close it)
					}
				}
			}
			mu.Unlock()
		}
		cancel()
		mu.Lock()
		delete(conns, c)
		if room != "" {
			delete(rooms[room], c)
		}
		mu.Unlock()
		ws.CloseNow()
	})
	ln, err := net.Listen("tcp", addr)
	check(err)
	fmt.Fprintf(os.Stderr, "hub listening on %s\n", ln.Addr())
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	sig := make(chan os.Signal, 1)
	signalNotify(sig)
	<-sig
	srv.Close()
}

// ---- targets: how the load generator talks to each system

type target interface {
	name() string
	// subscriber connects conn i to table and returns a function that
	// blocks until the next data message (update / broadcast) arrives.
	subscriber(ctx context.Context, i int, table string) (next func() error, close func())
	// writer connects a writer for table; send sends one value and
	// returns; acks returns when an ack arrives.
	writer(ctx context.Context, i int, table string) (send func(n int) error, ack func() error, close func())
	// idle opens one authenticated idle connection.
	idle(ctx context.Context) (close func(), err error)
}

type hubTarget string

func (h hubTarget) name() string { return "bare hub" }

func (h hubTarget) dial(ctx context.Context, room string) *websocket.Conn {
	ws, _, err := websocket.Dial(ctx, "ws://"+string(h)+"/?room="+room, nil)
	check(err)
	ws.SetReadLimit(1 << 20)
	return ws
}

func (h hubTarget) subscriber(ctx context.Context, i int, table string) (func() error, func()) {
	ws := h.dial(ctx, table)
	return func() error {
			_, _, err := ws.Read(ctx)
			return err
		}, func() {
			ws.CloseNow()
		}
}

func (h hubTarget) writer(ctx context.Context, i int, table string) (func(int) error, func() error, func()) {
	ws := h.dial(ctx, "")
	return func(n int) error {
			return ws.Write(ctx, websocket.MessageText, []byte(fmt.Sprintf(`w%s {"type":"operation","table":%q,"opId":"o%d-%d","payload":{"operation":"set","key":"k%d","value":{"n":%d}}}`, table, table, i, n, n%100, n)))
		}, func() error {
			for {
				_, b, err := ws.Read(ctx)
				if err != nil {
					return err
				}
				if len(b) == 1 && b[0] == 'a' {
					return nil
				}
			}
		}, func() { ws.CloseNow() }
}

func (h hubTarget) idle(ctx context.Context) (func(), error) {
	ws, _, err := websocket.Dial(ctx, "ws://"+string(h)+"/", nil)
	if err != nil {
		return nil, err
	}
	return func() { ws.CloseNow() }, nil
}

type relayTarget []string

func (r relayTarget) name() string {
	if len(r) > 1 {
		return "tabsync-server, 2 relays"
	}
	return "tabsync-server"
}

func (r relayTarget) dial(ctx context.Context, i int) (*websocket.Conn, error) {
	ws, _, err := websocket.Dial(ctx, "ws://"+r[i%len(r)]+"/sync", &websocket.DialOptions{})
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(64 << 20)
	b, _ := tableproto.Encode(tableproto.Frame{Type: tableproto.Hello, V: 1, Token: token})
	if err := ws.Write(ctx, websocket.MessageText, b); err != nil {
		return nil, err
	}
	if _, b, err = ws.Read(ctx); err != nil {
		return nil, err
	}
	if !strings.Contains(string(b), `"welcome"`) {
		return nil, fmt.Errorf("no welcome: %s", b)
	}
	return ws, nil
}

func (r relayTarget) subscriber(ctx context.Context, i int, table string) (func() error, func()) {
	ws, err := r.dial(ctx, i)
	check(err)
	b, _ := tableproto.Encode(tableproto.Frame{Type: tableproto.Subscribe, Table: table})
	check(ws.Write(ctx, websocket.MessageText, b))
	for { // the snapshot, then synced
		_, b, err := ws.Read(ctx)
		check(err)
		if strings.Contains(string(b), `"synced"`) {
			break
		}
	}
	return func() error {
			for {
				_, b, err := ws.Read(ctx)
				if err != nil {
					return err
				}
				if strings.HasPrefix(string(b), `{"type":"update"`) {
					return nil
				}
			}
		}, func() {
			ws.CloseNow()
		}
}

func (r relayTarget) writer(ctx context.Context, i int, table string) (func(int) error, func() error, func()) {
	ws, err := r.dial(ctx, i)
	check(err)
	return func(n int) error {
			return ws.Write(ctx, websocket.MessageText, []byte(fmt.Sprintf(`{"type":"operation","table":%q,"opId":"o%d-%d-%d","payload":{"operation":"set","key":"k%d","value":{"n":%d}}}`, table, i, n, time.Now().UnixNano(), n%100, n)))
		}, func() error {
			for {
				_, b, err := ws.Read(ctx)
				if err != nil {
					return err
				}
				if strings.HasPrefix(string(b), `{"type":"ack"`) {
					return nil
				}
				if strings.HasPrefix(string(b), `{"type":"error"`) {
					return fmt.Errorf("relay: %s", b)
				}
			}
		}, func() { ws.CloseNow() }
}

func (r relayTarget) idle(ctx context.Context) (func(), error) {
	ws, err := r.dial(ctx, 0)
	if err != nil {
		return nil, err
	}
	return func() { ws.CloseNow() }, nil
}

// ---- 1. fan-out latency

// Fanout is the latency from sending a message to its arrival at the last
// of the subscribers.
type Fanout struct {
	System      string
	Subscribers int
	Messages    int
	P50Ms       float64
	P99Ms       float64
	MaxMs       float64
}

func (f Fanout) String() string {
	return fmt.Sprintf("%d subscribers, %d messages: p50 %.2f ms, p99 %.2f ms, max %.2f ms", f.Subscribers, f.Messages, f.P50Ms, f.P99Ms, f.MaxMs)
}

func fanout(t target, subs, msgs int) Fanout {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	table := fmt.Sprintf("fan%d", time.Now().UnixNano()%1e9)
	const warm = 20
	total := warm + msgs
	last := make([]atomic.Int64, total)  // ns of the last arrival
	count := make([]atomic.Int64, total) // arrivals
	var arrived sync.WaitGroup
	var wg sync.WaitGroup
	var closers []func()
	var mu sync.Mutex
	sem := make(chan struct{}, 50)
	for i := 0; i < subs; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			next, close := t.subscriber(ctx, i, table)
			<-sem
			mu.Lock()
			closers = append(closers, close)
			mu.Unlock()
			arrived.Add(1)
			go func() {
				defer arrived.Done()
				for k := 0; k < total; k++ {
					if next() != nil {
						return
					}
					now := time.Now().UnixNano()
					count[k].Add(1)
					for {
						old := last[k].Load()
						if now <= old || last[k].CompareAndSwap(old, now) {
							break
						}
					}
				}
			}()
		}()
	}
	wg.Wait()
	log.Printf("  %d subscribers of %s connected and in step", subs, t.name())
	send, ack, wclose := t.writer(ctx, 0, table)
	sent := make([]int64, total)
	for k := 0; k < total; k++ {
		sent[k] = time.Now().UnixNano()
		check(send(k))
		check(ack())
		// One message at a time: wait until every subscriber has it, so
		// this measures latency, not queueing behind earlier messages.
		for wait := time.Now().Add(5 * time.Second); count[k].Load() < int64(subs) && time.Now().Before(wait); {
			time.Sleep(200 * time.Microsecond)
		}
		time.Sleep(2 * time.Millisecond)
	}
	done := make(chan struct{})
	go func() { arrived.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		log.Printf("fan-out: not every subscriber got every message within 30 s")
	}
	wclose()
	for _, c := range closers {
		c()
	}
	var lat []float64
	for k := warm; k < total; k++ {
		if l := last[k].Load(); l > 0 {
			lat = append(lat, float64(l-sent[k])/1e6)
		}
	}
	slices.Sort(lat)
	return Fanout{System: t.name(), Subscribers: subs, Messages: msgs, P50Ms: pct(lat, 50), P99Ms: pct(lat, 99), MaxMs: lat[len(lat)-1]}
}

func pct(s []float64, p float64) float64 {
	if len(s) == 0 {
		return 0
	}
	i := int(float64(len(s)-1) * p / 100)
	return s[i]
}

// ---- 2. acked writes

// Writes is the rate of acknowledged writes.
type Writes struct {
	System    string
	Writers   int
	Tables    int
	Seconds   float64
	Acked     int64
	PerSecond float64
	Received  int64 // updates/broadcasts received by one subscriber per table
}

func (w Writes) String() string {
	return fmt.Sprintf("%d writers on %d tables: %d acked in %.1f s = %.0f/s; subscribers received %d", w.Writers, w.Tables, w.Acked, w.Seconds, w.PerSecond, w.Received)
}

func writes(t target, writers, tables int, d time.Duration) Writes {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	prefix := fmt.Sprintf("w%d", time.Now().UnixNano()%1e9)
	var received atomic.Int64
	var closers []func()
	var subWG sync.WaitGroup
	for i := 0; i < tables; i++ {
		next, close := t.subscriber(ctx, i, prefix+"_"+strconv.Itoa(i))
		closers = append(closers, close)
		subWG.Add(1)
		go func() {
			defer subWG.Done()
			for next() == nil {
				received.Add(1)
			}
		}()
	}
	const window = 8 // operations in flight per writer
	var acked atomic.Int64
	var wg sync.WaitGroup
	stop := time.Now().Add(d)
	startT := time.Now()
	for i := 0; i < writers; i++ {
		send, ack, close := t.writer(ctx, i, prefix+"_"+strconv.Itoa(i%tables))
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close()
			inflight := 0
			for n := 0; ; n++ {
				if time.Now().Before(stop) {
					check(send(n))
					inflight++
				}
				if inflight == window || (!time.Now().Before(stop) && inflight > 0) {
					check(ack())
					inflight--
					acked.Add(1)
				}
				if !time.Now().Before(stop) && inflight == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	el := time.Since(startT).Seconds()
	deadline := time.Now().Add(20 * time.Second)
	for received.Load() < acked.Load() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	for _, c := range closers {
		c()
	}
	subWG.Wait()
	return Writes{System: t.name(), Writers: writers, Tables: tables, Seconds: el, Acked: acked.Load(), PerSecond: float64(acked.Load()) / el, Received: received.Load()}
}

// ---- 3. idle connections

// Idle is the memory and CPU of a server holding many idle connections.
type Idle struct {
	System        string
	Connections   int
	RSSBeforeMB   float64
	RSSAfterMB    float64
	KBPerConn     float64
	IdleCPUPct    float64 // of one core, over 5 s with every connection open
	ConnectSecond float64
}

func (i Idle) String() string {
	return fmt.Sprintf("%d connections: RSS %.1f -> %.1f MB, %.1f KB per connection, idle CPU %.2f%% of a core (opened in %.1f s)",
		i.Connections, i.RSSBeforeMB, i.RSSAfterMB, i.KBPerConn, i.IdleCPUPct, i.ConnectSecond)
}

func idle(p *proc, t target, n int) Idle {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	warm, err := t.idle(ctx)
	check(err)
	time.Sleep(500 * time.Millisecond)
	before := p.rssKB()
	closers := make([]func(), n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 64)
	start := time.Now()
	var failed atomic.Int64
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := t.idle(ctx)
			if err != nil {
				failed.Add(1)
				return
			}
			closers[i] = c
		}()
	}
	wg.Wait()
	opened := time.Since(start).Seconds()
	if f := failed.Load(); f > 0 {
		log.Printf("idle: %d of %d connections failed", f, n)
	}
	time.Sleep(2 * time.Second)
	after := p.rssKB()
	t0 := p.cpuTicks()
	time.Sleep(5 * time.Second)
	cpu := float64(p.cpuTicks()-t0) / 100 / 5 * 100 // CLK_TCK is 100 on Linux
	ok := n - int(failed.Load())
	for _, c := range closers {
		if c != nil {
			c()
		}
	}
	warm()
	return Idle{System: t.name(), Connections: ok, RSSBeforeMB: float64(before) / 1024, RSSAfterMB: float64(after) / 1024,
		KBPerConn: float64(after-before) / float64(ok), IdleCPUPct: cpu, ConnectSecond: opened}
}

// ---- 4. the cluster

func startCluster(tmp string) []*natsserver.Server {
	var ports []int
	for i := 0; i < 3; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		check(err)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
		l.Close()
	}
	var routes []string
	for _, p := range ports {
		routes = append(routes, fmt.Sprintf("nats://127.0.0.1:%d", p))
	}
	nodes := make([]*natsserver.Server, 3)
	for i := range nodes {
		opts := &natsserver.Options{ServerName: fmt.Sprintf("n%d", i), Host: "127.0.0.1", Port: -1,
			JetStream: true, StoreDir: filepath.Join(tmp, fmt.Sprintf("node%d", i)), NoLog: true, NoSigs: true,
			Cluster: natsserver.ClusterOpts{Name: "bench", Host: "127.0.0.1", Port: ports[i]},
			Routes:  natsserver.RoutesFromStr(strings.Join(routes, ","))}
		ns, err := natsserver.NewServer(opts)
		check(err)
		ns.Start()
		nodes[i] = ns
	}
	for _, ns := range nodes {
		if !ns.ReadyForConnections(30 * time.Second) {
			log.Fatal("cluster node not ready")
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, ns := range nodes {
			if ns.JetStreamIsLeader() {
				return nodes
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	log.Fatal("no JetStream meta leader")
	return nil
}

// ---- results

// Results of one run.
type Results struct {
	Date, GoVersion, Load, LoadAfter string
	CPUs                             int
	FanoutHub, FanoutRelay           Fanout
	FanoutCluster                    Fanout
	WritesHub, WritesRelay           Writes
	IdleHub, IdleRelay               Idle
	FanoutProfile                    string // go tool pprof -top of the relay during the fan-out run
}

func (r *Results) write(dir string) error {
	if err := os.MkdirAll(filepath.Join(dir, "bench"), 0o755); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(r, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "bench", "server.json"), append(b, '\n'), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "bench", "server.svg"), []byte(r.svg()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "bench", "server.md"), []byte(r.markdown()), 0o644)
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "**missed**"
}

func (r *Results) markdown() string {
	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("Run %s, %d CPUs, %s, load average %s before and %s after; everything on loopback.\n\n", r.Date, r.CPUs, r.GoVersion, r.Load, r.LoadAfter)
	h, s, c := r.FanoutHub, r.FanoutRelay, r.FanoutCluster
	w("| fan-out, 1 writer, %d subscribers, one table | p50 | p99 | max |\n|---|---|---|---|\n", s.Subscribers)
	for _, f := range []Fanout{h, s, c} {
		w("| %s | %.2f ms | %.2f ms | %.2f ms |\n", f.System, f.P50Ms, f.P99Ms, f.MaxMs)
	}
	w("\n| target | measured | verdict |\n|---|---|---|\n")
	w("| relay p50 ≤ 2× hub | %.2f× | %s |\n", s.P50Ms/h.P50Ms, verdict(s.P50Ms <= 2*h.P50Ms))
	w("| relay p99 ≤ 3× hub | %.2f× | %s |\n", s.P99Ms/h.P99Ms, verdict(s.P99Ms <= 3*h.P99Ms))
	w("| 2 relays on 3 nodes vs 1 relay (reported) | p50 %.2f×, p99 %.2f× | |\n", c.P50Ms/s.P50Ms, c.P99Ms/s.P99Ms)
	ww, wh := r.WritesRelay, r.WritesHub
	w("\n| %d writers on %d tables, 8 in flight each | acked/s | received by subscribers |\n|---|---|---|\n", ww.Writers, ww.Tables)
	for _, x := range []Writes{wh, ww} {
		w("| %s | %.0f | %d of %d |\n", x.System, x.PerSecond, x.Received, x.Acked)
	}
	w("\n| target | measured | verdict |\n|---|---|---|\n")
	w("| relay acked writes ≥ 0.25× hub broadcasts | %.2f× | %s |\n", ww.PerSecond/wh.PerSecond, verdict(ww.PerSecond >= 0.25*wh.PerSecond))
	w("| nothing lost: every acked write reached its table's subscriber | %d of %d | %s |\n", ww.Received, ww.Acked, verdict(ww.Received == ww.Acked))
	ih, ir := r.IdleHub, r.IdleRelay
	w("\n| idle connections | open | RSS before → after | per connection | idle CPU (of a core) |\n|---|---|---|---|---|\n")
	for _, x := range []Idle{ih, ir} {
		w("| %s | %d | %.1f → %.1f MB | %.1f KB | %.2f%% |\n", x.System, x.Connections, x.RSSBeforeMB, x.RSSAfterMB, x.KBPerConn, x.IdleCPUPct)
	}
	w("\n| target | measured | verdict |\n|---|---|---|\n")
	w("| relay ≤ 32 KB per idle authenticated connection | %.1f KB | %s |\n", ir.KBPerConn, verdict(ir.KBPerConn <= 32))
	if r.FanoutProfile != "" {
		w("\nCPU profile of the relay process during the fan-out run (`go tool pprof -top`):\n\n```\n%s```\n", r.FanoutProfile)
	}
	return b.String()
}

func (r *Results) svg() string {
	type bar struct {
		label string
		v     float64
		color string
	}
	groups := []struct {
		title, unit string
		bars        []bar
	}{
		{"fan-out p50 (ms)", "ms", []bar{{"hub", r.FanoutHub.P50Ms, "#999"}, {"relay", r.FanoutRelay.P50Ms, "#2b6cb0"}, {"2 relays", r.FanoutCluster.P50Ms, "#68a0d8"}}},
		{"fan-out p99 (ms)", "ms", []bar{{"hub", r.FanoutHub.P99Ms, "#999"}, {"relay", r.FanoutRelay.P99Ms, "#2b6cb0"}, {"2 relays", r.FanoutCluster.P99Ms, "#68a0d8"}}},
		{"acked writes/s (k)", "k/s", []bar{{"hub", r.WritesHub.PerSecond / 1000, "#999"}, {"relay", r.WritesRelay.PerSecond / 1000, "#2b6cb0"}}},
		{"KB per idle conn", "KB", []bar{{"hub", r.IdleHub.KBPerConn, "#999"}, {"relay", r.IdleRelay.KBPerConn, "#2b6cb0"}}},
	}
	const gw, h = 170, 200
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", gw*len(groups)+20, h+60)
	fmt.Fprintf(&b, `<text x="10" y="16" font-size="13">tabsync-server vs a bare coder/websocket hub, %s (%d CPUs, loopback)</text>`+"\n", r.Date, r.CPUs)
	for gi, g := range groups {
		x0 := 10 + gi*gw
		max := 0.0
		for _, br := range g.bars {
			max = maxf(max, br.v)
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", x0, 40, g.title)
		bw := (gw - 30) / len(g.bars)
		for i, br := range g.bars {
			bh := 0.0
			if max > 0 {
				bh = br.v / max * (h - 60)
			}
			x := x0 + i*bw
			y := float64(h) - bh
			fmt.Fprintf(&b, `<rect x="%d" y="%.1f" width="%d" height="%.1f" fill="%s"/>`+"\n", x, y, bw-6, bh, br.color)
			fmt.Fprintf(&b, `<text x="%d" y="%.1f">%s</text>`+"\n", x, y-4, fmtNum(br.v))
			fmt.Fprintf(&b, `<text x="%d" y="%d">%s</text>`+"\n", x, h+16, br.label)
		}
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func maxf(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}

func fmtNum(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func signalNotify(c chan os.Signal) { signal.Notify(c, os.Interrupt, syscall.SIGTERM) }
