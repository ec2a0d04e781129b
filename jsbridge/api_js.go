//go:build js && wasm

package jsbridge

import (
	"syscall/js"

	"github.com/tabsync/tabsync/protocol"
)

// ContractVersion is the version of the global API described in
// docs/WASM-CONTRACT.md.
const ContractVersion = 1

// Install defines globalThis.__tabsync, the API the npm wrapper calls, and
// tells the wrapper through globalThis.__tabsyncOnReady.
func Install() {
	api := jsObject.New()
	api.Set("version", ContractVersion)
	api.Set("supported", js.FuncOf(func(js.Value, []js.Value) any { return Supported() }))
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

// Supported reports the browser features tabsync uses.
func Supported() js.Value {
	g := js.Global()
	r := jsObject.New()
	r.Set("broadcastChannel", g.Get("BroadcastChannel").Type() == js.TypeFunction)
	nav := g.Get("navigator")
	r.Set("webLocks", nav.Type() == js.TypeObject && nav.Get("locks").Type() == js.TypeObject)
	r.Set("indexedDB", g.Get("indexedDB").Type() == js.TypeObject)
	return r
}

// Handle returns the JavaScript object of the instance's methods.
func (s *Sync) Handle() js.Value {
	h := jsObject.New()
	method := func(name string, f func(args []js.Value) any) {
		fn := js.FuncOf(func(_ js.Value, args []js.Value) any {
			defer s.recover(name)
			return f(args)
		})
		s.handleFuncs = append(s.handleFuncs, fn)
		h.Set(name, fn)
	}
	method("start", func([]js.Value) any { s.Start(); return s.started() })
	method("stop", func([]js.Value) any { s.Stop(); return nil })
	method("destroy", func([]js.Value) any { s.Destroy(); return nil })
	method("isActive", func([]js.Value) any { return s.Active() })
	method("isLeader", func([]js.Value) any { return s.isLeader() })
	method("forceLeader", func([]js.Value) any { s.forceLeader(); return nil })
	method("getTabId", func([]js.Value) any { return s.tab })
	method("getConnectedTabs", func([]js.Value) any {
		if !s.Active() {
			return 1
		}
		return s.e.ConnectedTabs()
	})
	method("requestState", func([]js.Value) any {
		if s.Active() {
			s.handle(s.e.RequestState(now()))
		}
		return nil
	})
	method("broadcastState", func(args []js.Value) any {
		if !s.Active() {
			return nil
		}
		var keys []string
		if len(args) > 0 && typeOf(args[0]) == js.TypeObject && jsIsArray.Invoke(args[0]).Bool() {
			for i := 0; i < args[0].Length(); i++ {
				if k := args[0].Index(i); typeOf(k) == js.TypeString {
					keys = append(keys, k.String())
				}
			}
		}
		s.handle(s.e.BroadcastState(now(), keys))
		return nil
	})
	method("getStats", func([]js.Value) any { return s.stats() })
	return h
}

// stats builds the getStats() object.
func (s *Sync) stats() js.Value {
	r := jsObject.New()
	by := jsObject.New()
	for _, reason := range protocol.Reasons() {
		by.Set(reason.String(), 0)
	}
	if s.e == nil {
		for _, k := range []string{"sent", "received", "applied", "conflicts", "dropped"} {
			r.Set(k, 0)
		}
		r.Set("droppedByReason", by)
		return r
	}
	st := s.e.Stats()
	r.Set("sent", st.Sent)
	r.Set("received", st.Received)
	r.Set("applied", st.Applied)
	r.Set("conflicts", st.Conflicts)
	r.Set("dropped", st.Dropped)
	for k, n := range st.DroppedByReason {
		by.Set(k, n)
	}
	r.Set("droppedByReason", by)
	return r
}
