package protocol

import "github.com/tabsync/tabsync/conflict"

// Encode builds the wire object for msg with the Model's builders. Entry
// values are placed in the object as they are: the channel clones them.
func Encode(m conflict.Model, msg Message) conflict.Value {
	keys := []string{"type", "tabId", "v", "seq"}
	vals := []conflict.Value{m.MakeString(msg.Type.String()), m.MakeString(msg.Tab), m.MakeNumber(Version), m.MakeNumber(float64(msg.Seq))}
	if msg.AppVersion != "" {
		keys = append(keys, "appVersion")
		vals = append(vals, m.MakeString(msg.AppVersion))
	}
	var f fields
	add := f.add
	switch msg.Type {
	case StateUpdate, StateResponse:
		if msg.Type == StateResponse {
			add("req", m.MakeString(msg.Req))
			add("to", m.MakeString(msg.To))
			if msg.More {
				add("more", m.MakeBool(true))
			}
		}
		sk := make([]string, len(msg.Entries))
		sv := make([]conflict.Value, len(msg.Entries))
		mv := make([]conflict.Value, len(msg.Entries))
		var lk, gk []string
		var lv, gv []conflict.Value
		for i, e := range msg.Entries {
			sk[i] = e.Key
			sv[i] = e.Value
			mv[i] = m.MakeString(FormatVersion(e.Version))
			if !e.Version.Lineage.IsZero() {
				lk = append(lk, e.Key)
				lv = append(lv, m.MakeString(e.Version.Lineage.String()))
			}
			if len(e.Version.Gone) > 0 {
				gk = append(gk, e.Key)
				gv = append(gv, m.MakeString(conflict.FormatGone(e.Version.Gone)))
			}
		}
		add("state", m.MakeObject(sk, sv))
		add("meta", m.MakeObject(sk, mv))
		if len(lk) > 0 {
			add("seen", m.MakeObject(lk, lv))
		}
		if len(gk) > 0 {
			add("gone", m.MakeObject(gk, gv))
		}
	case StateRequest:
		add("req", m.MakeString(msg.Req))
		if msg.To != "" {
			add("to", m.MakeString(msg.To))
		}
	case TabPing, TabPong:
		add("started", m.MakeNumber(float64(msg.Started)))
		if msg.Type == TabPong {
			add("to", m.MakeString(msg.To))
			break
		}
		if msg.Digest != "" {
			add("digest", m.MakeString(msg.Digest))
		}
		if msg.Filter != "" {
			add("filter", m.MakeString(msg.Filter))
		}
		if msg.Leaving {
			add("leaving", m.MakeBool(true))
		}
	case LeaderElection:
		add("term", m.MakeNumber(float64(msg.Term)))
		add("priority", m.MakeNumber(float64(msg.Priority)))
	case LeaderAnnounce, Heartbeat:
		add("term", m.MakeNumber(float64(msg.Term)))
		add("leader", m.MakeString(msg.Leader))
	}
	keys = append(keys, "payload")
	vals = append(vals, m.MakeObject(f.keys, f.vals))
	return m.MakeObject(keys, vals)
}

// fields collects an object's keys and values.
type fields struct {
	keys []string
	vals []conflict.Value
}

// add appends a field. Not inlined: Encode calls it at 16 places, and each
// inlined copy of the two appends costs the wasm module.
//
//go:noinline
func (f *fields) add(k string, v conflict.Value) {
	f.keys = append(f.keys, k)
	f.vals = append(f.vals, v)
}
