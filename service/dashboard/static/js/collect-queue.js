// Kept recordings wait in IndexedDB until the server has stored them: a recording made offline
// is uploaded when the network returns, and leaves the queue only once the server answered that
// it holds it. A retry after a lost answer sends the same session id and content again, which
// the server's idempotent upload stores once. Each recording keeps the project it was made for.
import { inProject } from "./collect-project.js";

const DATABASE = "motionlab.collect";
const STORE = "recordings";

function openDatabase() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: "id" });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function transaction(mode, work) {
  const database = await openDatabase();
  return new Promise((resolve, reject) => {
    const tx = database.transaction(STORE, mode);
    const request = work(tx.objectStore(STORE));
    tx.oncomplete = () => {
      database.close();
      resolve(request.result);
    };
    tx.onerror = () => reject(tx.error);
  });
}

export const enqueue = (session) => transaction("readwrite", (store) => store.put(session));
export const waiting = () => transaction("readonly", (store) => store.getAll());
const remove = (id) => transaction("readwrite", (store) => store.delete(id));

export class UploadRefused extends Error {
  constructor(status, detail) {
    super(detail);
    this.status = status;
  }
}

// POST one session; resolves when stored (201 new, 200 already there), throws a TypeError when
// the network is down and UploadRefused with the server's reason otherwise.
async function upload({ project, ...session }, token) {
  const response = await fetch(inProject("/v1/sessions", project), {
    method: "POST",
    headers: { "Content-Type": "application/json", ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ sessions: [session] }),
  });
  if (response.ok) return;
  const problem = await response.json().catch(() => ({}));
  throw new UploadRefused(response.status, problem.detail || `HTTP ${response.status}`);
}

let flushing = null;

// Uploads every waiting recording in order, one at a time; onStored(session) after each. A
// network error stops the round (the next `online` event or timer tries again); a refusal
// stops it too, with its reason, and keeps the recording: nothing is dropped unseen.
export function flush(token, onStored) {
  flushing ??= (async () => {
    try {
      for (const session of await waiting()) {
        await upload(session, token);
        await remove(session.id);
        onStored(session);
      }
    } finally {
      flushing = null;
    }
  })();
  return flushing;
}
