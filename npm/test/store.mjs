// store is the tests' zustand-like store: getState, setState (a patch or
// a function of the state, shallow-merged) and subscribe, whose listeners
// get the state and the one before it.
export function store(initial = {}) {
  let state = initial;
  const listeners = new Set();
  return {
    getState: () => state,
    setState(p) {
      const prev = state;
      state = { ...state, ...(typeof p === 'function' ? p(state) : p) };
      listeners.forEach((l) => l(state, prev));
    },
    subscribe(l) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
}
