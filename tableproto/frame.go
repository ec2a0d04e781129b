package tableproto

import (
	"errors"
	"strconv"
	"unicode/utf8"
)

// Version is the protocol version this package speaks; hello and welcome
// carry it as "v".
const Version = 1

// Type is a frame's "type" field.
type Type string

// Client to server.
const (
	Hello       Type = "hello"       // first frame: v, clientId?, token?
	Subscribe   Type = "subscribe"   // table, since?
	Unsubscribe Type = "unsubscribe" // table
	Operation   Type = "operation"   // table, opId, payload {operation, key, value?}
	Ping        Type = "ping"        // id?; answered by pong
)

// Server to client.
const (
	Welcome  Type = "welcome"  // answer to hello: v, clientId, limits
	Snapshot Type = "snapshot" // table, tableVersion, payload {key: value…}, changes {key: {opId, originId, timestamp}…}?, more?
	Synced   Type = "synced"   // table, tableVersion: the subscription has caught up
	Update   Type = "update"   // table, tableVersion, payload, originId, opId, timestamp
	Ack      Type = "ack"      // table, opId, tableVersion, duplicate?
	Error    Type = "error"    // code, message, table?, opId?
	Pong     Type = "pong"     // id?
)

// Op is an operation's "operation" field.
type Op string

const (
	Set    Op = "set"
	Delete Op = "delete"
)

// Code is an error frame's "code". Codes are stable: clients branch on them
// and the server counts refusals by code.
type Code string

const (
	// The frame is not a JSON object, a field has the wrong type, a required
	// field is missing, or it sets a field only the server sets (originId,
	// tableVersion, timestamp). Nothing changed.
	CodeBadMessage Code = "badMessage"
	// The type is not one this server knows. Nothing changed.
	CodeUnknownType Code = "unknownType"
	// hello's v is not a version this server speaks. Fatal.
	CodeUnsupportedVersion Code = "unsupportedVersion"
	// A frame other than hello came first, or hello came twice.
	// Fatal before the hello, harmless after.
	CodeHelloRequired Code = "helloRequired"
	// The token is missing or wrong. Fatal (close 1008).
	CodeUnauthorized Code = "unauthorized"
	// No valid hello within the hello timeout. Fatal (close 1008).
	CodeAuthTimeout Code = "authTimeout"
	// The token does not allow this table, or is read-only and the frame
	// writes. Nothing changed.
	CodeForbidden Code = "forbidden"
	// A table name, key, opId or clientId breaks the rules of Valid*.
	CodeBadTable    Code = "badTable"
	CodeBadKey      Code = "badKey"
	CodeBadOpID     Code = "badOpId"
	CodeBadClientID Code = "badClientId"
	// The frame is larger than the connection's maxMessageBytes. Fatal:
	// the server closes with 1009 without reading the frame, so this code
	// appears in the server's counters, not in an error frame.
	CodeMessageTooBig Code = "messageTooBig"
	// The value is larger than maxValueBytes, or nests deeper than
	// MaxDepth. Nothing changed.
	CodeValueTooBig Code = "valueTooBig"
	CodeTooDeep     Code = "tooDeep"
	// A subscribe beyond maxTables subscriptions. Nothing changed.
	CodeTooManyTables Code = "tooManyTables"
	// More operations per second than opsPerSecond: this operation was not
	// applied; send it again later with the same opId.
	CodeRateLimited Code = "rateLimited"
	// subscribe's since is greater than the table's version (the server
	// lost data, or the client is confused). Followed by a snapshot: the
	// client replaces its copy.
	CodeSinceAhead Code = "sinceAhead"
	// The server has maxConnections connections. Fatal (close 1013).
	CodeTooManyConnections Code = "tooManyConnections"
	// The client read too slowly and its queue overflowed. Fatal (close
	// 1008); reconnect and subscribe with since.
	CodeSlowConsumer Code = "slowConsumer"
	// Nothing arrived for the idle timeout. Fatal (close 1001).
	CodeIdleTimeout Code = "idleTimeout"
	// Storage did not answer; the operation may or may not have been
	// stored. Send it again with the same opId.
	CodeUnavailable Code = "unavailable"
	// The server is shutting down. Fatal (close 1001); reconnect.
	CodeShuttingDown Code = "shuttingDown"
)

// Codes lists every code, in the order above.
func Codes() []Code {
	return []Code{CodeBadMessage, CodeUnknownType, CodeUnsupportedVersion, CodeHelloRequired,
		CodeUnauthorized, CodeAuthTimeout, CodeForbidden, CodeBadTable, CodeBadKey, CodeBadOpID,
		CodeBadClientID, CodeMessageTooBig, CodeValueTooBig, CodeTooDeep, CodeTooManyTables,
		CodeRateLimited, CodeSinceAhead, CodeTooManyConnections, CodeSlowConsumer, CodeIdleTimeout,
		CodeUnavailable, CodeShuttingDown}
}

// Fatal reports whether the server closes the connection after sending an
// error with this code.
func (c Code) Fatal() bool {
	switch c {
	case CodeUnsupportedVersion, CodeUnauthorized, CodeAuthTimeout, CodeMessageTooBig,
		CodeTooManyConnections, CodeSlowConsumer, CodeIdleTimeout, CodeShuttingDown:
		return true
	}
	return false
}

// Retry reports whether an operation refused with this code may succeed
// when sent again unchanged (with the same opId).
func (c Code) Retry() bool {
	return c == CodeRateLimited || c == CodeUnavailable || c == CodeShuttingDown
}

// Limits of names and values. These are fixed by the protocol; the
// per-connection limits (message and value bytes, tables, rate) are the
// server's and come in welcome's limits.
const (
	MaxTableLen    = 64   // bytes of a table name
	MaxKeyBytes    = 1024 // bytes of a key (UTF-8)
	MaxOpIDLen     = 128  // bytes of an opId
	MaxClientIDLen = 64   // bytes of a clientId
	MaxDepth       = 64   // nesting of arrays and objects in a value
)

// Limits are a server's per-connection limits, sent in welcome.
type Limits struct {
	MaxMessageBytes int   // "maxMessageBytes": a frame in either direction
	MaxValueBytes   int   // "maxValueBytes": an operation's value, as JSON
	MaxTables       int   // "maxTables": subscriptions at once
	OpsPerSecond    int   // "opsPerSecond": operations, sustained
	IdleTimeoutMs   int64 // "idleTimeoutMs": send something (ping) more often than this
}

// Change is the payload of operation and update:
// {"operation": "set"|"delete", "key": "…", "value": …}. Value is absent for
// a delete.
type Change struct {
	Operation Op
	Key       string
	Value     RawValue
}

// Row is one key of a snapshot's payload, with the change that wrote it
// (in "changes", added after version 1's first servers: empty from those).
type Row struct {
	Key   string
	Value RawValue

	OpID      string // the opId of the change that wrote the key
	OriginID  string // the clientId that wrote it
	Timestamp int64  // when the server stored it, ms since the epoch
}

// RawValue is a value as JSON text, stored and forwarded as it is.
type RawValue []byte

// Frame is one message, in either direction. Fields a type does not use are
// zero and absent on the wire. See docs/SERVER-PROTOCOL.md for which type
// carries which field.
type Frame struct {
	Type Type

	V        int    // hello, welcome: protocol version
	ClientID string // hello (optional), welcome: the connection's client id
	Token    string // hello
	Limits   *Limits

	Table        string
	Since        uint64 // subscribe: the last tableVersion the client has; 0: none, send a snapshot
	OpID         string // operation, update, ack, error
	Change       Change // operation, update: "payload"
	Rows         []Row  // snapshot: "payload" and "changes"
	More         bool   // snapshot: more chunks of this snapshot follow
	TableVersion uint64 // snapshot, synced, update, ack; error sinceAhead: the table's version
	OriginID     string // update: the clientId that wrote it
	Timestamp    int64  // update, snapshot: server time in ms since the epoch
	Duplicate    bool   // ack: the opId was seen before; TableVersion is the original one

	Code    Code   // error
	Message string // error: for people
	ID      string // ping, pong: echoed
}

// Err returns the error frame for code, about the frame f (its table and
// opId are copied).
func (f *Frame) Err(code Code, message string) Frame {
	return Frame{Type: Error, Code: code, Message: message, Table: f.Table, OpID: f.OpID}
}

// ProtoError is a refused frame: the code to send back and why.
type ProtoError struct {
	Code    Code
	Message string
}

func (e *ProtoError) Error() string { return string(e.Code) + ": " + e.Message }

func refuse(c Code, msg string) *ProtoError { return &ProtoError{Code: c, Message: msg} }

var (
	errTable = errors.New("a table name is 1 to " + strconv.Itoa(MaxTableLen) +
		" characters of letters, digits, - and _")
	errKey = errors.New("a key is 1 to " + strconv.Itoa(MaxKeyBytes) +
		" bytes of valid UTF-8")
	errOpID = errors.New("an opId is 1 to " + strconv.Itoa(MaxOpIDLen) +
		" characters of letters, digits, -, _, ., and :")
	errClientID = errors.New("a clientId is 1 to " + strconv.Itoa(MaxClientIDLen) +
		" characters of letters, digits, -, _, ., and :")
)

// ValidTable reports whether name is a table name: 1 to 64 characters of
// letters, digits, - and _ (case-sensitive).
func ValidTable(name string) error {
	if !charsOK(name, MaxTableLen, false) {
		return errTable
	}
	return nil
}

// ValidKey reports whether key is a key: 1 to 1024 bytes of valid UTF-8. Any
// character is allowed; the server encodes keys for storage.
func ValidKey(key string) error {
	if len(key) == 0 || len(key) > MaxKeyBytes || !utf8.ValidString(key) {
		return errKey
	}
	return nil
}

// ValidOpID reports whether id is an opId: 1 to 128 characters of letters,
// digits, -, _, . and :. An opId must be unique per table for as long as the
// server remembers opIds (its dedupe window, 24 hours by default): 16 random
// bytes in base64url, or crypto.randomUUID(), do.
func ValidOpID(id string) error {
	if !charsOK(id, MaxOpIDLen, true) {
		return errOpID
	}
	return nil
}

// ValidClientID reports whether id is a clientId: 1 to 64 characters of
// letters, digits, -, _, . and :.
func ValidClientID(id string) error {
	if !charsOK(id, MaxClientIDLen, true) {
		return errClientID
	}
	return nil
}

func charsOK(s string, max int, dotColon bool) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
		case dotColon && (c == '.' || c == ':'):
		default:
			return false
		}
	}
	return true
}

// Depth returns how deeply the JSON text v nests arrays and objects (0 for a
// scalar). It does not validate v; brackets inside strings do not count.
func Depth(v []byte) int {
	depth, max := 0, 0
	inStr, esc := false, false
	for _, c := range v {
		switch {
		case inStr:
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
		case c == '"':
			inStr = true
		case c == '[' || c == '{':
			depth++
			if depth > max {
				max = depth
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return max
}

// CheckOperation validates an operation frame's fields after decoding:
// the table, the opId, the key, and the value's size and depth against
// maxValueBytes (0: no size check). It returns the code to refuse it with.
func CheckOperation(f *Frame, maxValueBytes int) *ProtoError {
	if err := ValidTable(f.Table); err != nil {
		return refuse(CodeBadTable, err.Error())
	}
	if err := ValidOpID(f.OpID); err != nil {
		return refuse(CodeBadOpID, err.Error())
	}
	if err := ValidKey(f.Change.Key); err != nil {
		return refuse(CodeBadKey, err.Error())
	}
	switch f.Change.Operation {
	case Set:
		if len(f.Change.Value) == 0 {
			return refuse(CodeBadMessage, "a set needs a value (null is a value)")
		}
		if maxValueBytes > 0 && len(f.Change.Value) > maxValueBytes {
			return refuse(CodeValueTooBig, "the value is "+strconv.Itoa(len(f.Change.Value))+
				" bytes of JSON; the limit is "+strconv.Itoa(maxValueBytes))
		}
		if Depth(f.Change.Value) > MaxDepth {
			return refuse(CodeTooDeep, "the value nests deeper than "+strconv.Itoa(MaxDepth)+" levels")
		}
	case Delete:
		if len(f.Change.Value) != 0 {
			return refuse(CodeBadMessage, "a delete has no value")
		}
	default:
		return refuse(CodeBadMessage, `payload.operation must be "set" or "delete"`)
	}
	return nil
}
