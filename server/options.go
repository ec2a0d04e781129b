//go:build !js

package server

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/tabsync/tabsync/tableproto"
)

// Defaults of Options; a zero field means its default.
const (
	DefaultListen          = "127.0.0.1:8081"
	DefaultDataDir         = "tabsync-data"
	DefaultReplicas        = 1
	DefaultHistory         = 64
	DefaultResumeLog       = 10000
	DefaultDedupeWindow    = 24 * time.Hour
	DefaultMaxMessageBytes = 1 << 20
	DefaultMaxValueBytes   = 512 << 10
	DefaultMaxTables       = 100
	DefaultOpsPerSecond    = 1000
	DefaultMaxConnections  = 10000
	DefaultMaxQueueBytes   = 8 << 20
	DefaultHelloTimeout    = 5 * time.Second
	DefaultIdleTimeout     = 90 * time.Second
	DefaultShutdownTimeout = 10 * time.Second
)

// Token is a credential a client presents in hello.
type Token struct {
	Secret string
	// Prefixes, when not empty, limits the token to tables whose name starts
	// with one of them.
	Prefixes []string
	// ReadOnly tokens may subscribe but not write.
	ReadOnly bool
}

// Allows reports whether the token covers table.
func (t *Token) Allows(table string) bool {
	if len(t.Prefixes) == 0 {
		return true
	}
	for _, p := range t.Prefixes {
		if strings.HasPrefix(table, p) {
			return true
		}
	}
	return false
}

// Options configure a Server. Each field is bound to the command-line flag
// named in its comment (see ConfigureOptions); zero values mean the defaults.
type Options struct {
	Listen  string // --listen: address of /sync, /healthz and /metrics; ":0" or "127.0.0.1:0" picks a port (see Server.Addr)
	DataDir string // --data: the embedded JetStream's store directory (ignored with NATSURLs)

	NATSURLs []string // --nats: use this NATS cluster (with JetStream) and embed no server
	Replicas int      // --replicas: copies of each table's bucket (1, 3 or 5; a cluster for more than 1)
	// SyncAlways makes the embedded NATS server fsync every write before it
	// is acknowledged (--sync-always): acked writes survive a power loss, at
	// a large cost in write rate. Without it they survive a kill -9 of the
	// process but not a power loss within the sync interval (2 minutes).
	SyncAlways   bool
	DedupeWindow time.Duration // --dedupe-window: how long opIds are remembered
	// History is how many changes of each key JetStream keeps (--history,
	// 1 to 64) for new tables. A relay relays every change unless one key
	// changes more than History times before the relay reads it.
	History int
	// ResumeLog is how many recent changes per table a relay keeps in memory
	// (--resume-log): a subscribe with since within them gets every change;
	// an older since gets each key's latest change.
	ResumeLog int

	Tokens       []Token  // TOKEN env and --token-file; none: open access
	TokenFile    string   // --token-file, read by ConfigureOptions into Tokens
	AllowOrigins []string // --allow-origin (repeatable): Origin host patterns; none: any origin
	TLSCert      string   // --tls-cert
	TLSKey       string   // --tls-key

	MaxMessageBytes int           // --max-message-bytes
	MaxValueBytes   int           // --max-value-bytes
	MaxTables       int           // --max-tables: subscriptions per connection
	OpsPerSecond    int           // --ops-per-second: operations per connection
	MaxConnections  int           // --max-connections: in total
	MaxQueueBytes   int           // --max-queue-bytes: unsent bytes per connection before it is closed as slow
	HelloTimeout    time.Duration // --hello-timeout
	IdleTimeout     time.Duration // --idle-timeout
	ShutdownTimeout time.Duration // --shutdown-timeout: how long Shutdown waits for in-flight acks

	Logger *slog.Logger // nil: discard
}

func (o *Options) defaults() {
	if o.Listen == "" {
		o.Listen = DefaultListen
	}
	if o.DataDir == "" {
		o.DataDir = DefaultDataDir
	}
	if o.Replicas == 0 {
		o.Replicas = DefaultReplicas
	}
	if o.History == 0 {
		o.History = DefaultHistory
	}
	if o.ResumeLog == 0 {
		o.ResumeLog = DefaultResumeLog
	}
	if o.DedupeWindow == 0 {
		o.DedupeWindow = DefaultDedupeWindow
	}
	if o.MaxMessageBytes == 0 {
		o.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if o.MaxValueBytes == 0 {
		o.MaxValueBytes = DefaultMaxValueBytes
	}
	if o.MaxTables == 0 {
		o.MaxTables = DefaultMaxTables
	}
	if o.OpsPerSecond == 0 {
		o.OpsPerSecond = DefaultOpsPerSecond
	}
	if o.MaxConnections == 0 {
		o.MaxConnections = DefaultMaxConnections
	}
	if o.MaxQueueBytes == 0 {
		o.MaxQueueBytes = DefaultMaxQueueBytes
	}
	if o.HelloTimeout == 0 {
		o.HelloTimeout = DefaultHelloTimeout
	}
	if o.IdleTimeout == 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.ShutdownTimeout == 0 {
		o.ShutdownTimeout = DefaultShutdownTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

func (o *Options) validate() error {
	if _, _, err := net.SplitHostPort(o.Listen); err != nil {
		return fmt.Errorf("--listen: %q is not host:port: %w", o.Listen, err)
	}
	if o.Replicas != 1 && o.Replicas != 3 && o.Replicas != 5 {
		return fmt.Errorf("--replicas: %d; use 1, 3 or 5", o.Replicas)
	}
	if o.Replicas > 1 && len(o.NATSURLs) == 0 {
		return errors.New("--replicas: more than 1 needs a NATS cluster (--nats)")
	}
	if o.History < 1 || o.History > 64 {
		return fmt.Errorf("--history: %d; use 1 to 64", o.History)
	}
	if o.ResumeLog < 0 {
		return fmt.Errorf("--resume-log: %d is negative", o.ResumeLog)
	}
	if o.DedupeWindow < time.Minute {
		return fmt.Errorf("--dedupe-window: %v is shorter than a minute", o.DedupeWindow)
	}
	if (o.TLSCert == "") != (o.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	for name, v := range map[string]int{"--max-message-bytes": o.MaxMessageBytes, "--max-value-bytes": o.MaxValueBytes,
		"--max-tables": o.MaxTables, "--ops-per-second": o.OpsPerSecond, "--max-connections": o.MaxConnections,
		"--max-queue-bytes": o.MaxQueueBytes} {
		if v < 0 {
			return fmt.Errorf("%s: %d is negative", name, v)
		}
	}
	if o.MaxMessageBytes < 4096 {
		return fmt.Errorf("--max-message-bytes: %d is below 4096", o.MaxMessageBytes)
	}
	if o.MaxValueBytes+tableproto.MaxKeyBytes*2+1024 > o.MaxMessageBytes {
		return fmt.Errorf("--max-value-bytes: %d leaves no room in --max-message-bytes %d for the frame around the value",
			o.MaxValueBytes, o.MaxMessageBytes)
	}
	if o.MaxQueueBytes < o.MaxMessageBytes {
		return fmt.Errorf("--max-queue-bytes: %d is below --max-message-bytes %d", o.MaxQueueBytes, o.MaxMessageBytes)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"--hello-timeout", o.HelloTimeout}, {"--idle-timeout", o.IdleTimeout}, {"--shutdown-timeout", o.ShutdownTimeout}} {
		if d.v < 0 {
			return fmt.Errorf("%s: %v is negative", d.name, d.v)
		}
	}
	for i, t := range o.Tokens {
		if len(t.Secret) < 8 {
			return fmt.Errorf("token %d: shorter than 8 characters", i+1)
		}
		for _, p := range t.Prefixes {
			if p == "" || tableproto.ValidTable(p) != nil {
				return fmt.Errorf("token %d: table prefix %q: %v", i+1, p, tableproto.ValidTable(p))
			}
		}
	}
	return nil
}

// ConfigureOptions parses the command line (args without the program name)
// and the TOKEN environment variable into Options, reading --token-file. fs
// is where the flags are defined; pass flag.NewFlagSet(name,
// flag.ContinueOnError) in tests. Help output goes to fs.Output().
func ConfigureOptions(fs *flag.FlagSet, args []string) (*Options, error) {
	o := &Options{}
	fs.StringVar(&o.Listen, "listen", DefaultListen, "`host:port` to serve /sync, /healthz and /metrics on (0.0.0.0:8081 for every interface)")
	fs.StringVar(&o.DataDir, "data", DefaultDataDir, "`dir`ectory where the embedded NATS JetStream keeps the tables (created if missing)")
	fs.Func("nats", "use an existing NATS cluster with JetStream instead of the embedded one: comma-separated `urls`, e.g. nats://a:4222,nats://b:4222", func(s string) error {
		for _, u := range strings.Split(s, ",") {
			if u = strings.TrimSpace(u); u != "" {
				o.NATSURLs = append(o.NATSURLs, u)
			}
		}
		return nil
	})
	fs.IntVar(&o.Replicas, "replicas", DefaultReplicas, "copies of each table in the NATS cluster: 1, 3 or 5 (more than 1 needs --nats)")
	fs.BoolVar(&o.SyncAlways, "sync-always", false, "embedded NATS: fsync every write before acknowledging it, so acked writes survive a power loss (much slower)")
	fs.IntVar(&o.History, "history", DefaultHistory, "changes of each key kept in JetStream, 1 to 64, for tables created from now on: a relay relays every change unless one key changes more often than this before it reads them")
	fs.IntVar(&o.ResumeLog, "resume-log", DefaultResumeLog, "recent changes per table kept in memory, so that a client resuming within them gets every change (older: each key's latest)")
	fs.DurationVar(&o.DedupeWindow, "dedupe-window", DefaultDedupeWindow, "how long an opId is remembered, so that a retry is applied once")
	fs.StringVar(&o.TokenFile, "token-file", "", "`file` of tokens, one per line: TOKEN [read-only] [tables=prefix1,prefix2]; # starts a comment")
	fs.Func("allow-origin", "accept WebSockets only from pages whose Origin host matches this `pattern` (path.Match, e.g. app.example.com or *.example.com); repeatable; none: any origin", func(s string) error {
		o.AllowOrigins = append(o.AllowOrigins, s)
		return nil
	})
	fs.StringVar(&o.TLSCert, "tls-cert", "", "TLS certificate `file` (PEM); with --tls-key, serve wss:// and https://")
	fs.StringVar(&o.TLSKey, "tls-key", "", "TLS private key `file` (PEM)")
	fs.IntVar(&o.MaxMessageBytes, "max-message-bytes", DefaultMaxMessageBytes, "largest frame in either direction; a larger one closes the connection")
	fs.IntVar(&o.MaxValueBytes, "max-value-bytes", DefaultMaxValueBytes, "largest value, as JSON text")
	fs.IntVar(&o.MaxTables, "max-tables", DefaultMaxTables, "tables one connection may subscribe to at once")
	fs.IntVar(&o.OpsPerSecond, "ops-per-second", DefaultOpsPerSecond, "operations per second per connection (bursts up to the same number)")
	fs.IntVar(&o.MaxConnections, "max-connections", DefaultMaxConnections, "WebSocket connections in total")
	fs.IntVar(&o.MaxQueueBytes, "max-queue-bytes", DefaultMaxQueueBytes, "bytes waiting to be sent to one connection before it is closed as too slow (snapshots excepted)")
	fs.DurationVar(&o.HelloTimeout, "hello-timeout", DefaultHelloTimeout, "close a connection that has not sent a valid hello within this")
	fs.DurationVar(&o.IdleTimeout, "idle-timeout", DefaultIdleTimeout, "close a connection that has sent nothing (not even a ping) for this")
	fs.DurationVar(&o.ShutdownTimeout, "shutdown-timeout", DefaultShutdownTimeout, "on SIGTERM, how long to wait for operations in flight")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q (flags start with -)", fs.Arg(0))
	}
	if tok := os.Getenv("TOKEN"); tok != "" {
		o.Tokens = append(o.Tokens, Token{Secret: tok})
	}
	if o.TokenFile != "" {
		toks, err := ReadTokenFile(o.TokenFile)
		if err != nil {
			return nil, fmt.Errorf("--token-file: %w", err)
		}
		o.Tokens = append(o.Tokens, toks...)
	}
	c := *o
	c.defaults()
	if err := c.validate(); err != nil {
		return nil, err
	}
	return o, nil
}

// ReadTokenFile reads tokens, one per line: the secret, then optionally
// "read-only" and "tables=prefix1,prefix2". Empty lines and lines starting
// with # are skipped.
func ReadTokenFile(path string) ([]Token, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var toks []Token
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		t := Token{Secret: fields[0]}
		for _, f := range fields[1:] {
			switch {
			case f == "read-only":
				t.ReadOnly = true
			case strings.HasPrefix(f, "tables="):
				for _, p := range strings.Split(strings.TrimPrefix(f, "tables="), ",") {
					if p != "" {
						t.Prefixes = append(t.Prefixes, p)
					}
				}
				if len(t.Prefixes) == 0 {
					return nil, fmt.Errorf("%s:%d: tables= lists no prefix", path, n)
				}
			default:
				return nil, fmt.Errorf("%s:%d: %q is neither read-only nor tables=…", path, n, f)
			}
		}
		toks = append(toks, t)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("%s: no tokens", path)
	}
	return toks, nil
}
