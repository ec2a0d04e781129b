//go:build js && wasm

package jsbridge

import (
	"errors"
	"math"
	"syscall/js"

	"github.com/tabsync/tabsync/conflict"
	tsync "github.com/tabsync/tabsync/sync"
)

var errHelpers = errors.New("globalThis.__tabsyncHelpers is missing: load tabsync.wasm through the tabsync npm package, which installs them (or evaluate jsbridge/helpers.js before the module)")

// options is the parsed BroadcastSyncConfig.
type options struct {
	channelName string
	engine      tsync.Config
	debug       bool

	shouldSync, customResolver        js.Value
	onRemoteUpdate, onSyncStateChange js.Value
	onError                           js.Value
	enableLeaderElection              bool
	leaderElection                    string
	leaderHeartbeatMs                 float64

	// persist: keep the synced keys in IndexedDB database persistDB, whose
	// schema version is persistVersion; persistMigrate is the user's
	// migrate(state, fromVersion), or undefined.
	persist        bool
	persistDB      string
	persistVersion uint
	persistMigrate js.Value
}

// parseConfig reads the user's config object. Every problem is listed, so
// that one report names them all.
func parseConfig(cfg js.Value, tab string, m conflict.Model) (options, []string) {
	var o options
	var problems []string
	bad := func(msg string) { problems = append(problems, msg) }
	if typeOf(cfg) != js.TypeObject {
		return o, []string{"config must be an object"}
	}
	get := func(name string) js.Value { return getProp(cfg, name) }
	isSet := func(v js.Value) bool { return !v.IsUndefined() && !v.IsNull() }

	if v := get("channelName"); typeOf(v) != js.TypeString || v.String() == "" {
		bad("channelName must be a non-empty string")
	} else {
		o.channelName = v.String()
	}
	keyList := func(name string) []string {
		v := get(name)
		if !isSet(v) {
			return nil
		}
		if !jsIsArray.Invoke(v).Bool() {
			bad(name + " must be an array of key names")
			return nil
		}
		out := make([]string, 0, v.Length())
		for i := 0; i < v.Length(); i++ {
			k := v.Index(i)
			if typeOf(k) != js.TypeString {
				bad(name + " must hold only strings")
				return nil
			}
			out = append(out, k.String())
		}
		return out
	}
	number := func(name string, def float64) float64 {
		v := get(name)
		if !isSet(v) {
			return def
		}
		if typeOf(v) != js.TypeNumber || math.IsNaN(v.Float()) || v.Float() < 0 || math.IsInf(v.Float(), 0) {
			bad(name + " must be a number of milliseconds, 0 or more")
			return def
		}
		return v.Float()
	}
	fn := func(name string) js.Value {
		v := get(name)
		if !isSet(v) {
			return js.Undefined()
		}
		if typeOf(v) != js.TypeFunction {
			bad(name + " must be a function")
			return js.Undefined()
		}
		return v
	}

	e := &o.engine
	e.Tab, e.Model = tab, m
	e.SyncKeys = keyList("syncKeys")
	e.ExcludeKeys = keyList("excludeKeys")
	e.ThrottleMs = int64(number("throttleMs", 100))
	e.DebounceMs = int64(number("debounceMs", 0))
	if v := get("conflictStrategy"); isSet(v) {
		if typeOf(v) != js.TypeString {
			bad("conflictStrategy must be a string")
		} else if s, err := conflict.ParseStrategy(v.String()); err != nil {
			bad(err.Error())
		} else {
			e.Strategy = s
		}
	}
	o.customResolver = fn("customResolver")
	if e.Strategy == conflict.Custom && o.customResolver.IsUndefined() {
		bad("conflictStrategy 'custom' needs a customResolver(local, remote) function")
	}
	o.shouldSync = fn("shouldSync")
	o.onRemoteUpdate = fn("onRemoteUpdate")
	o.onSyncStateChange = fn("onSyncStateChange")
	o.onError = fn("onError")
	o.debug = truthy(get("debug"))
	if v := get("appVersion"); isSet(v) {
		if typeOf(v) != js.TypeString {
			bad("appVersion must be a string")
		} else {
			e.AppVersion = v.String()
		}
	}
	if v := number("maxMessageBytes", 0); v > 0 {
		e.Limits.MaxBytes = int(v)
	}
	o.enableLeaderElection = truthy(get("enableLeaderElection"))
	o.leaderHeartbeatMs = number("leaderHeartbeatMs", 0)
	if v := get("leaderElection"); isSet(v) {
		s, isString := "", typeOf(v) == js.TypeString
		if isString {
			s = v.String() // String on a BigInt panics
		}
		switch {
		case !isString:
			bad("leaderElection must be 'auto', 'locks' or 'heartbeat'")
		case s == "auto" || s == "locks" || s == "heartbeat":
			o.leaderElection = s
		default:
			bad("leaderElection must be 'auto', 'locks' or 'heartbeat', not '" + s + "'")
		}
	}
	o.persistDB, o.persistVersion, o.persistMigrate = "tabsync:"+o.channelName, 1, js.Undefined()
	switch v := get("persist"); typeOf(v) {
	case js.TypeUndefined, js.TypeNull:
	case js.TypeBoolean:
		o.persist = v.Bool()
	case js.TypeObject:
		o.persist = true
		if n := getProp(v, "dbName"); isSet(n) {
			if typeOf(n) != js.TypeString || n.String() == "" {
				bad("persist.dbName must be a non-empty string")
			} else {
				o.persistDB = n.String()
			}
		}
		if n := getProp(v, "version"); isSet(n) {
			f := 0.0
			if typeOf(n) == js.TypeNumber {
				f = n.Float()
			}
			if f < 1 || f > 1<<31 || f != math.Trunc(f) {
				bad("persist.version must be a whole number, 1 or more")
			} else {
				o.persistVersion = uint(f)
			}
		}
		if m := getProp(v, "migrate"); isSet(m) {
			if typeOf(m) != js.TypeFunction {
				bad("persist.migrate must be a function (state, fromVersion) => state")
			} else {
				o.persistMigrate = m
			}
		}
	default:
		bad("persist must be a boolean or an object { dbName, version, migrate }")
	}
	o.engine.Persist = o.persist
	return o, problems
}
