// offline.js: keeps a project's unsent edits in IndexedDB, so that they
// survive a reload (offline or not) and reach the server once it is back.
//
// Per project and client id (the server's id for this replica), two records
// written together in one transaction:
//   snap:ID:C  {seq, clientId, confirmed}: the server's state as this page
//              last knew it (wasm_save_confirmed bytes) and its sequence number;
//   pend:ID:C  {clientId, seq, nextLocal, nextCounter, pending}: the SUBMIT
//              messages not yet part of that snapshot, oldest first.
// Invariant: the snapshot plus the pending SUBMITs, applied in order, is the
// view the page showed, so a reload shows the same project. An edit leaves
// the pending list only when a snapshot that holds it is written (an ACK
// alone does not remove it: until then it is "carried"; on reconnect
// WELCOME's last local id drops it again, so it is never applied twice).
//
// One page owns a record at a time: it holds the Web Lock
// "backline:ID:C" while it lives. Two tabs on one project thus never send
// each other's edits; a new page takes a record nobody holds (preferring one
// with edits waiting), or starts afresh and gets a client id of its own.
//
// The pending list is written after every local edit, ACK, REJECT and
// WELCOME (it is small); the snapshot 300 ms after the confirmed state
// moves, on pagehide, when the page is hidden, and at once when a local
// edit may rest on a confirmed state not yet written. Writes go out one
// after another, in the order they were made. Without IndexedDB or Web
// Locks (private modes, plain-HTTP LAN pages) nothing is kept.
import { localOf, MSG } from './model.js';

const DB_NAME = 'backline';
const STORE = 'projects';
const SNAPSHOT_DELAY_MS = 300;

function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
    req.onblocked = () => reject(new Error('IndexedDB is blocked by another tab'));
  });
}

// A finished transaction as a promise.
const done = (tx) =>
  new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('aborted'));
  });

const result = (req) =>
  new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });

export class Keeper {
  // Opens the store for PROJECT_ID; never throws (without IndexedDB or Web Locks it keeps nothing).
  static async open(projectId) {
    let db = null;
    try {
      if (navigator.locks) db = await openDb();
    } catch {
      /* no IndexedDB: the page still works, edits do not survive a reload */
    }
    return new Keeper(db, projectId);
  }

  constructor(db, projectId) {
    this.db = db;
    this.project = projectId;
    this.model = null;
    this.held = 0; // the client id whose record (and lock) this page owns
    this.releases = new Map(); // client id -> function that lets go of its lock
    this.snapSeq = -1; // seq of the stored snapshot (-1: none)
    this.known = []; // [{local, msg}] the replica's pending queue as last seen
    this.carried = []; // acknowledged since the stored snapshot, oldest first
    this.timer = 0;
    this.writing = Promise.resolve();
    this.failed = null; // the first write error (logged once)
  }

  key(kind, client) {
    return `${kind}:${this.project}:${client}`;
  }

  // Takes the lock of CLIENT's record if nobody holds it; true if taken.
  claim(client) {
    if (this.releases.has(client)) return Promise.resolve(true);
    return new Promise((resolve) => {
      navigator.locks
        .request(`backline:${this.project}:${client}`, { ifAvailable: true }, (lock) => {
          if (!lock) return resolve(false);
          resolve(true);
          return new Promise((release) => this.releases.set(client, release));
        })
        .catch(() => resolve(false));
    });
  }

  release(client) {
    const r = this.releases.get(client);
    this.releases.delete(client);
    if (r) r();
  }

  // The saved state of a record nobody else holds, or null:
  // {seq, clientId, confirmed, nextLocal, nextCounter, pending: [Uint8Array]}.
  async load() {
    if (!this.db) return null;
    const os = this.db.transaction(STORE, 'readonly').objectStore(STORE);
    const range = IDBKeyRange.bound(this.key('pend', ''), this.key('pend', '\uffff'));
    const pends = await result(os.getAll(range));
    // Edits waiting first, then the newest state.
    pends.sort((x, y) => y.pending.length - x.pending.length || y.seq - x.seq);
    for (const pend of pends) {
      if (!(await this.claim(pend.clientId))) continue;
      const os2 = this.db.transaction(STORE, 'readonly').objectStore(STORE);
      const snap = await result(os2.get(this.key('snap', pend.clientId)));
      if (snap && snap.seq === pend.seq) {
        this.held = pend.clientId;
        return { ...snap, nextLocal: pend.nextLocal, nextCounter: pend.nextCounter, pending: pend.pending };
      }
      this.release(pend.clientId);
    }
    return null;
  }

  // From now on the keeper follows MODEL (a model.js Model); SAVED is what
  // load() gave and the model was restored from (or null).
  attach(model, saved) {
    this.model = model;
    if (saved) this.snapSeq = saved.seq;
    this.known = this.queue();
  }

  queue() {
    return this.model.pending().map((msg) => ({ local: localOf(msg), msg }));
  }

  // After a local edit (TYPE 0) or a message of TYPE from the server.
  changed(type) {
    if (!this.model || !this.db || !this.model.clientId()) return;
    const now = this.queue();
    const still = new Set(now.map((p) => p.local));
    const gone = this.known.filter((p) => !still.has(p.local));
    // Gone after an ACK or a WELCOME: the log has it. After a REJECT: dropped.
    if (type === MSG.ACK || type === MSG.WELCOME) this.carried.push(...gone);
    this.known = now;
    if (type === MSG.WELCOME && this.model.clientId() !== this.held) this.rehome();
    // A local edit may rest on a confirmed state not stored yet: store it with the edit.
    if (type === MSG.WELCOME || (type === 0 && this.behind())) this.write(true);
    else if (type === 0 || type === MSG.ACK || type === MSG.REJECT) this.write(false);
    if (this.behind() && !this.timer) this.timer = setTimeout(() => this.flush(), SNAPSHOT_DELAY_MS);
  }

  // The server gave this page another client id (a fresh page, or its old
  // id was taken): from now on the record is the new id's, the old one goes.
  rehome() {
    const old = this.held;
    const client = this.model.clientId();
    this.held = client;
    this.snapSeq = -1;
    this.carried = []; // in the new record's snapshot, which is written next
    this.chain(async () => {
      if (!(await this.claim(client))) throw new Error(`client ${client} is held by another page`);
    });
    if (old)
      this.chain(async () => {
        const tx = this.db.transaction(STORE, 'readwrite');
        tx.objectStore(STORE).delete(this.key('snap', old));
        tx.objectStore(STORE).delete(this.key('pend', old));
        await done(tx);
        this.release(old);
      });
  }

  // The confirmed state moved since the stored snapshot.
  behind() {
    return this.model.seq() !== this.snapSeq;
  }

  // Writes the snapshot and the pending list now if the snapshot is behind.
  flush() {
    clearTimeout(this.timer);
    this.timer = 0;
    if (!this.model || !this.db || !this.model.clientId()) return;
    if (this.behind()) this.write(true);
  }

  // Resolves once everything written so far is stored and no snapshot is due.
  async idle() {
    for (;;) {
      const w = this.writing;
      await w;
      if (w === this.writing && !this.timer) return;
      if (this.timer) await new Promise((r) => setTimeout(r, 50));
    }
  }

  // Runs FN after every write made before it; a failure is logged once.
  chain(fn) {
    this.writing = this.writing.then(fn).catch((e) => this.report(e));
  }

  // Stores the pending list (and the snapshot if WITH_SNAPSHOT) as they are now.
  write(withSnapshot) {
    const m = this.model;
    const client = this.held;
    let snap = null;
    if (withSnapshot) {
      try {
        snap = { seq: m.seq(), clientId: client, confirmed: m.savedConfirmed() };
      } catch (e) {
        this.report(e);
        return;
      }
      this.snapSeq = snap.seq;
      this.carried = [];
    }
    const pend = {
      clientId: client,
      seq: this.snapSeq,
      nextLocal: m.nextLocal(),
      nextCounter: m.nextCounter(),
      pending: [...this.carried, ...this.known].map((p) => p.msg),
    };
    this.chain(() => {
      if (!this.releases.has(client)) return; // not ours (the lock was refused)
      const tx = this.db.transaction(STORE, 'readwrite');
      const os = tx.objectStore(STORE);
      if (snap) os.put(snap, this.key('snap', client));
      os.put(pend, this.key('pend', client));
      return done(tx);
    });
  }

  report(e) {
    if (this.failed) return;
    this.failed = e;
    console.warn(`offline: not kept on this device (${e && e.message})`);
  }
}
