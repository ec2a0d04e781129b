// tabsync/vue: sync a reactive() object, or a ref() holding an object, across
// tabs. Snapshots of it go on the wire, never the proxy or a ref.
import { isRef, toRaw, unref, watch } from 'vue';
import { connect, mutableStore, snap } from './adapter.js';

/** Unwraps what a reactive object can hold besides plain data. */
export const unwrapVue = (v) => (isRef(v) ? snap(v.value, unwrapVue) : toRaw(v));

/** Sync a reactive() object or a ref() of an object; started. */
export function syncReactive(target, config) {
  const read = () => unref(target);
  return connect(
    mutableStore(
      read,
      (patch) => Object.assign(read(), patch),
      (changed) => watch(target, changed, { deep: true, flush: 'sync' }),
      unwrapVue,
    ),
    config,
  );
}
