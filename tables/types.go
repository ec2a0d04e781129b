package tables

import "github.com/tabsync/tabsync/protocol"

// Origins of an idb-sync-update event, as seen by the tab that fires it.
const (
	OriginLocal     = "local"      // this tab wrote it
	OriginLocalTab  = "local-tab"  // another tab of this browser wrote it
	OriginServer    = "server"     // another device's change, through this tab's connection
	OriginServerTab = "server-tab" // another device's change, relayed by the connected tab
)

// Connection statuses, the same in every tab of a browser.
const (
	StatusOffline    = "offline"
	StatusConnecting = "connecting"
	StatusOnline     = "online"
)

// Operations of a change.
const (
	OpSet    = "set"
	OpDelete = "delete"
)

// Row is one record of a table as the server ordered it: the value (JSON
// text) or a tombstone, the table version that wrote it, the operation's id
// and the server's timestamp. Tombstones are kept so that a late, older
// change cannot bring a deleted key back.
type Row struct {
	Table     string
	Key       string
	Value     string // JSON text; empty when Deleted
	Deleted   bool
	Version   uint64 // the tableVersion the server gave the change
	OpID      string
	Client    string // the writer's clientId (the update's originId); empty from a snapshot
	Timestamp int64  // ms since the epoch, from the server
}

// Op is a local write the server has not acknowledged yet: an entry of the
// outbox. Tab and Seq say which tab wrote it and in which order; At is the
// writer's clock. Among the pending writes of one key, the one with the
// greatest (At, Tab, Seq) is what the tabs show.
type Op struct {
	OpID   string
	Table  string
	Key    string
	Delete bool
	Value  string // JSON text; empty for a delete
	Tab    string
	Seq    uint64
	At     int64
}

func (o *Op) after(p *Op) bool {
	if o.At != p.At {
		return o.At > p.At
	}
	if o.Tab != p.Tab {
		return o.Tab > p.Tab
	}
	return o.Seq > p.Seq
}

// Stored is what a tab reads from IndexedDB before it starts: every row
// (tombstones included), the outbox and each table's version.
type Stored struct {
	Rows     []Row
	Ops      []Op
	Versions []TableVersion
}

// TableVersion is the last server version of a table this browser holds
// every change up to.
type TableVersion struct {
	Table   string
	Version uint64
}

// Prune removes, in a transaction, every stored row of Table whose Version
// is at most UpTo (any version with All) and whose key is not in Except: a
// snapshot at version UpTo lists only the keys in Except.
type Prune struct {
	Table  string
	UpTo   uint64
	Except []string
	All    bool // the server lost data: its snapshot replaces the table
}

// Txn is one IndexedDB transaction, to run before anything else of the
// Ready it belongs to. In order: Prune, put Rows (each only if its Version
// is above the stored row's, or no row is stored), add AddOps to the
// outbox, remove DelOps from it, and raise each table's stored version to
// Versions (never lower it).
type Txn struct {
	Prune    []Prune
	Rows     []Row
	AddOps   []Op
	DelOps   []string
	Versions []TableVersion
}

func (t *Txn) empty() bool {
	return t == nil || len(t.Prune)+len(t.Rows)+len(t.AddOps)+len(t.DelOps)+len(t.Versions) == 0
}

// Event is an idb-sync-update to dispatch on window.
type Event struct {
	Table     string
	Operation string // OpSet or OpDelete
	Key       string
	Value     string // JSON text; empty for a delete
	Origin    string
	Version   uint64 // the server's tableVersion; 0 while the change is pending
	OpID      string
	Timestamp int64
}

// Error is a failure to report through onError.
type Error struct {
	Phase   string
	Message string
}

// Phases of an Error.
const (
	PhaseConnect  = "connect"  // the connection failed or stalled
	PhaseProtocol = "protocol" // the server sent something dropped
	PhaseServer   = "server"   // the server refused something
	PhaseReceive  = "receive"  // another tab sent something dropped
	PhaseStore    = "store"    // IndexedDB failed
)

// TabMsg kinds, on the BroadcastChannel between the tabs of a browser.
const (
	KindElection = "election" // leader election (package leader)
	KindOp       = "op"       // a tab wrote Op (it is in the outbox already)
	KindChange   = "change"   // the connected tab applied server changes
	KindStatus   = "status"   // the connected tab's connection status
)

// TabMsg is a message between the tabs of one browser.
type TabMsg struct {
	Kind string
	From string // the sending tab

	Election *protocol.Message // KindElection

	Op *Op // KindOp

	// KindChange: server rows of Table, and the table's version after them
	// (0: not advanced). With Snapshot, the rows replace the table up to
	// Version. Acks are outbox entries the server acknowledged (with
	// their version), Refused those it refused.
	Table    string
	Rows     []Row
	Version  uint64
	Snapshot bool
	Reset    bool // with Snapshot: keys not in Rows are gone, whatever their version
	Acks     []Ack
	Refused  []string

	Status string // KindStatus
}

// Ack is a server's acknowledgement of an operation.
type Ack struct {
	OpID    string
	Version uint64
}
