// The Control UI's other views: sessions (search, rename, reset, delete), cron jobs (list,
// add, run, history), config (view and edit, errors shown at the key's line), health and logs.
// Each loads when shown; none polls (logs refresh on demand or on the `health` tick while the
// view is visible and the tab is not hidden).

import { h, put, fmtTime, fmtAgo, toast } from "./dom.js?v=@@v:dom.js@@";
import { shortKey } from "./chat.js?v=@@v:chat.js@@";

function errorBox(e) {
  return h("p", { class: "empty error", role: "alert" }, e.message || String(e));
}

export class SessionsView {
  constructor(app) {
    this.app = app;
    this.search = h("input", { type: "search", id: "session-search", placeholder: "Search sessions (/)", "aria-label": "Search sessions", oninput: () => this.render() });
    this.list = h("ul", { class: "list", id: "session-list" });
    this.el = h("section", { class: "view", id: "view-sessions", "aria-label": "Sessions" }, h("div", { class: "toolbar" }, this.search, h("button", { type: "button", onclick: () => app.refreshSessions() }, "Refresh")), this.list);
  }

  load() {
    this.app.refreshSessions();
  }

  render() {
    const q = this.search.value.trim().toLowerCase();
    const rows = this.app.sessions.filter((s) => !q || [s.key, s.label, s.displayName, s.derivedTitle, s.lastMessagePreview].some((v) => v && String(v).toLowerCase().includes(q)));
    if (!rows.length) {
      put(this.list, h("li", { class: "empty" }, q ? "No session matches." : "No sessions yet."));
      return;
    }
    put(this.list, rows.map((s) => this.row(s)));
  }

  row(s) {
    const gw = this.app.gw;
    const act = async (what, f) => {
      try {
        await f();
        toast(what);
      } catch (e) {
        toast(e.message, "error");
      }
      this.app.refreshSessions();
    };
    return h(
      "li",
      { class: "row", dataset: { key: s.key } },
      h(
        "div",
        { class: "row-main" },
        h("a", { href: "#chat", onclick: (e) => { e.preventDefault(); this.app.openSession(s.key); this.app.show("chat"); } }, s.label || s.derivedTitle || shortKey(s.key)),
        h("small", null, `${s.key} · ${s.model || "default model"} · ${fmtAgo(s.updatedAt)}${s.hasActiveRun ? " · running" : ""}`),
      ),
      h(
        "div",
        { class: "row-actions" },
        h("button", { type: "button", onclick: () => {
          const label = prompt("New name for this session (empty clears it):", s.label || "");
          if (label !== null) act("Renamed.", () => gw.request("sessions.patch", { key: s.key, label: label.trim() || null }));
        } }, "Rename"),
        h("button", { type: "button", onclick: () => confirm(`Start ${shortKey(s.key)} afresh? Its transcript is kept on disk.`) && act("Reset.", () => gw.request("sessions.reset", { key: s.key, reason: "reset" })) }, "Reset"),
        h("button", { type: "button", class: "danger", disabled: s.isMain || undefined, title: s.isMain ? "The main session cannot be deleted" : null, onclick: () => confirm(`Delete ${shortKey(s.key)}?`) && act("Deleted.", () => gw.request("sessions.delete", { key: s.key })) }, "Delete"),
      ),
    );
  }
}

export class CronView {
  constructor(app) {
    this.app = app;
    this.list = h("ul", { class: "list", id: "cron-list" });
    this.runs = h("div", { class: "runs" });
    const f = (name, label, input) => h("label", null, label, input);
    this.form = h(
      "form",
      { class: "card form", id: "cron-add", onsubmit: (e) => { e.preventDefault(); this.add(); } },
      h("h3", null, "Add a job"),
      f("name", "Name", h("input", { name: "name", required: true, placeholder: "morning summary" })),
      f("expr", "Schedule (cron expression, or every 10m / 1h)", h("input", { name: "schedule", required: true, placeholder: "0 7 * * *" })),
      f("message", "What the agent should do", h("textarea", { name: "message", required: true, rows: "2" })),
      h("div", { class: "form-error", role: "alert" }),
      h("button", { type: "submit", class: "primary" }, "Add job"),
    );
    this.el = h("section", { class: "view", id: "view-cron", "aria-label": "Cron jobs" }, h("div", { class: "toolbar" }, h("h2", null, "Cron jobs"), h("button", { type: "button", onclick: () => this.load() }, "Refresh")), this.list, this.runs, this.form);
  }

  async load() {
    try {
      const res = await this.app.gw.request("cron.list", { includeDisabled: true, limit: 200 });
      const jobs = res.jobs || [];
      put(this.list, jobs.length ? jobs.map((j) => this.row(j)) : h("li", { class: "empty" }, "No jobs. Add one below."));
    } catch (e) {
      put(this.list, errorBox(e));
    }
  }

  row(j) {
    const s = j.schedule || {};
    const when = s.kind === "cron" ? s.expr : s.kind === "every" ? `every ${Math.round((s.everyMs || 0) / 60000)} min` : s.at || s.kind;
    const st = j.state || {};
    return h(
      "li",
      { class: "row" },
      h("div", { class: "row-main" }, h("strong", null, j.name || j.id), h("small", null, `${when} · ${j.enabled ? "on" : "off"} · next ${fmtTime(st.nextRunAtMs) || "—"} · last ${st.lastRunStatus || "—"}`)),
      h(
        "div",
        { class: "row-actions" },
        h("button", { type: "button", onclick: () => this.run(j) }, "Run now"),
        h("button", { type: "button", onclick: () => this.history(j) }, "History"),
        h("button", { type: "button", class: "danger", onclick: () => confirm(`Remove ${j.name}?`) && this.app.gw.request("cron.remove", { id: j.id }).then(() => this.load(), (e) => toast(e.message, "error")) }, "Remove"),
      ),
    );
  }

  async run(j) {
    try {
      const r = await this.app.gw.request("cron.run", { id: j.id, mode: "force" });
      toast(r.enqueued ? `${j.name}: started.` : `${j.name}: not run (${r.reason || "?"}).`);
    } catch (e) {
      toast(e.message, "error");
    }
  }

  async history(j) {
    try {
      const r = await this.app.gw.request("cron.runs", { id: j.id, limit: 20 });
      const rows = (r.entries || []).map((e) => h("li", null, `${fmtTime(e.ts)} · ${e.status || e.action} · ${e.durationMs ?? "?"} ms${e.summary ? ` · ${e.summary}` : ""}${e.error ? ` · ${e.error}` : ""}`));
      put(this.runs, h("div", { class: "card" }, h("h3", null, `Runs of ${j.name}`), rows.length ? h("ul", null, rows) : h("p", null, "No runs yet.")));
    } catch (e) {
      put(this.runs, errorBox(e));
    }
  }

  async add() {
    const data = new FormData(this.form);
    const spec = String(data.get("schedule") || "").trim();
    const every = /^every\s+(\d+)\s*(s|m|h|d)$/i.exec(spec);
    const unit = { s: 1000, m: 60000, h: 3600000, d: 86400000 };
    const schedule = every ? { kind: "every", everyMs: Number(every[1]) * unit[every[2].toLowerCase()] } : { kind: "cron", expr: spec };
    const err = this.form.querySelector(".form-error");
    err.textContent = "";
    try {
      await this.app.gw.request("cron.add", {
        name: String(data.get("name")).trim(),
        schedule,
        sessionTarget: "isolated",
        wakeMode: "now",
        payload: { kind: "agentTurn", message: String(data.get("message")) },
        enabled: true,
        agentId: this.app.agentId || undefined,
      });
      this.form.reset();
      toast("Job added.");
      this.load();
    } catch (e) {
      err.textContent = e.message;
    }
  }
}

export class ConfigView {
  constructor(app) {
    this.app = app;
    this.hash = null;
    this.editor = h("textarea", { id: "config-raw", class: "code", spellcheck: "false", rows: "24", "aria-label": "openclaw.json" });
    this.gutter = h("div", { class: "config-error", role: "alert", hidden: true });
    this.info = h("p", { class: "muted" });
    this.el = h(
      "section",
      { class: "view", id: "view-config", "aria-label": "Config" },
      h("div", { class: "toolbar" }, h("h2", null, "Config"), h("button", { type: "button", onclick: () => this.load() }, "Reload"), h("button", { type: "button", class: "primary", id: "config-save", onclick: () => this.save() }, "Save (Ctrl+S)")),
      this.info,
      this.gutter,
      this.editor,
      h("p", { class: "muted" }, "Secrets show as __OPENCLAW_REDACTED__; leave them as they are to keep them. A model key goes under models.providers.<name>.apiKey (or set the provider's environment variable, e.g. ANTHROPIC_API_KEY, before starting the gateway)."),
    );
    this.editor.addEventListener("keydown", (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key === "s") {
        e.preventDefault();
        this.save();
      }
    });
  }

  async load() {
    try {
      const c = await this.app.gw.request("config.get", {});
      this.hash = c.hash || null;
      this.editor.value = c.raw ?? JSON.stringify(c.parsed ?? c.config ?? {}, null, 2);
      this.info.textContent = `${c.path || "openclaw.json"}${c.valid === false ? " — the file on disk is invalid; fix it below" : ""}`;
      const issue = (c.issues || [])[0];
      this.showError(issue ? issue.message || JSON.stringify(issue) : null);
    } catch (e) {
      this.info.textContent = e.message;
    }
  }

  /** Shows `message` and, when it names a line, selects that line in the editor. */
  showError(message) {
    if (!message) {
      this.gutter.hidden = true;
      return;
    }
    const pos = /:(\d+):(\d+): (?:invalid value for `([^`]+)`: )?(.*)$/s.exec(message);
    const line = pos ? Number(pos[1]) : 0;
    put(this.gutter, pos ? h("span", null, h("strong", null, pos[3] || `line ${line}`), ` (line ${line}, column ${pos[2]}): ${pos[4]}`) : message);
    this.gutter.hidden = false;
    if (line > 0) {
      const lines = this.editor.value.split("\n");
      const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
      this.editor.focus();
      this.editor.setSelectionRange(start, start + (lines[line - 1] || "").length);
      const lh = parseFloat(getComputedStyle(this.editor).lineHeight) || 18;
      this.editor.scrollTop = Math.max(0, (line - 3) * lh);
    }
  }

  async save() {
    try {
      const r = await this.app.gw.request("config.set", { raw: this.editor.value, ...(this.hash ? { baseHash: this.hash } : {}) });
      this.showError(null);
      const restart = r?.restartRequired?.length ? ` Restart the gateway for: ${r.restartRequired.join(", ")}.` : "";
      toast(`Saved.${restart}`);
      this.load();
      this.app.checkModels();
    } catch (e) {
      this.showError(e.message);
    }
  }
}

export class LogsView {
  constructor(app) {
    this.app = app;
    this.cursor = undefined;
    this.health = h("div", { class: "card", id: "health" });
    this.out = h("pre", { class: "logs", id: "logs", tabindex: "0" });
    this.el = h("section", { class: "view", id: "view-logs", "aria-label": "Health and logs" }, h("div", { class: "toolbar" }, h("h2", null, "Health"), h("button", { type: "button", onclick: () => this.load() }, "Refresh")), this.health, h("h2", null, "Gateway log"), this.out);
  }

  async load() {
    const gw = this.app.gw;
    try {
      const hl = await gw.request("health", {});
      this.showHealth(hl);
    } catch (e) {
      put(this.health, errorBox(e));
    }
    try {
      const r = await gw.request("logs.tail", { limit: 300, ...(this.cursor !== undefined ? { cursor: this.cursor } : {}) });
      if (r.reset || this.cursor === undefined) this.out.textContent = "";
      this.cursor = r.cursor;
      if (r.lines?.length) {
        this.out.textContent += `${r.lines.join("\n")}\n`;
        this.out.scrollTop = this.out.scrollHeight;
      }
    } catch (e) {
      this.out.textContent = e.message;
    }
  }

  showHealth(hl) {
    const agents = (hl.agents || []).map((a) => h("li", null, `${a.agentId}${a.isDefault ? " (default)" : ""}: ${a.sessions?.count ?? 0} sessions, heartbeat ${a.heartbeat?.every || "off"}`));
    put(this.health, h("p", null, h("strong", null, hl.ok ? "Healthy" : "Unhealthy"), ` · checked ${fmtTime(hl.ts)}`), h("ul", null, agents));
  }
}
