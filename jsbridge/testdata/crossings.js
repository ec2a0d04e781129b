// Counts what crosses between Go and JavaScript, for the hot-path
// benchmarks (hotpath_bench_test.go). While counting it wraps parts of the
// Go instance of wasm_exec.js (Go's own glue, which wasmbrowsertest loads)
// and of Reflect, which that glue calls for each Go call into JavaScript,
// and puts everything back after. count(f) returns, for f's run:
//
//   [0] entries: calls from JavaScript into Go (each js.FuncOf called,
//       each Go timer that fires): Go.prototype._resume;
//   [1] calls: Go's calls of JavaScript functions, Value.Call, Invoke and
//       New: Reflect.apply and Reflect.construct;
//   [2] properties: Go's reads and writes of JavaScript properties and
//       elements, Value.Get, Set, Index, SetIndex (and the method lookup
//       of each Value.Call): Reflect.get and Reflect.set;
//   [3] values: js.Values Go takes a reference to, each of which carries
//       a finalizer in Go: increments of the instance's reference counts;
//   [4] reads: Go's loads of a js.Value it passes to JavaScript, in every
//       kind of call (the ones above, Length, String, Equal ...): an upper
//       bound of all Go calls into JavaScript;
//   [5] exports: calls of the module's export (jsbridge/export_js.go),
//       which enter Go without _resume: helpers.js's exports, wrapped.
//
// Only tabsync and the driving loop may run meanwhile: the application's
// own uses of Reflect would count too.
globalThis.__tabsyncCrossings = {
  go: null,
  // find captures the Go instance: it calls goFunc, a js.FuncOf, once.
  find(goFunc) {
    const resume = Go.prototype._resume;
    const self = this;
    Go.prototype._resume = function () {
      if (self.go === null) self.go = this;
      return resume.call(this);
    };
    try {
      goFunc();
    } finally {
      Go.prototype._resume = resume;
    }
    return this.go !== null;
  },
  count(f) {
    const go = this.go;
    const c = [0, 0, 0, 0, 0, 0];
    const helpers = globalThis.__tabsyncHelpers;
    const exports = helpers.exports;
    helpers.exports = {
      mem: exports.mem,
      tabsync: (...a) => { c[5]++; return exports.tabsync(...a); },
    };
    const resume = Go.prototype._resume;
    const refs = go._goRefCounts;
    const values = go._values;
    const { apply, construct, get, set } = Reflect;
    Go.prototype._resume = function () {
      c[0]++;
      return resume.call(this);
    };
    Reflect.apply = (...a) => { c[1]++; return apply(...a); };
    Reflect.construct = (...a) => { c[1]++; return construct(...a); };
    Reflect.get = (...a) => { c[2]++; return get(...a); };
    Reflect.set = (...a) => { c[2]++; return set(...a); };
    go._goRefCounts = new Proxy(refs, {
      set(t, p, v) {
        if (typeof v === 'number' && v > (t[p] || 0)) c[3]++;
        t[p] = v;
        return true;
      },
    });
    go._values = new Proxy(values, {
      get(t, p) {
        if (typeof p === 'string' && p.length > 0 && p.charCodeAt(0) <= 57) c[4]++;
        return t[p];
      },
    });
    try {
      f();
    } finally {
      Go.prototype._resume = resume;
      Object.assign(Reflect, { apply, construct, get, set });
      go._goRefCounts = refs;
      go._values = values;
      helpers.exports = exports;
    }
    return c;
  },
};
