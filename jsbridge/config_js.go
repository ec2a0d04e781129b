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

// parseConfig reads the user's config object. Every problem is listed, so
// that one report names them all. The reading and checking is JavaScript
// (config in helpers.js), one call across the boundary: in Go it was some
// 6 KB of the gzipped module.
func parseConfig(cfg js.Value, tab string, m *model) (options, []string) {
	var names []any
	for s := conflict.LastWriteWins; s <= conflict.Custom; s++ {
		names = append(names, s.String())
	}
	c := m.config.Invoke(cfg, names)
	keys := func(name string) []string {
		if v := c.Get(name); !v.IsNull() {
			return stringList(v)
		}
		return nil
	}
	o := options{
		channelName:          c.Get("channelName").String(),
		debug:                c.Get("debug").Bool(),
		shouldSync:           c.Get("shouldSync"),
		customResolver:       c.Get("customResolver"),
		onRemoteUpdate:       c.Get("onRemoteUpdate"),
		onSyncStateChange:    c.Get("onSyncStateChange"),
		onError:              c.Get("onError"),
		enableLeaderElection: c.Get("enableLeaderElection").Bool(),
		leaderElection:       c.Get("leaderElection").String(),
		leaderHeartbeatMs:    c.Get("leaderHeartbeatMs").Float(),
		persist:              c.Get("persist").Bool(),
		persistDB:            c.Get("persistDB").String(),
		persistVersion:       uint(c.Get("persistVersion").Int()),
		persistMigrate:       c.Get("persistMigrate"),
	}
	e := &o.engine
	e.Tab, e.Model, e.Persist = tab, m, o.persist
	e.SyncKeys, e.ExcludeKeys = keys("syncKeys"), keys("excludeKeys")
	e.ThrottleMs = int64(c.Get("throttleMs").Float())
	e.DebounceMs = int64(c.Get("debounceMs").Float())
	if i := c.Get("strategy").Int(); i >= 0 {
		e.Strategy = conflict.Strategy(i)
	}
	e.AppVersion = c.Get("appVersion").String()
	e.Limits.MaxBytes = int(c.Get("maxMessageBytes").Float())
	return o, stringList(c.Get("problems"))
}
