//go:build !js

package tableproto

// The JSON codec, for the server and the Go client. It is kept out of js
// builds so that wasm-bound code using this package's types and checks does
// not link encoding/json: the browser's module reads and writes frames
// with its own code (tablebridge/read.go, wire_js.go).

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
)

type wire struct {
	Type         string                   `json:"type"`
	V            int                      `json:"v,omitempty"`
	ClientID     string                   `json:"clientId,omitempty"`
	Token        string                   `json:"token,omitempty"`
	Limits       *wireLimits              `json:"limits,omitempty"`
	Table        string                   `json:"table,omitempty"`
	Since        uint64                   `json:"since,omitempty"`
	OpID         string                   `json:"opId,omitempty"`
	Payload      json.RawMessage          `json:"payload,omitempty"`
	Changes      map[string]wireRowChange `json:"changes,omitempty"`
	More         bool                     `json:"more,omitempty"`
	TableVersion uint64                   `json:"tableVersion,omitempty"`
	OriginID     string                   `json:"originId,omitempty"`
	Timestamp    int64                    `json:"timestamp,omitempty"`
	Duplicate    bool                     `json:"duplicate,omitempty"`
	Code         string                   `json:"code,omitempty"`
	Message      string                   `json:"message,omitempty"`
	ID           string                   `json:"id,omitempty"`
}

type wireLimits struct {
	MaxMessageBytes int   `json:"maxMessageBytes"`
	MaxValueBytes   int   `json:"maxValueBytes"`
	MaxTables       int   `json:"maxTables"`
	OpsPerSecond    int   `json:"opsPerSecond"`
	IdleTimeoutMs   int64 `json:"idleTimeoutMs"`
}

// wireRowChange is the change that wrote a key of a snapshot.
type wireRowChange struct {
	OpID      string `json:"opId,omitempty"`
	OriginID  string `json:"originId,omitempty"`
	Timestamp int64  `json:"timestamp,omitempty"`
}

type wireChange struct {
	Operation *string         `json:"operation"`
	Key       *string         `json:"key"`
	Value     json.RawMessage `json:"value,omitempty"`
}

// Encode returns the JSON text of f. Values must be valid JSON (Decode
// guarantees it for what it returns); they are written compacted.
//
// Every frame but a snapshot, and a welcome's limits, is written by
// appendFrame, which the relay's write path needs to be quick (issue 12);
// encodeReflect, encoding/json on the wire struct, writes the rest and is
// the reference appendFrame's output is tested byte for byte against.
func Encode(f Frame) ([]byte, error) {
	if f.Type == Snapshot || f.Limits != nil {
		return encodeReflect(f)
	}
	b, ok := appendFrame(make([]byte, 0, frameSize(f)), f)
	if !ok {
		return encodeReflect(f) // a value that is not JSON: its error
	}
	return b, nil
}

// encodeReflect is Encode by encoding/json, for every frame type.
func encodeReflect(f Frame) ([]byte, error) {
	w := wire{
		Type: string(f.Type), V: f.V, ClientID: f.ClientID, Token: f.Token, Table: f.Table,
		Since: f.Since, OpID: f.OpID, More: f.More, TableVersion: f.TableVersion,
		OriginID: f.OriginID, Timestamp: f.Timestamp, Duplicate: f.Duplicate,
		Code: string(f.Code), Message: f.Message, ID: f.ID,
	}
	if f.Limits != nil {
		w.Limits = (*wireLimits)(f.Limits)
	}
	switch f.Type {
	case Operation, Update:
		var b bytes.Buffer
		b.WriteString(`{"operation":`)
		writeString(&b, string(f.Change.Operation))
		b.WriteString(`,"key":`)
		writeString(&b, f.Change.Key)
		if len(f.Change.Value) > 0 { // a set's null value is the text "null"
			b.WriteString(`,"value":`)
			b.Write(f.Change.Value)
		}
		b.WriteByte('}')
		w.Payload = b.Bytes()
	case Snapshot:
		var b bytes.Buffer
		b.WriteByte('{')
		for i, r := range f.Rows {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(&b, r.Key)
			b.WriteByte(':')
			b.Write(r.Value)
			if r.OpID != "" || r.OriginID != "" || r.Timestamp != 0 {
				if w.Changes == nil {
					w.Changes = map[string]wireRowChange{}
				}
				w.Changes[r.Key] = wireRowChange{OpID: r.OpID, OriginID: r.OriginID, Timestamp: r.Timestamp}
			}
		}
		b.WriteByte('}')
		w.Payload = b.Bytes()
	}
	return marshal(&w)
}

// marshal is json.Marshal without its HTML escaping of <, > and &, which
// would also rewrite the values inside a payload: a value crosses the relay
// with the text its client sent (JSON.stringify escapes none of them), so
// that one value has one text on every device and in every store.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func writeString(b *bytes.Buffer, s string) {
	q, _ := marshal(s) // a string always marshals
	b.Write(q)
}

// Decode parses one frame of either direction. It checks JSON types and the
// shape of each type's payload, not names, sizes or who may send what (see
// CheckClient and CheckOperation). Errors carry the code to answer with:
// CodeBadMessage or CodeUnknownType.
//
// An operation frame of the usual shape is read by decodeOperation, which
// the relay's write path needs to be quick (issue 12); anything else, and
// any operation it does not handle, by decodeReflect (encoding/json), so
// that unusual input is read, or refused, as encoding/json reads it.
func Decode(b []byte) (Frame, *ProtoError) {
	if f, ok := decodeOperation(b); ok {
		return f, nil
	}
	return decodeReflect(b)
}

// decodeReflect is Decode by encoding/json, for every frame.
func decodeReflect(b []byte) (Frame, *ProtoError) {
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		return Frame{}, refuse(CodeBadMessage, jsonProblem(err))
	}
	f := Frame{
		Type: Type(w.Type), V: w.V, ClientID: w.ClientID, Token: w.Token, Table: w.Table,
		Since: w.Since, OpID: w.OpID, More: w.More, TableVersion: w.TableVersion,
		OriginID: w.OriginID, Timestamp: w.Timestamp, Duplicate: w.Duplicate,
		Code: Code(w.Code), Message: w.Message, ID: w.ID,
	}
	if w.Limits != nil {
		f.Limits = (*Limits)(w.Limits)
	}
	switch f.Type {
	case Hello, Subscribe, Unsubscribe, Ping, Welcome, Synced, Ack, Error, Pong:
	case Operation, Update:
		var c wireChange
		if len(w.Payload) == 0 || w.Payload[0] != '{' {
			return Frame{}, refuse(CodeBadMessage, "payload must be an object {operation, key, value}")
		}
		if err := json.Unmarshal(w.Payload, &c); err != nil {
			return Frame{}, refuse(CodeBadMessage, "payload: "+jsonProblem(err))
		}
		if c.Operation == nil || c.Key == nil {
			return Frame{}, refuse(CodeBadMessage, "payload needs operation and key")
		}
		f.Change = Change{Operation: Op(*c.Operation), Key: *c.Key}
		if len(c.Value) > 0 {
			var buf bytes.Buffer
			if err := json.Compact(&buf, c.Value); err != nil { // cannot fail: Unmarshal checked it
				return Frame{}, refuse(CodeBadMessage, "payload.value: "+err.Error())
			}
			f.Change.Value = buf.Bytes()
		}
	case Snapshot:
		rows, err := decodeRows(w.Payload)
		if err != nil {
			return Frame{}, refuse(CodeBadMessage, "payload: "+err.Error())
		}
		for i := range rows {
			c := w.Changes[rows[i].Key]
			rows[i].OpID, rows[i].OriginID, rows[i].Timestamp = c.OpID, c.OriginID, c.Timestamp
		}
		f.Rows = rows
	case "":
		return Frame{}, refuse(CodeBadMessage, "a frame needs a type")
	default:
		return Frame{}, refuse(CodeUnknownType, "unknown type "+strconv.Quote(w.Type))
	}
	return f, nil
}

// decodeRows reads a snapshot payload, keeping the keys' order.
func decodeRows(p json.RawMessage) ([]Row, error) {
	if len(p) == 0 || p[0] != '{' {
		return nil, errors.New("a snapshot's payload must be an object")
	}
	dec := json.NewDecoder(bytes.NewReader(p))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	var rows []Row
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := t.(string) // object keys are strings
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		rows = append(rows, Row{Key: k, Value: RawValue(v)})
	}
	if _, err := dec.Token(); err != nil && err != io.EOF {
		return nil, err
	}
	return rows, nil
}

func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field == "" {
			return "a frame must be a JSON object, not " + te.Value
		}
		return te.Field + " must not be " + te.Value
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return "not JSON at byte " + strconv.FormatInt(se.Offset, 10) + ": " + se.Error()
	}
	return "not a JSON frame: " + err.Error()
}

// CheckClient checks a decoded frame the server received from a client: it
// must be a client type, must not set fields only the server sets, and its
// table, opId, clientId, key and value must be valid (value against
// maxValueBytes; 0: no size check). Auth, rate and subscription limits are
// the server's to check.
func CheckClient(f *Frame, maxValueBytes int) *ProtoError {
	switch f.Type {
	case Hello:
		if f.V != Version {
			return refuse(CodeUnsupportedVersion, "this server speaks version "+strconv.Itoa(Version)+
				"; hello said "+strconv.Itoa(f.V))
		}
		if f.ClientID != "" {
			if err := ValidClientID(f.ClientID); err != nil {
				return refuse(CodeBadClientID, err.Error())
			}
		}
	case Subscribe, Unsubscribe:
		if err := ValidTable(f.Table); err != nil {
			return refuse(CodeBadTable, err.Error())
		}
	case Operation:
		if f.OriginID != "" || f.TableVersion != 0 || f.Timestamp != 0 {
			return refuse(CodeBadMessage, "originId, tableVersion and timestamp are set by the server")
		}
		return CheckOperation(f, maxValueBytes)
	case Ping:
	default:
		return refuse(CodeUnknownType, "a client does not send "+strconv.Quote(string(f.Type)))
	}
	return nil
}
