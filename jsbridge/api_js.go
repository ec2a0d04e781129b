//go:build js && wasm

package jsbridge

import (
	"syscall/js"

	"github.com/tabsync/tabsync/protocol"
	tsync "github.com/tabsync/tabsync/sync"
)

// ContractVersion is the version of the global API described in
// docs/WASM-CONTRACT.md.
const ContractVersion = 1

// Install defines globalThis.__tabsync, the API the npm wrapper calls, and
// tells the wrapper through globalThis.__tabsyncOnReady.
func Install() {
	api := jsObject.New()
	api.Set("version", ContractVersion)
	// supported() is JavaScript (helpers.js): without the helpers the
	// module serves nothing, and create says why.
	if h := js.Global().Get("__tabsyncHelpers"); h.Type() == js.TypeObject {
		api.Set("supported", h.Get("supported"))
	}
	api.Set("create", js.FuncOf(func(_ js.Value, args []js.Value) (result any) {
		defer func() {
			// Reading the store or the config runs the application's
			// getters and proxies; a throw there must not end the
			// module, which serves every instance on the page.
			if r := recover(); r != nil {
				result = throw("Error", "tabsync: cannot read the store or the config: "+panicText(r))
			}
		}()
		for len(args) < 3 {
			args = append(args, js.Undefined())
		}
		tab := args[2]
		if typeOf(tab) != js.TypeString {
			return throw("TypeError", "tabsync: create(store, config, tabId) needs a tab id string")
		}
		s, err := New(args[0], args[1], tab.String())
		if err != nil {
			return throw("Error", "tabsync: "+err.Error())
		}
		return s.Handle()
	}))
	js.Global().Set("__tabsync", api)
	if ready := js.Global().Get("__tabsyncOnReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
}

// throw returns a rejected-looking value: the wrapper checks for it. Go
// cannot throw into JavaScript from a js.FuncOf.
func throw(kind, message string) js.Value {
	e := js.Global().Get(kind).New(message)
	r := jsObject.New()
	r.Set("error", e)
	return r
}

// Handle returns the JavaScript object of the instance's methods. One Go
// function serves them all, call(method, arg), and helpers.js builds the
// object around it: a js.FuncOf and its recover per method cost the module
// about 2 KB gzipped.
func (s *Sync) Handle() js.Value {
	if s.handleFunc.IsUndefined() {
		s.handleFunc = js.FuncOf(func(_ js.Value, args []js.Value) any {
			if len(args) < 2 || typeOf(args[0]) != js.TypeString {
				return nil
			}
			name := args[0].String()
			defer s.recover(name)
			return s.method(name, args[1])
		})
	}
	return s.m.handle.Invoke(s.handleFunc)
}

// method runs the handle's method name with its first argument.
func (s *Sync) method(name string, arg js.Value) any {
	switch name {
	case "start":
		s.start(arg)
		return s.started()
	case "stop":
		s.Stop()
	case "destroy":
		s.Destroy()
	case "isActive":
		return s.Active()
	case "isLeader":
		return s.isLeader()
	case "forceLeader":
		s.forceLeader()
	case "getTabId":
		return s.tab
	case "getConnectedTabs":
		if !s.Active() {
			return 1
		}
		return s.e.ConnectedTabs()
	case "requestState":
		if s.Active() {
			s.handle(s.e.RequestState(now()))
		}
	case "broadcastState":
		if !s.Active() {
			return nil
		}
		s.flushLocal()
		var keys []string
		if typeOf(arg) == js.TypeObject && jsIsArray.Invoke(arg).Bool() {
			for i := 0; i < arg.Length(); i++ {
				if k := arg.Index(i); typeOf(k) == js.TypeString {
					keys = append(keys, k.String())
				}
			}
		}
		s.handle(s.e.BroadcastState(now(), keys))
	case "getStats":
		return s.stats()
	}
	return nil
}

// stats builds the getStats() object.
func (s *Sync) stats() js.Value {
	var st tsync.Stats
	if s.e != nil {
		st = s.e.Stats()
	}
	r := jsObject.New()
	r.Set("sent", st.Sent)
	r.Set("received", st.Received)
	r.Set("applied", st.Applied)
	r.Set("conflicts", st.Conflicts)
	r.Set("dropped", st.Dropped)
	by := jsObject.New()
	for _, reason := range protocol.Reasons() {
		by.Set(reason.String(), st.DroppedByReason[reason.String()])
	}
	r.Set("droppedByReason", by)
	return r
}
