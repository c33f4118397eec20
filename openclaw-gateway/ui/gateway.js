// The gateway protocol client of the built-in Control UI: one WebSocket to the page's own
// origin (and base path), the connect.challenge -> connect -> hello-ok handshake (protocol 3..4,
// client "openclaw-control-ui", a WebCrypto Ed25519 device identity where the browser has one),
// requests with deadlines, events, and reconnection with backoff
// (no polling: a closed socket schedules one timer; nothing runs while connected and idle).

const CLIENT_VERSION = "openclaw-rs";
const REQUEST_TIMEOUT_MS = 30000;
const SCOPES = ["operator.admin", "operator.read", "operator.write", "operator.approvals", "operator.pairing"];
const CAPS = ["agent-kind", "approvals", "exec-approvals", "tool-events"];

/** An error answer of the gateway: `code`, `message`, `details`. */
export class GatewayError extends Error {
  constructor(shape) {
    super(shape?.message || "request failed");
    this.code = shape?.code || "UNAVAILABLE";
    this.details = shape?.details || null;
    this.retryAfterMs = shape?.retryAfterMs;
  }
}

function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
export { uuid };

function b64url(bytes) {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function idb(op) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open("openclaw-control-ui", 1);
    open.onupgradeneeded = () => open.result.createObjectStore("keys");
    open.onerror = () => reject(open.error);
    open.onsuccess = () => {
      const tx = open.result.transaction("keys", "readwrite");
      const req = op(tx.objectStore("keys"));
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    };
  });
}

/**
 * This browser's device identity: an Ed25519 key pair made with WebCrypto (the private key is
 * not extractable) and kept in IndexedDB; `null` where WebCrypto Ed25519 is missing (an
 * insecure context, an old browser), and the UI then connects with the shared secret alone.
 */
let devicePromise = null;
function deviceIdentity() {
  devicePromise ??= (async () => {
    try {
      if (!crypto.subtle || !window.indexedDB) return null;
      let keys = await idb((s) => s.get("device"));
      if (!keys) {
        keys = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
        await idb((s) => s.put(keys, "device"));
      }
      const raw = new Uint8Array(await crypto.subtle.exportKey("raw", keys.publicKey));
      const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", raw));
      const id = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
      return { keys, id, publicKey: b64url(raw) };
    } catch {
      return null;
    }
  })();
  return devicePromise;
}

/** The signed `device` block of `connect` (payload v3, as OpenClaw's clients sign it). */
async function deviceProof(params, nonce, ts) {
  const dev = await deviceIdentity();
  if (!dev || !nonce || !Number.isSafeInteger(ts)) return undefined;
  const a = params.auth || {};
  const payload = [
    "v3", dev.id, params.client.id, params.client.mode, params.role, params.scopes.join(","), String(ts),
    a.token || "", nonce, (params.client.platform || "").trim().toLowerCase(), "",
  ].join("|");
  try {
    const sig = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, dev.keys.privateKey, new TextEncoder().encode(payload)));
    return { id: dev.id, publicKey: dev.publicKey, signature: b64url(sig), signedAt: ts, nonce };
  } catch {
    return undefined;
  }
}

/** The UI's base path (`/` or `/openclaw/`): where this module was served from. */
export const BASE_PATH = new URL(".", import.meta.url).pathname;

/** The WebSocket URL of the gateway serving this page: its origin plus the base path. */
export function gatewayUrl(loc = window.location) {
  const proto = loc.protocol === "https:" ? "wss:" : "ws:";
  return `${proto}//${loc.host}${BASE_PATH}`;
}

/**
 * The connection. `onState(state, info)` hears "connecting" | "connected" | "closed" |
 * "auth-failed"; `onEvent(name, payload)` every event; `onHello(hello)` each successful connect.
 */
export class Gateway {
  constructor({ url, auth, onState, onEvent, onHello }) {
    this.url = url;
    this.auth = auth; // () => ({token} | {password} | null)
    this.onState = onState;
    this.onEvent = onEvent;
    this.onHello = onHello;
    this.ws = null;
    this.pending = new Map();
    this.hello = null;
    this.backoff = 500;
    this.timer = 0;
    this.stopped = true;
    this.instanceId = sessionStorage.getItem("openclaw.instanceId") || uuid();
    sessionStorage.setItem("openclaw.instanceId", this.instanceId);
  }

  start() {
    this.stopped = false;
    this.backoff = 500;
    this.open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000, "bye");
  }

  /** Connect again at once (e.g. after a new token was entered). */
  restart() {
    clearTimeout(this.timer);
    this.stopped = false;
    this.backoff = 500;
    if (this.ws && this.ws.readyState <= 1) {
      this.ws.onclose = null;
      this.ws.close(1000, "reconnect");
    }
    this.open();
  }

  get connected() {
    return !!this.hello && this.ws?.readyState === WebSocket.OPEN;
  }

  open() {
    clearTimeout(this.timer);
    this.hello = null;
    this.onState("connecting");
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (e) {
      this.onState("closed", { message: String(e) });
      this.schedule();
      return;
    }
    this.ws = ws;
    ws.onmessage = (m) => this.frame(ws, m.data);
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      const wasConnected = !!this.hello;
      this.hello = null;
      for (const [, p] of this.pending) p.reject(new GatewayError({ code: "UNAVAILABLE", message: "connection closed" }));
      this.pending.clear();
      if (this.authFailure) {
        const f = this.authFailure;
        this.authFailure = null;
        this.onState("auth-failed", f);
        return;
      }
      this.onState("closed", { code: e.code, reason: e.reason, wasConnected });
      this.schedule();
    };
  }

  schedule(ms) {
    if (this.stopped) return;
    clearTimeout(this.timer);
    const wait = ms ?? this.backoff;
    this.backoff = Math.min(this.backoff * 2, 15000);
    this.timer = setTimeout(() => this.open(), wait);
  }

  frame(ws, text) {
    let f;
    try {
      f = JSON.parse(text);
    } catch {
      return;
    }
    if (f.type === "event") {
      if (f.event === "connect.challenge") {
        this.connect(ws, f.payload?.nonce, f.payload?.ts);
        return;
      }
      if (f.event === "shutdown") {
        // A restart announces itself: come back a little after it is expected to be done.
        const ms = f.payload?.restartExpectedMs;
        if (ms) this.backoff = Math.min(Math.max(ms / 4, 250), 2000);
      }
      this.onEvent(f.event, f.payload);
      return;
    }
    if (f.type === "res") {
      const p = this.pending.get(f.id);
      if (!p) return;
      if (f.ok && f.payload?.status === "accepted" && p.expectFinal) return;
      this.pending.delete(f.id);
      clearTimeout(p.timer);
      if (f.ok) p.resolve(f.payload);
      else p.reject(new GatewayError(f.error));
    }
  }

  async connect(ws, nonce, ts) {
    const auth = this.auth() || undefined;
    const params = {
      minProtocol: 3,
      maxProtocol: 4,
      client: {
        id: "openclaw-control-ui",
        version: CLIENT_VERSION,
        platform: navigator.platform || "web",
        mode: "webchat",
        instanceId: this.instanceId,
        timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC",
      },
      role: "operator",
      scopes: SCOPES,
      caps: CAPS,
      userAgent: navigator.userAgent,
      locale: navigator.language,
    };
    if (auth) params.auth = auth;
    const device = this.noDevice ? undefined : await deviceProof(params, nonce, ts);
    if (device) params.device = device;
    try {
      const hello = await this.send(ws, "connect", params, 15000);
      this.hello = hello;
      this.backoff = 500;
      this.onState("connected", hello);
      this.onHello(hello);
    } catch (e) {
      const code = e.details?.code || e.code;
      const fatal = /^AUTH_|CONTROL_UI_ORIGIN_NOT_ALLOWED|PAIRING_REQUIRED|PROTOCOL_MISMATCH/.test(code || "");
      // A device proof this gateway does not accept: connect with the shared secret alone.
      if (/^DEVICE_AUTH_/.test(code || "")) this.noDevice = true;
      if (fatal && !/RATE_LIMITED/.test(code)) this.authFailure = { code, message: e.message };
      else if (e.retryAfterMs) this.backoff = e.retryAfterMs;
      ws.close();
    }
  }

  send(ws, method, params, timeoutMs = REQUEST_TIMEOUT_MS, expectFinal = false) {
    return new Promise((resolve, reject) => {
      if (!ws || ws.readyState !== WebSocket.OPEN) {
        reject(new GatewayError({ code: "UNAVAILABLE", message: "not connected to the gateway" }));
        return;
      }
      const id = uuid();
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new GatewayError({ code: "UNAVAILABLE", message: `${method}: no answer in ${timeoutMs / 1000} s` }));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, expectFinal });
      ws.send(JSON.stringify({ type: "req", id, method, params }));
    });
  }

  /** One method call on the connected socket. */
  request(method, params = {}, timeoutMs) {
    if (!this.hello) return Promise.reject(new GatewayError({ code: "UNAVAILABLE", message: "not connected to the gateway" }));
    return this.send(this.ws, method, params, timeoutMs);
  }

  /** Whether the gateway advertises `method`. */
  has(method) {
    return !!this.hello?.features?.methods?.includes(method);
  }
}
