//go:build js && wasm

package jsbridge

import (
	"errors"
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

// parseConfig reads the user's config object and checks the store. Every
// problem is listed, so that one report names them all. The reading and
// checking is JavaScript (config in helpers.js), one call across the
// boundary: in Go it was some 6 KB of the gzipped module.
func parseConfig(cfg, store js.Value, tab string, m *model) (options, []string) {
	var names []any
	for s := conflict.LastWriteWins; s <= conflict.Custom; s++ {
		names = append(names, s.String())
	}
	c := m.config.Invoke(cfg, names, store)
	keys := func(name string) []string {
		if v := field(c, name); !v.IsNull() {
			return stringList(v)
		}
		return nil
	}
	o := options{
		channelName:          fieldString(c, "channelName"),
		debug:                fieldBool(c, "debug"),
		shouldSync:           field(c, "shouldSync"),
		customResolver:       field(c, "customResolver"),
		onRemoteUpdate:       field(c, "onRemoteUpdate"),
		onSyncStateChange:    field(c, "onSyncStateChange"),
		onError:              field(c, "onError"),
		enableLeaderElection: fieldBool(c, "enableLeaderElection"),
		leaderElection:       fieldString(c, "leaderElection"),
		leaderHeartbeatMs:    fieldFloat(c, "leaderHeartbeatMs"),
		persist:              fieldBool(c, "persist"),
		persistDB:            fieldString(c, "persistDB"),
		persistVersion:       uint(fieldFloat(c, "persistVersion")),
		persistMigrate:       field(c, "persistMigrate"),
	}
	e := &o.engine
	e.Tab, e.Model, e.Persist = tab, m, o.persist
	e.SyncKeys, e.ExcludeKeys = keys("syncKeys"), keys("excludeKeys")
	e.ThrottleMs = int64(fieldFloat(c, "throttleMs"))
	e.DebounceMs = int64(fieldFloat(c, "debounceMs"))
	if i := int(fieldFloat(c, "strategy")); i >= 0 {
		e.Strategy = conflict.Strategy(i)
	}
	e.AppVersion = fieldString(c, "appVersion")
	e.Limits.MaxBytes = int(fieldFloat(c, "maxMessageBytes"))
	return o, stringList(field(c, "problems"))
}

// field is v.Get(name), and fieldString, fieldBool and fieldFloat read it
// as a string, boolean or number; not inlined: parseConfig reads twenty
// fields, and js.Value's Bool and Float inline their type checks.
//
//go:noinline
func field(v js.Value, name string) js.Value { return v.Get(name) }

//go:noinline
func fieldString(v js.Value, name string) string { return v.Get(name).String() }

//go:noinline
func fieldBool(v js.Value, name string) bool { return v.Get(name).Bool() }

//go:noinline
func fieldFloat(v js.Value, name string) float64 { return v.Get(name).Float() }
