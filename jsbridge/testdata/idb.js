// Direct access to the IndexedDB databases tabsync writes, for the Go tests
// of persistence: they check what is stored without going through tabsync,
// and prepare or damage databases the way another tab or the user would.
// Reached as globalThis.__tabsyncIDB.
globalThis.__tabsyncIDB = {
  // req turns an IDBRequest into a promise.
  req(r) {
    return new Promise((resolve, reject) => {
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
  },

  // open opens name at version (the current one when absent), creating
  // tabsync's stores if it has to.
  open(name, version) {
    const r = version === undefined ? indexedDB.open(name) : indexedDB.open(name, version);
    r.onupgradeneeded = () => {
      const db = r.result;
      if (!db.objectStoreNames.contains('state')) db.createObjectStore('state', { keyPath: 'key' });
      if (!db.objectStoreNames.contains('meta')) db.createObjectStore('meta');
    };
    return this.req(r);
  },

  // read resolves to { version, schema, records: { key: { value, version } } }.
  async read(name) {
    const db = await this.open(name);
    try {
      const tx = db.transaction(['state', 'meta'], 'readonly');
      const all = await this.req(tx.objectStore('state').getAll());
      const schema = await this.req(tx.objectStore('meta').get('schema'));
      const records = {};
      for (const r of all) records[r.key] = { value: r.value, version: r.version };
      return { version: db.version, schema, records };
    } finally {
      db.close();
    }
  },

  // write creates name at version with records [{ key, value, version }]
  // and the given schema, as an older app would have left it.
  async write(name, version, schema, records) {
    const db = await this.open(name, version);
    const tx = db.transaction(['state', 'meta'], 'readwrite');
    for (const r of records) tx.objectStore('state').put(r);
    tx.objectStore('meta').put(schema, 'schema');
    await new Promise((resolve, reject) => {
      tx.oncomplete = resolve;
      tx.onabort = () => reject(tx.error);
    });
    db.close();
  },

  // upgrade opens name at version (as a newer app would) and closes it.
  async upgrade(name, version) {
    const db = await this.open(name, version);
    db.close();
  },

  remove(name) {
    return this.req(indexedDB.deleteDatabase(name));
  },

  // hide makes globalThis.indexedDB undefined, as in a browser without it;
  // the returned function puts it back.
  hide() {
    const own = Object.getOwnPropertyDescriptor(globalThis, 'indexedDB');
    Object.defineProperty(globalThis, 'indexedDB', { value: undefined, configurable: true, writable: true });
    return () => {
      if (own) Object.defineProperty(globalThis, 'indexedDB', own);
      else delete globalThis.indexedDB;
    };
  },
};
