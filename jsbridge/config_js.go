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
		channelName:          field(c, "channelName").String(),
		debug:                field(c, "debug").Bool(),
		shouldSync:           field(c, "shouldSync"),
		customResolver:       field(c, "customResolver"),
		onRemoteUpdate:       field(c, "onRemoteUpdate"),
		onSyncStateChange:    field(c, "onSyncStateChange"),
		onError:              field(c, "onError"),
		enableLeaderElection: field(c, "enableLeaderElection").Bool(),
		leaderElection:       field(c, "leaderElection").String(),
		leaderHeartbeatMs:    field(c, "leaderHeartbeatMs").Float(),
		persist:              field(c, "persist").Bool(),
		persistDB:            field(c, "persistDB").String(),
		persistVersion:       uint(field(c, "persistVersion").Int()),
		persistMigrate:       field(c, "persistMigrate"),
	}
	e := &o.engine
	e.Tab, e.Model, e.Persist = tab, m, o.persist
	e.SyncKeys, e.ExcludeKeys = keys("syncKeys"), keys("excludeKeys")
	e.ThrottleMs = int64(field(c, "throttleMs").Float())
	e.DebounceMs = int64(field(c, "debounceMs").Float())
	if i := field(c, "strategy").Int(); i >= 0 {
		e.Strategy = conflict.Strategy(i)
	}
	e.AppVersion = field(c, "appVersion").String()
	e.Limits.MaxBytes = int(field(c, "maxMessageBytes").Float())
	return o, stringList(field(c, "problems"))
}

// field is v.Get(name), not inlined: parseConfig reads twenty fields.
//
//go:noinline
func field(v js.Value, name string) js.Value { return v.Get(name) }
