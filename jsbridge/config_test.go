//go:build js && wasm

package jsbridge

import (
	"strings"
	"syscall/js"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tabsync/tabsync/conflict"
)

func emptyStore() js.Value { return jsTest.Call("createStore", jsEval("{}")) }

func TestConfigDefaults(t *testing.T) {
	s, err := New(emptyStore(), jsEval("{channelName: 'defaults'}"), "tab-defaults")
	require.NoError(t, err)
	require.Empty(t, s.problems)
	o := s.opt
	assert.Equal(t, "defaults", o.channelName)
	assert.Equal(t, int64(100), o.engine.ThrottleMs, "throttleMs defaults to 100, as in the reference design")
	assert.Equal(t, int64(0), o.engine.DebounceMs)
	assert.Equal(t, conflict.LastWriteWins, o.engine.Strategy)
	assert.Empty(t, o.engine.SyncKeys, "every key")
	assert.Empty(t, o.engine.ExcludeKeys)
	assert.Empty(t, o.engine.AppVersion)
	assert.Equal(t, "tab-defaults", o.engine.Tab)
	assert.False(t, o.debug)
	assert.False(t, o.enableLeaderElection)
	assert.False(t, o.persist)
	assert.True(t, o.shouldSync.IsUndefined())
	assert.True(t, o.customResolver.IsUndefined())
	assert.True(t, o.onSyncStateChange.IsUndefined())
	assert.True(t, o.onRemoteUpdate.IsUndefined())
	assert.True(t, o.onError.IsUndefined())
}

func TestConfigReadsEveryField(t *testing.T) {
	cfg := jsEval(`{
		channelName: 'every-field',
		syncKeys: ['a', 'b'],
		excludeKeys: ['secret'],
		throttleMs: 0,
		debounceMs: 250,
		conflictStrategy: 'custom',
		customResolver: (local, remote) => remote,
		enableLeaderElection: true,
		leaderHeartbeatMs: 1500,
		leaderElection: 'heartbeat',
		debug: true,
		onSyncStateChange: () => {},
		onRemoteUpdate: () => {},
		shouldSync: () => true,
		onError: () => {},
		persist: {dbName: 'db', version: 2, migrate: (s) => s},
		appVersion: '2.3.0',
		maxMessageBytes: 65536,
	}`)
	in := newInstance(t, emptyStore(), cfg)
	require.Empty(t, in.s.problems)
	o := in.s.opt
	assert.Equal(t, "every-field", o.channelName)
	assert.Equal(t, []string{"a", "b"}, o.engine.SyncKeys)
	assert.Equal(t, []string{"secret"}, o.engine.ExcludeKeys)
	assert.Equal(t, int64(0), o.engine.ThrottleMs, "0 turns the throttle off")
	assert.Equal(t, int64(250), o.engine.DebounceMs)
	assert.Equal(t, conflict.Custom, o.engine.Strategy)
	assert.True(t, o.customResolver.Equal(cfg.Get("customResolver")))
	assert.True(t, o.enableLeaderElection)
	assert.Equal(t, 1500.0, o.leaderHeartbeatMs)
	assert.Equal(t, "heartbeat", o.leaderElection)
	assert.True(t, o.debug)
	assert.True(t, o.onSyncStateChange.Equal(cfg.Get("onSyncStateChange")))
	assert.True(t, o.onRemoteUpdate.Equal(cfg.Get("onRemoteUpdate")))
	assert.True(t, o.shouldSync.Equal(cfg.Get("shouldSync")))
	assert.True(t, o.onError.Equal(cfg.Get("onError")))
	assert.True(t, o.persist)
	assert.Equal(t, "2.3.0", o.engine.AppVersion)
	assert.Equal(t, 65536, o.engine.Limits.MaxBytes)

	for _, s := range []string{"last-write-wins", "first-write-wins", "merge"} {
		in := newInstance(t, emptyStore(), jsEval("{channelName: 'c', conflictStrategy: '"+s+"'}"))
		assert.Empty(t, in.s.problems, s)
		assert.Equal(t, s, in.s.opt.engine.Strategy.String())
	}
	for _, p := range []string{"true", "false", "null", "{}"} {
		in := newInstance(t, emptyStore(), jsEval("{channelName: 'c', persist: "+p+"}"))
		assert.Empty(t, in.s.problems, "persist: "+p)
	}
}

// Absent, null and undefined all mean "not set".
func TestConfigUnsetFieldsAreFine(t *testing.T) {
	in := newInstance(t, emptyStore(), jsEval(`{
		channelName: 'c', syncKeys: null, excludeKeys: undefined, throttleMs: null,
		debounceMs: undefined, conflictStrategy: null, customResolver: null, onError: null,
		onSyncStateChange: undefined, onRemoteUpdate: null, shouldSync: null, appVersion: null,
		leaderElection: undefined, persist: null, leaderHeartbeatMs: null,
	}`))
	assert.Empty(t, in.s.problems)
	assert.Equal(t, int64(100), in.s.opt.engine.ThrottleMs)
}

func TestConfigProblemsAreReportedWhenStarting(t *testing.T) {
	for _, c := range []struct{ field, want string }{
		{"channelName: ''", "channelName must be a non-empty string"},
		{"channelName: 5", "channelName must be a non-empty string"},
		{"syncKeys: 'a'", "syncKeys must be an array of key names"},
		{"syncKeys: ['a', 1]", "syncKeys must hold only strings"},
		{"excludeKeys: {a: true}", "excludeKeys must be an array of key names"},
		{"excludeKeys: [null]", "excludeKeys must hold only strings"},
		{"throttleMs: -1", "throttleMs must be a number of milliseconds, 0 or more"},
		{"throttleMs: '100'", "throttleMs must be a number of milliseconds, 0 or more"},
		{"throttleMs: NaN", "throttleMs must be a number of milliseconds, 0 or more"},
		{"debounceMs: Infinity", "debounceMs must be a number of milliseconds, 0 or more"},
		{"debounceMs: true", "debounceMs must be a number of milliseconds, 0 or more"},
		{"maxMessageBytes: -5", "maxMessageBytes must be a number of bytes, 0 or more"},
		{"leaderHeartbeatMs: -5", "leaderHeartbeatMs must be a number of milliseconds, 0 or more"},
		{"maxMessageBytes: 'big'", "maxMessageBytes must be a number of bytes, 0 or more"},
		{"conflictStrategy: 1", "conflictStrategy must be a string"},
		{"conflictStrategy: 'newest'", "newest"},
		{"conflictStrategy: 'custom'", "conflictStrategy 'custom' needs a customResolver(local, remote) function"},
		{"customResolver: 'remote'", "customResolver must be a function"},
		{"shouldSync: true", "shouldSync must be a function"},
		{"onRemoteUpdate: {}", "onRemoteUpdate must be a function"},
		{"leaderElection: 'raft'", "leaderElection must be 'auto', 'locks' or 'heartbeat', not 'raft'"},
		{"leaderElection: 2", "leaderElection must be 'auto', 'locks' or 'heartbeat'"},
		{"appVersion: 2", "appVersion must be a string"},
		{"persist: 'yes'", "persist must be a boolean or an object"},
	} {
		t.Run(c.field, func(t *testing.T) {
			cfg := jsEval("{channelName: 'bad-config', " + c.field + "}")
			in := newInstance(t, emptyStore(), cfg)
			assert.NotPanics(t, in.start)
			assert.False(t, in.active(), "an instance with a bad config does not sync")
			require.Len(t, in.errors(), 1, "one report names every problem")
			e := in.log.Get("errors").Index(0)
			assert.Equal(t, "start", e.Get("phase").String())
			assert.Contains(t, e.Get("message").String(), c.want)
			assert.Equal(t, in.tab, e.Get("tabId").String())
			assert.Equal(t, []string{"disconnected"}, in.states())
		})
	}
}

func TestConfigProblemsAreAllListedInOneReport(t *testing.T) {
	in := newInstance(t, emptyStore(), jsEval("{syncKeys: 'a', throttleMs: -1, shouldSync: 1}"))
	in.start()
	require.Len(t, in.errors(), 1)
	msg := in.errors()[0]
	for _, want := range []string{"channelName", "syncKeys", "throttleMs", "shouldSync"} {
		assert.Contains(t, msg, want)
	}
}

func TestConfigThatIsNotAnObjectGoesToTheConsole(t *testing.T) {
	console := jsTest.Call("captureConsole", "error")
	defer console.Call("restore")
	for _, cfg := range []string{"undefined", "null", "'channel'", "42"} {
		s, err := New(emptyStore(), jsEval(cfg), "tab-config-x1y2z3")
		require.NoError(t, err, "a bad config does not fail create: start() reports it")
		h := s.Handle()
		assert.NotPanics(t, func() { h.Call("start") })
		assert.False(t, h.Call("isActive").Bool())
		h.Call("destroy")
	}
	lines := jsStrings(console.Get("lines"))
	require.Len(t, lines, 4, "with no onError to call, each report goes to console.error")
	for _, l := range lines {
		assert.Equal(t, "[tabsync:x1y2z3] start: not syncing: config must be an object", l)
	}
}

func TestBadCallbackTypesWithoutOnErrorGoToTheConsole(t *testing.T) {
	console := jsTest.Call("captureConsole", "error")
	defer console.Call("restore")
	cfg := jsEval("{channelName: 'c', onError: 'not a function', onSyncStateChange: 1}")
	s, err := New(emptyStore(), cfg, "tab-bad-onerror")
	require.NoError(t, err)
	h := s.Handle()
	defer h.Call("destroy")
	h.Call("start")
	assert.False(t, h.Call("isActive").Bool())
	lines := jsStrings(console.Get("lines"))
	require.Len(t, lines, 1)
	assert.Contains(t, lines[0], "onError must be a function")
	assert.Contains(t, lines[0], "onSyncStateChange must be a function")
}

func TestStoreProblemsAreReportedWhenStarting(t *testing.T) {
	for _, c := range []struct{ store, want string }{
		{"null", "store must be an object with getState, setState and subscribe"},
		{"'store'", "store must be an object with getState, setState and subscribe"},
		{"{getState() {}, subscribe() {}}", "store has no setState function"},
		{"{getState: 1, setState() {}, subscribe() {}}", "store has no getState function"},
		{"{}", "store has no getState function; store has no setState function; store has no subscribe function"},
	} {
		t.Run(c.store, func(t *testing.T) {
			in := newInstance(t, jsEval(c.store), jsEval("{channelName: 'bad-store'}"))
			in.start()
			assert.False(t, in.active())
			assert.Equal(t, []string{"start: not syncing: " + c.want}, in.errors())
			assert.Equal(t, []string{"disconnected"}, in.states())
		})
	}
}

// Callbacks are optional: an instance with none syncs like any other.
func TestMissingCallbacksAreFine(t *testing.T) {
	channel := uniqueName(t, "ch")
	mk := func(tab string) (js.Value, js.Value) {
		store := jsTest.Call("createStore", jsEval("{n: 0}"))
		s, err := New(store, jsEval("{channelName: '"+channel+"', throttleMs: 0}"), tab)
		require.NoError(t, err)
		h := s.Handle()
		t.Cleanup(func() { h.Call("destroy") })
		h.Call("start")
		return store, h
	}
	a, ha := mk("tab-no-callbacks-a")
	b, hb := mk("tab-no-callbacks-b")
	assert.True(t, ha.Call("isActive").Bool())
	eventually(t, "a and b to see each other", func() bool {
		return ha.Call("getConnectedTabs").Int() == 2 && hb.Call("getConnectedTabs").Int() == 2
	})
	a.Call("setState", jsEval("{n: 7}"))
	eventually(t, "b to get n", func() bool { return b.Call("getState").Get("n").Int() == 7 })
}

func TestCreateThroughTheGlobalAPI(t *testing.T) {
	ready := jsEval("{called: 0}")
	js.Global().Set("__tabsyncOnReady", jsFunc("", "this.called++").Call("bind", ready))
	defer js.Global().Delete("__tabsyncOnReady")
	Install()
	assert.Equal(t, 1, ready.Get("called").Int(), "__tabsyncOnReady is called once the API is in place")

	api := js.Global().Get("__tabsync")
	assert.Equal(t, ContractVersion, api.Get("version").Int())
	sup := api.Call("supported")
	assert.True(t, sup.Get("broadcastChannel").Bool())
	assert.True(t, sup.Get("webLocks").Bool())
	assert.True(t, sup.Get("indexedDB").Bool())

	h := api.Call("create", emptyStore(), jsEval("{channelName: 'api'}"), "tab-api")
	require.True(t, h.Get("error").IsUndefined())
	for _, name := range []string{"start", "stop", "isActive", "isLeader", "getTabId", "requestState", "broadcastState", "getConnectedTabs", "forceLeader", "getStats", "destroy"} {
		assert.Equal(t, js.TypeFunction, h.Get(name).Type(), name)
	}
	assert.Equal(t, "tab-api", h.Call("getTabId").String())
	assert.False(t, h.Call("isActive").Bool(), "create does not start")
	assert.Equal(t, 1, h.Call("getConnectedTabs").Int())
	h.Call("destroy")

	for _, c := range []struct {
		tab, kind, want string
	}{
		{"undefined", "TypeError", "needs a tab id string"},
		{"42", "TypeError", "needs a tab id string"},
		{"''", "Error", "must be 1 to 64"},
		{"'has space'", "Error", "must be 1 to 64"},
		{"'x'.repeat(65)", "Error", "must be 1 to 64"},
	} {
		r := api.Call("create", emptyStore(), jsEval("{channelName: 'api'}"), jsEval(c.tab))
		e := r.Get("error")
		require.False(t, e.IsUndefined(), c.tab)
		assert.Equal(t, c.kind, e.Get("name").String(), c.tab)
		assert.Contains(t, e.Get("message").String(), c.want, c.tab)
		assert.True(t, strings.HasPrefix(e.Get("message").String(), "tabsync: "), c.tab)
	}
}

func TestCreateWithoutHelpersSaysHowToFixIt(t *testing.T) {
	helpers := js.Global().Get("__tabsyncHelpers")
	js.Global().Delete("__tabsyncHelpers")
	defer js.Global().Set("__tabsyncHelpers", helpers)
	Install()
	r := js.Global().Get("__tabsync").Call("create", emptyStore(), jsEval("{channelName: 'c'}"), "tab-no-helpers")
	e := r.Get("error")
	require.False(t, e.IsUndefined())
	assert.Contains(t, e.Get("message").String(), "__tabsyncHelpers is missing")
	assert.Contains(t, e.Get("message").String(), "helpers.js")
}

// Reading the config or the store runs the application's getters; a throw
// there fails create, and the module goes on serving.
func TestCreateWithThrowingGetters(t *testing.T) {
	Install()
	api := js.Global().Get("__tabsync")
	for _, c := range []struct{ store, config string }{
		{"{getState() {}, setState() {}, subscribe() {}}", "{get channelName() { throw new Error('no name'); }}"},
		{"{getState() {}, setState() {}, subscribe() {}}", "new Proxy({}, {get() { throw new Error('proxy says no'); }})"},
		{"{get getState() { throw new Error('no getState'); }, setState() {}, subscribe() {}}", "{channelName: 'c'}"},
	} {
		r := api.Call("create", jsEval(c.store), jsEval(c.config), "tab-getters")
		e := r.Get("error")
		require.False(t, e.IsUndefined(), c.config)
		assert.Contains(t, e.Get("message").String(), "tabsync: cannot read the store or the config: JavaScript error: ")
	}
	h := api.Call("create", emptyStore(), jsEval("{channelName: 'after-getters'}"), "tab-after-getters")
	require.True(t, h.Get("error").IsUndefined(), "the module still serves")
	h.Call("destroy")
}
