package tables

import (
	"errors"
	"strconv"

	"github.com/tabsync/tabsync/leader"
	"github.com/tabsync/tabsync/protocol"
	"github.com/tabsync/tabsync/tableproto"
)

// Defaults of the timing fields of Config (zero means the default).
const (
	DefaultBackoffMinMs     = 500   // the first reconnect waits about this long
	DefaultBackoffMaxMs     = 30000 // reconnects wait at most this long
	DefaultConnectTimeoutMs = 10000 // a dial or hello unanswered this long is given up
	DefaultPingMs           = 15000 // an online connection pings this often
	DefaultStallMs          = 45000 // nothing heard this long while online: reconnect
	DefaultAckTimeoutMs     = 20000 // an operation unacknowledged this long: reconnect
	DefaultSweepMs          = 5000  // the connected tab rereads the outbox this often
	DefaultErrorCooldownMs  = 10000 // the same kind of error is reported at most once per this
)

// Config configures an Engine. Tab and ClientID are required.
type Config struct {
	Tab      string   // this tab's id (protocol.ValidID); prefixes its opIds
	ClientID string   // this browser's id, sent in hello (tableproto.ValidClientID)
	Token    string   // sent in hello; empty: none
	Tables   []string // subscribed on connect, with the tables that hold data

	// HeartbeatMs is the leader election's heartbeat interval (see package
	// leader); 0: leader.DefaultHeartbeatMs.
	HeartbeatMs int64

	BackoffMinMs     int64
	BackoffMaxMs     int64
	ConnectTimeoutMs int64
	PingMs           int64
	StallMs          int64
	AckTimeoutMs     int64
	SweepMs          int64
	ErrorCooldownMs  int64

	// Seed seeds the jitter of the reconnect backoff (the engine reads no
	// randomness of its own): pass a random number in the browser, the
	// run's seed in the simulator.
	Seed uint64
}

func (c *Config) defaults() {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.BackoffMinMs, DefaultBackoffMinMs)
	def(&c.BackoffMaxMs, DefaultBackoffMaxMs)
	def(&c.ConnectTimeoutMs, DefaultConnectTimeoutMs)
	def(&c.PingMs, DefaultPingMs)
	def(&c.StallMs, DefaultStallMs)
	def(&c.AckTimeoutMs, DefaultAckTimeoutMs)
	def(&c.SweepMs, DefaultSweepMs)
	def(&c.ErrorCooldownMs, DefaultErrorCooldownMs)
	if c.BackoffMaxMs < c.BackoffMinMs {
		c.BackoffMaxMs = c.BackoffMinMs
	}
}

func (c *Config) validate() error {
	if !protocol.ValidID(c.Tab) {
		return errors.New("tables: tab id " + strconv.Quote(c.Tab) + " is not a valid id")
	}
	if err := tableproto.ValidClientID(c.ClientID); err != nil {
		return errors.New("tables: client id " + strconv.Quote(c.ClientID) + ": " + err.Error())
	}
	for _, t := range c.Tables {
		if err := tableproto.ValidTable(t); err != nil {
			return errors.New("tables: table " + strconv.Quote(t) + ": " + err.Error())
		}
	}
	return nil
}

func (c *Config) election() leader.Config {
	return leader.Config{Tab: c.Tab, Mode: leader.Locks, HeartbeatMs: c.HeartbeatMs}
}
