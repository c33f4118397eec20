// The built-in Control UI: the shell (login, navigation, connection banner, approval cards)
// around the views of chat.js and panels.js. It speaks the gateway protocol over one
// WebSocket (gateway.js). The token arrives in the URL fragment (`#token=`, as
// `openclaw dashboard` hands it over; the fragment never reaches a server or a log) or from
// the login form; it is kept in sessionStorage (this tab), or in localStorage when the user
// asks to be remembered.

import { Gateway, gatewayUrl, BASE_PATH } from "./gateway.js?v=@@v:gateway.js@@";
import { h, put, fmtTime, toast } from "./dom.js?v=@@v:dom.js@@";
import { ChatView, shortKey } from "./chat.js?v=@@v:chat.js@@";
import { SessionsView, CronView, ConfigView, LogsView } from "./panels.js?v=@@v:panels.js@@";

const AUTH_KEY = `openclaw.auth:${location.host}${BASE_PATH}`;
const VIEWS = ["chat", "sessions", "cron", "config", "logs"];
const TITLES = { chat: "Chat", sessions: "Sessions", cron: "Cron", config: "Config", logs: "Logs" };

function readAuth() {
  for (const store of [sessionStorage, localStorage]) {
    try {
      const v = JSON.parse(store.getItem(AUTH_KEY) || "null");
      if (v && (v.token || v.password)) return v;
    } catch {
      /* unreadable: ignore */
    }
  }
  return null;
}

function saveAuth(auth, remember) {
  sessionStorage.setItem(AUTH_KEY, JSON.stringify(auth));
  if (remember) localStorage.setItem(AUTH_KEY, JSON.stringify(auth));
  else localStorage.removeItem(AUTH_KEY);
}

function forgetAuth() {
  sessionStorage.removeItem(AUTH_KEY);
  localStorage.removeItem(AUTH_KEY);
}

/** Takes `#token=` (or `#password=`) out of the URL and keeps it for this tab. */
function takeFragment() {
  const frag = new URLSearchParams(location.hash.replace(/^#/, ""));
  const token = frag.get("token");
  const password = frag.get("password");
  if (!token && !password) return false;
  saveAuth(token ? { token } : { password }, false);
  history.replaceState(null, "", location.pathname + location.search + "#chat");
  return true;
}

class App {
  constructor() {
    takeFragment();
    this.agents = [];
    this.agentId = null;
    this.sessions = [];
    this.sessionKey = null;
    this.approvals = new Map();
    this.view = null;
    this.chat = new ChatView(this);
    this.views = { chat: this.chat, sessions: new SessionsView(this), cron: new CronView(this), config: new ConfigView(this), logs: new LogsView(this) };
    this.build();
    this.gw = new Gateway({
      url: gatewayUrl(),
      auth: () => readAuth(),
      onState: (s, info) => this.onState(s, info),
      onEvent: (name, p) => this.onEvent(name, p),
      onHello: (hello) => this.onHello(hello),
    });
    window.addEventListener("hashchange", () => {
      // A new `#token=` in an open tab (`openclaw dashboard` again): use it at once.
      if (takeFragment()) this.gw.restart();
      this.show(location.hash.slice(1));
    });
    document.addEventListener("keydown", (e) => this.onKey(e));
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && this.view === "logs" && this.gw.connected) this.views.logs.load();
    });
    this.show(location.hash.slice(1) || "chat");
    this.gw.start();
  }

  build() {
    this.banner = h("div", { class: "banner", id: "banner", role: "status", hidden: true });
    this.dot = h("span", { class: "dot", id: "conn", title: "connecting" });
    this.agentSelect = h("select", { id: "agent-select", "aria-label": "Agent", hidden: true, onchange: () => this.switchAgent(this.agentSelect.value) });
    this.nav = h(
      "nav",
      { "aria-label": "Views" },
      VIEWS.map((v, i) => h("a", { href: `#${v}`, id: `nav-${v}`, title: `${TITLES[v]} (Alt+${i + 1})` }, TITLES[v])),
    );
    this.approvalBox = h("div", { class: "approvals", id: "approvals", "aria-label": "Approval requests", "aria-live": "assertive" });
    this.login = this.loginForm();
    const main = (this.main = h("main", { id: "main" }, Object.values(this.views).map((v) => v.el)));
    const header = h("header", { class: "top" }, h("span", { class: "brand" }, this.dot, "OpenClaw"), this.agentSelect, this.nav);
    const app = document.getElementById("app");
    put(app, header, this.banner, this.approvalBox, this.login, main, h("div", { id: "toasts", class: "toasts" }));
    app.hidden = false;
    document.getElementById("boot")?.remove();
  }

  loginForm() {
    const input = h("input", { type: "password", id: "login-token", autocomplete: "current-password", required: true, "aria-describedby": "login-message" });
    const kind = h("select", { id: "login-kind", "aria-label": "Secret kind" }, h("option", { value: "token" }, "Token"), h("option", { value: "password" }, "Password"));
    const remember = h("input", { type: "checkbox", id: "login-remember" });
    this.loginMessage = h("p", { id: "login-message", class: "login-message", role: "alert" });
    return h(
      "form",
      {
        class: "card login",
        id: "login",
        hidden: true,
        onsubmit: (e) => {
          e.preventDefault();
          const v = input.value.trim();
          if (!v) return;
          saveAuth(kind.value === "token" ? { token: v } : { password: v }, remember.checked);
          input.value = "";
          this.login.hidden = true;
          this.gw.restart();
        },
      },
      h("h2", null, "Connect to this gateway"),
      this.loginMessage,
      h("div", { class: "login-row" }, kind, h("label", { class: "sr-only", for: "login-token" }, "Secret"), input),
      h("label", { class: "check" }, remember, " Remember on this browser"),
      h("button", { type: "submit", class: "primary" }, "Connect"),
      h("p", { class: "muted" }, "Run ", h("code", null, "openclaw dashboard"), " on the gateway's machine to open this page already signed in. The token is gateway.auth.token in openclaw.json."),
    );
  }

  showLogin(message) {
    this.loginMessage.textContent = message;
    this.login.hidden = false;
    this.main.hidden = true;
    this.login.querySelector("input")?.focus();
  }

  setBanner(text, kind = "warn") {
    this.banner.hidden = !text;
    this.banner.className = `banner ${kind}`;
    this.banner.textContent = text || "";
  }

  onState(state, info) {
    this.dot.className = `dot ${state}`;
    this.dot.title = state;
    if (state === "connected") {
      this.setBanner(null);
      this.login.hidden = true;
      this.main.hidden = false;
    } else if (state === "closed") {
      this.setBanner(info?.wasConnected || info?.code === 1012 ? "Connection to the gateway lost; reconnecting… (your draft is kept)" : "Cannot reach the gateway; retrying…");
    } else if (state === "auth-failed") {
      const code = info?.code || "";
      let msg;
      if (code === "CONTROL_UI_ORIGIN_NOT_ALLOWED") {
        msg = `This page's origin (${location.origin}) is not allowed to control the gateway. Add it to gateway.controlUi.allowedOrigins in openclaw.json, or open the page on the gateway's own address.`;
        this.setBanner(msg, "error");
        this.showLogin(msg);
        return;
      }
      if (code === "PAIRING_REQUIRED") {
        msg = "This browser is a new device for the gateway and waits for approval: approve it from an operator client (device.pair.approve), then reload.";
        this.setBanner(msg, "error");
        this.showLogin(msg);
        return;
      }
      if (/MISSING|AUTH_REQUIRED/.test(code)) msg = "This gateway needs its token (or password).";
      else if (/MISMATCH|UNAUTHORIZED/.test(code)) {
        msg = "The gateway refused that token. Check gateway.auth.token, or run `openclaw dashboard` again.";
        forgetAuth();
      } else msg = `The gateway refused the connection: ${info?.message || code}`;
      this.setBanner(msg, "error");
      this.showLogin(msg);
    }
  }

  async onHello(hello) {
    const d = hello.snapshot?.sessionDefaults || {};
    const gw = this.gw;
    try {
      const list = await gw.request("agents.list", {});
      this.agents = list.agents || [];
      this.agentId = this.agentId || localStorage.getItem("openclaw.agent") || list.defaultId || d.defaultAgentId || "main";
      if (!this.agents.some((a) => a.id === this.agentId)) this.agentId = list.defaultId || this.agents[0]?.id || "main";
      this.mainKey = list.mainKey || d.mainKey || "main";
    } catch (e) {
      this.agentId = this.agentId || d.defaultAgentId || "main";
      this.mainKey = d.mainKey || "main";
    }
    put(this.agentSelect, this.agents.map((a) => h("option", { value: a.id }, a.identity?.name || a.name || a.id)));
    this.agentSelect.value = this.agentId;
    this.agentSelect.hidden = this.agents.length < 2;
    this.sessionKey = this.sessionKey || sessionStorage.getItem("openclaw.session") || `agent:${this.agentId}:${this.mainKey}`;
    if (gw.has("sessions.subscribe")) gw.request("sessions.subscribe", {}).catch(() => {});
    await this.refreshSessions();
    // A reconnect never touches what is being typed; a fresh page gets its saved draft.
    if (!this.chat.input.value) this.chat.restoreDraft();
    this.views[this.view]?.load();
    if (this.view !== "chat") this.chat.load();
    this.loadApprovals();
    this.checkModels();
  }

  async checkModels() {
    try {
      const r = await this.gw.request("models.list", {});
      const usable = (r.models || []).some((m) => m.available !== false);
      this.chat.setHint(usable ? null : await this.keyForm());
    } catch {
      /* the hint is optional */
    }
  }

  /** The "no model key" hint with a form that stores a provider's key the way the config
   *  does (`models.providers.<name>.apiKey`, through `config.patch`); the gateway applies it
   *  live, so the next chat works without a restart. The key goes to the gateway only: the
   *  field is cleared once it is sent, and no message ever repeats it. */
  async keyForm() {
    let providers = [];
    try {
      const all = await this.gw.request("models.list", { view: "all" });
      providers = [...new Set((all.models || []).map((m) => m.provider))];
    } catch {
      /* no list: the field below still takes a name */
    }
    const provider = providers.length
      ? h("select", { id: "key-provider", "aria-label": "Provider" }, providers.map((p) => h("option", { value: p }, p)))
      : h("input", { id: "key-provider", "aria-label": "Provider", placeholder: "provider (e.g. anthropic)", required: true });
    const key = h("input", { type: "password", id: "key-value", "aria-label": "API key", placeholder: "API key", autocomplete: "off", spellcheck: "false", required: true });
    const message = h("span", { class: "key-message", role: "status" });
    const save = h("button", { type: "submit" }, "Save key");
    const form = h(
      "form",
      {
        class: "key-form",
        onsubmit: async (e) => {
          e.preventDefault();
          const name = provider.value.trim();
          const secret = key.value;
          if (!name || !secret) return;
          key.value = "";
          save.disabled = true;
          put(message, "Saving…");
          try {
            const cfg = await this.gw.request("config.get", {});
            const raw = JSON.stringify({ models: { providers: { [name]: { apiKey: secret } } } });
            await this.gw.request("config.patch", { raw, ...(cfg.hash ? { baseHash: cfg.hash } : {}) });
            put(message, `Saved the ${name} key.`);
            toast(`Saved the ${name} key; chat can use it now.`);
            this.checkModels();
          } catch (err) {
            // The gateway's message names the problem, never the key.
            put(message, `Not saved: ${err.message || err}`);
          } finally {
            save.disabled = false;
          }
        },
      },
      provider,
      key,
      save,
      message,
    );
    return h(
      "div",
      null,
      h("p", null, "No model has a key yet, so the agent cannot answer. Add a provider's API key here (stored in the config as models.providers.<name>.apiKey), or set e.g. ANTHROPIC_API_KEY or OPENAI_API_KEY and restart the gateway."),
      form,
    );
  }

  async refreshSessions() {
    clearTimeout(this.sessTimer);
    try {
      const r = await this.gw.request("sessions.list", { limit: 200, agentId: this.agentId || undefined });
      this.sessions = (r.sessions || []).sort((a, b) => (b.updatedAt || 0) - (a.updatedAt || 0));
    } catch {
      /* keep the old list */
    }
    this.chat.renderSessions();
    if (this.view === "sessions") this.views.sessions.render();
  }

  refreshSessionsSoon() {
    clearTimeout(this.sessTimer);
    this.sessTimer = setTimeout(() => this.refreshSessions(), 300);
  }

  openSession(key) {
    if (!key || key === this.sessionKey) return;
    this.chat.saveDraft();
    this.sessionKey = key;
    sessionStorage.setItem("openclaw.session", key);
    this.chat.restoreDraft();
    this.chat.load();
    this.chat.updateRunUi();
  }

  newSession() {
    const key = `agent:${this.agentId}:chat-${Date.now().toString(36)}`;
    this.openSession(key);
    this.show("chat");
    this.chat.input.focus();
  }

  switchAgent(id) {
    this.agentId = id;
    localStorage.setItem("openclaw.agent", id);
    this.openSession(`agent:${id}:${this.mainKey || "main"}`);
    this.refreshSessions();
  }

  show(name) {
    if (!VIEWS.includes(name)) name = "chat";
    this.view = name;
    for (const [k, v] of Object.entries(this.views)) v.el.hidden = k !== name;
    for (const v of VIEWS) document.getElementById(`nav-${v}`)?.setAttribute("aria-current", v === name ? "page" : "false");
    if (location.hash.slice(1) !== name) history.replaceState(null, "", `#${name}`);
    document.title = `${TITLES[name]} · OpenClaw`;
    if (this.gw?.connected) this.views[name].load();
    if (name === "chat") this.chat.input.focus();
  }

  onKey(e) {
    if (e.altKey && !e.ctrlKey && !e.metaKey) {
      const n = Number(e.key);
      if (n >= 1 && n <= VIEWS.length) {
        e.preventDefault();
        this.show(VIEWS[n - 1]);
      } else if (e.key === "n" || e.key === "N") {
        e.preventDefault();
        this.newSession();
      }
      return;
    }
    const typing = /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement?.tagName || "");
    if (e.key === "/" && !typing) {
      e.preventDefault();
      (this.view === "sessions" ? this.views.sessions.search : this.chat.input).focus();
    }
  }

  onEvent(name, p) {
    switch (name) {
      case "chat":
        this.chat.onChat(p);
        break;
      case "agent":
        this.chat.onAgent(p);
        break;
      case "exec.approval.requested":
        this.addApproval(p);
        break;
      case "exec.approval.resolved":
        this.removeApproval(p?.id, p?.decision);
        break;
      case "sessions.changed":
        this.refreshSessionsSoon();
        break;
      case "cron":
        if (this.view === "cron" && !document.hidden) this.views.cron.load();
        break;
      case "health":
        if (this.view === "logs" && !document.hidden) this.views.logs.showHealth(p || {});
        break;
      case "shutdown":
        this.setBanner(p?.restartExpectedMs ? "The gateway is restarting…" : "The gateway is stopping…");
        break;
      default:
        break;
    }
  }

  async loadApprovals() {
    if (!this.gw.has("exec.approval.list")) return;
    try {
      const list = await this.gw.request("exec.approval.list", {});
      const items = Array.isArray(list) ? list : list?.approvals || [];
      for (const a of items) this.addApproval(a);
    } catch {
      /* no approvals scope or none pending */
    }
  }

  addApproval(a) {
    if (!a?.id || this.approvals.has(a.id)) return;
    const r = a.request || {};
    const allowed = r.allowedDecisions || ["allow-once", "allow-always", "deny"];
    const labels = { "allow-once": "Allow once", "allow-always": "Allow always", deny: "Deny" };
    const buttons = allowed.map((d) =>
      h("button", { type: "button", class: d === "deny" ? "danger" : d === "allow-once" ? "primary" : "", dataset: { decision: d }, onclick: () => this.resolveApproval(a.id, d) }, labels[d] || d),
    );
    const card = h(
      "div",
      { class: "card approval", role: "alertdialog", "aria-label": "Command approval", dataset: { approvalId: a.id } },
      h("h3", null, "Run this command?"),
      h("pre", { class: "command" }, r.command || r.commandPreview || "(no command text)"),
      h("p", { class: "muted" }, [r.agentId && `agent ${r.agentId}`, r.sessionKey && shortKey(r.sessionKey), r.cwd && `in ${r.cwd}`, a.expiresAtMs && `expires ${fmtTime(a.expiresAtMs)}`].filter(Boolean).join(" · ")),
      r.warningText ? h("p", { class: "warn" }, r.warningText) : null,
      h("div", { class: "row-actions" }, buttons),
    );
    this.approvals.set(a.id, card);
    this.approvalBox.append(card);
    if (document.hidden) document.title = `(approval) ${document.title.replace(/^\(approval\) /, "")}`;
    buttons[0]?.focus({ preventScroll: true });
  }

  removeApproval(id, decision) {
    const card = this.approvals.get(id);
    if (!card) return;
    this.approvals.delete(id);
    card.remove();
    if (decision) toast(`Command ${decision === "deny" ? "denied" : "allowed"}.`);
    document.title = document.title.replace(/^\(approval\) /, "");
  }

  async resolveApproval(id, decision) {
    const card = this.approvals.get(id);
    card?.querySelectorAll("button").forEach((b) => (b.disabled = true));
    try {
      await this.gw.request("exec.approval.resolve", { id, decision });
      this.removeApproval(id, decision);
    } catch (e) {
      card?.querySelectorAll("button").forEach((b) => (b.disabled = false));
      toast(`Could not answer: ${e.message}`, "error");
    }
  }
}

window.openclaw = new App();
