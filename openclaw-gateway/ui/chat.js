// The chat view: the session's transcript (chat.history), the composer (chat.send, with image
// attachments picked, dropped or pasted), the streamed reply (`chat` deltas, `agent` tool
// items), thinking, tool cells and abort.
// The composer's text is never touched by a reconnect, and is kept per session in
// sessionStorage so a reload does not lose it either.

import { h, put, markdown, textOf, fmtTime, toast } from "./dom.js?v=@@v:dom.js@@";
import { uuid } from "./gateway.js?v=@@v:gateway.js@@";

export class ChatView {
  constructor(app) {
    this.app = app;
    this.runs = new Map(); // runId -> {el, text, tools: Map}
    this.loadSeq = 0;
    this.log = h("div", { class: "transcript", id: "transcript", role: "log", "aria-live": "polite", tabindex: "0" });
    this.hint = h("div", { class: "hint", hidden: true });
    this.sessionSelect = h("select", { id: "session-select", "aria-label": "Session", onchange: () => app.openSession(this.sessionSelect.value) });
    this.input = h("textarea", {
      id: "composer",
      rows: "2",
      placeholder: "Message the agent (Enter sends, Shift+Enter for a new line, Esc stops)",
      "aria-label": "Message",
      oninput: () => this.saveDraft(),
      onkeydown: (e) => this.onKey(e),
    });
    this.attachments = []; // {fileName, mimeType, content (base64), url}
    this.chips = h("div", { class: "chips", id: "attachments" });
    this.fileInput = h("input", { type: "file", accept: "image/*", multiple: true, hidden: true, id: "attach-input", onchange: () => { this.addFiles(this.fileInput.files); this.fileInput.value = ""; } });
    this.attachBtn = h("button", { type: "button", id: "attach", title: "Attach images (or paste or drop them)", onclick: () => this.fileInput.click() }, "Attach");
    this.input.addEventListener("paste", (e) => {
      const files = [...(e.clipboardData?.files || [])].filter((f) => f.type.startsWith("image/"));
      if (files.length) {
        e.preventDefault();
        this.addFiles(files);
      }
    });
    this.input.addEventListener("dragover", (e) => e.preventDefault());
    this.input.addEventListener("drop", (e) => {
      if (e.dataTransfer?.files?.length) {
        e.preventDefault();
        this.addFiles(e.dataTransfer.files);
      }
    });
    this.sendBtn = h("button", { type: "submit", class: "primary", id: "send" }, "Send");
    this.abortBtn = h("button", { type: "button", id: "abort", class: "danger", hidden: true, onclick: () => this.abort() }, "Stop");
    this.status = h("span", { class: "run-status", "aria-live": "polite" });
    this.form = h(
      "form",
      { class: "composer", onsubmit: (e) => { e.preventDefault(); this.send(); } },
      this.chips,
      this.input,
      h("div", { class: "composer-actions" }, this.status, this.fileInput, this.attachBtn, this.abortBtn, this.sendBtn),
    );
    this.el = h(
      "section",
      { class: "view chat", id: "view-chat", "aria-label": "Chat" },
      h(
        "div",
        { class: "toolbar" },
        h("label", { class: "sr-only", for: "session-select" }, "Session"),
        this.sessionSelect,
        h("button", { type: "button", onclick: () => app.newSession(), title: "Start a new session (Alt+N)" }, "New session"),
      ),
      this.hint,
      this.log,
      this.form,
    );
  }

  get key() {
    return this.app.sessionKey;
  }

  draftKey() {
    return `openclaw.draft.${this.key}`;
  }

  saveDraft() {
    try {
      if (this.input.value) sessionStorage.setItem(this.draftKey(), this.input.value);
      else sessionStorage.removeItem(this.draftKey());
    } catch {
      /* storage full or off: the text stays in the box */
    }
  }

  restoreDraft() {
    this.input.value = sessionStorage.getItem(this.draftKey()) || "";
  }

  onKey(e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      this.send();
    } else if (e.key === "Escape" && this.activeRun()) {
      e.preventDefault();
      this.abort();
    }
  }

  renderSessions() {
    const rows = this.app.sessions;
    const opts = rows.map((s) => h("option", { value: s.key }, sessionLabel(s)));
    if (!rows.some((s) => s.key === this.key)) opts.unshift(h("option", { value: this.key }, shortKey(this.key)));
    put(this.sessionSelect, opts);
    this.sessionSelect.value = this.key;
  }

  setHint(node) {
    if (node) put(this.hint, node);
    this.hint.hidden = !node;
  }

  /** Loads the session's history and renders it whole. */
  async load() {
    const seq = ++this.loadSeq;
    this.renderSessions();
    try {
      const res = await this.app.gw.request("chat.history", { sessionKey: this.key, limit: 200 });
      if (seq !== this.loadSeq) return;
      this.render(res.messages || []);
    } catch (e) {
      if (seq !== this.loadSeq) return;
      put(this.log, h("p", { class: "empty error" }, `Could not load this session: ${e.message}`));
    }
  }

  render(messages) {
    const atBottom = this.nearBottom();
    const tools = new Map();
    const out = [];
    for (const m of messages) {
      if (m.role === "toolResult") {
        const cell = tools.get(m.toolCallId);
        if (cell) fillToolResult(cell, m);
        else out.push(toolCell({ name: m.toolName, id: m.toolCallId }, m));
        continue;
      }
      out.push(messageEl(m, tools));
    }
    // Runs still streaming stay at the end.
    for (const run of this.runs.values()) if (run.live && run.sessionKey === this.key) out.push(run.el);
    if (!out.length) out.push(h("p", { class: "empty" }, "No messages yet. Say hello below."));
    put(this.log, out);
    if (atBottom) this.scrollDown();
  }

  nearBottom() {
    return this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 80;
  }

  scrollDown() {
    this.log.scrollTop = this.log.scrollHeight;
  }

  activeRun() {
    for (const [id, r] of this.runs) if (r.live && r.sessionKey === this.key) return id;
    return null;
  }

  updateRunUi() {
    const active = this.activeRun();
    this.abortBtn.hidden = !active;
    this.status.textContent = active ? "The agent is working…" : "";
  }

  /** Reads image files into attachments (at most 16, 6 MB each, as the gateway allows). */
  async addFiles(files) {
    for (const f of [...files]) {
      if (!f.type.startsWith("image/")) {
        toast(`${f.name}: only images can be attached`, "error");
        continue;
      }
      if (f.size > 6 * 1024 * 1024) {
        toast(`${f.name}: larger than 6 MB`, "error");
        continue;
      }
      if (this.attachments.length >= 16) {
        toast("At most 16 attachments", "error");
        break;
      }
      const bytes = new Uint8Array(await f.arrayBuffer());
      let bin = "";
      for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      this.attachments.push({ fileName: f.name, mimeType: f.type, content: btoa(bin) });
    }
    this.renderChips();
  }

  renderChips() {
    put(
      this.chips,
      this.attachments.map((a, i) =>
        h("span", { class: "chip" }, a.fileName, h("button", { type: "button", class: "chip-x", "aria-label": `Remove ${a.fileName}`, onclick: () => { this.attachments.splice(i, 1); this.renderChips(); } }, "×")),
      ),
    );
  }

  async send() {
    const text = this.input.value.trim();
    if (!text && !this.attachments.length) return;
    if (!this.app.gw.connected) {
      toast("Not connected yet: your message is still in the box and can be sent once the gateway is back.", "error");
      return;
    }
    const runId = uuid();
    const sessionKey = this.key;
    this.log.querySelector(".empty")?.remove();
    const attachments = this.attachments.map((a) => ({ type: "image", mimeType: a.mimeType, fileName: a.fileName, content: a.content }));
    const shown = [{ type: "text", text }, ...attachments.map((a) => ({ type: "image", mimeType: a.mimeType, fileName: a.fileName, data: a.content }))];
    this.log.append(messageEl({ role: "user", content: shown, timestamp: Date.now() }, new Map()));
    const run = this.run(runId, sessionKey);
    this.scrollDown();
    this.input.value = "";
    this.saveDraft();
    const saved = this.attachments;
    this.attachments = [];
    this.renderChips();
    try {
      await this.app.gw.request("chat.send", { sessionKey, message: text, idempotencyKey: runId, deliver: false, ...(attachments.length ? { attachments } : {}) });
    } catch (e) {
      run.live = false;
      run.el.remove();
      this.runs.delete(runId);
      if (!this.input.value) {
        this.input.value = text;
        this.saveDraft();
      }
      if (!this.attachments.length) {
        this.attachments = saved;
        this.renderChips();
      }
      toast(`Not sent: ${e.message}`, "error");
    }
    this.updateRunUi();
  }

  async abort() {
    const runId = this.activeRun();
    try {
      await this.app.gw.request("chat.abort", { sessionKey: this.key, ...(runId ? { runId } : {}) });
    } catch (e) {
      toast(`Could not stop: ${e.message}`, "error");
    }
  }

  /** The live bubble of a run (created on first sight). */
  run(runId, sessionKey) {
    let r = this.runs.get(runId);
    if (!r) {
      const body = h("div", { class: "body" }, h("span", { class: "typing", "aria-label": "waiting for the reply" }, "…"));
      const tools = h("div", { class: "tools" });
      r = {
        sessionKey,
        live: true,
        text: "",
        tools: new Map(),
        body,
        toolBox: tools,
        el: h("article", { class: "msg assistant streaming", dataset: { runId } }, h("header", null, "assistant"), tools, body),
      };
      this.runs.set(runId, r);
      if (sessionKey === this.key) {
        this.log.querySelector(".empty")?.remove();
        this.log.append(r.el);
      }
    }
    return r;
  }

  onChat(p) {
    if (!p?.runId) return;
    if (p.sessionKey && p.sessionKey !== this.key) {
      if (p.state !== "delta") {
        this.runs.delete(p.runId);
        this.app.refreshSessions();
      }
      return;
    }
    const run = this.run(p.runId, p.sessionKey || this.key);
    const bottom = this.nearBottom();
    if (p.state === "delta") {
      const full = p.message ? textOf(p.message.content) : null;
      if (full !== null && full !== "") run.text = full;
      else if (typeof p.deltaText === "string") run.text = p.replace ? p.deltaText : run.text + p.deltaText;
      put(run.body, markdown(run.text));
    } else {
      run.live = false;
      run.el.classList.remove("streaming");
      if (p.state === "error" || p.state === "aborted") {
        const note = p.state === "aborted" ? "Stopped." : `Error: ${p.errorMessage || "the run failed"}`;
        run.el.append(h("p", { class: `note ${p.state}` }, note));
      }
      // The transcript is the truth: tool results, thinking and the final text.
      this.runs.delete(p.runId);
      this.load();
      this.app.refreshSessions();
    }
    if (bottom) this.scrollDown();
    this.updateRunUi();
  }

  onAgent(p) {
    if (!p?.runId || (p.sessionKey && p.sessionKey !== this.key)) return;
    const run = this.run(p.runId, p.sessionKey || this.key);
    const d = p.data || {};
    if (p.stream === "item" && d.kind === "tool") {
      let cell = run.tools.get(d.toolCallId);
      if (!cell) {
        cell = toolCell({ name: d.name, id: d.toolCallId, title: d.title });
        run.tools.set(d.toolCallId, cell);
        run.toolBox.append(cell);
      }
      cell.dataset.status = d.status || (d.phase === "end" ? "completed" : "running");
      const st = cell.querySelector(".tool-status");
      if (st) st.textContent = statusText(d.status, d.phase);
    } else if (p.stream === "lifecycle" && (d.phase === "end" || d.phase === "error")) {
      run.live = false;
    }
    this.updateRunUi();
  }
}

function statusText(status, phase) {
  if (status === "waiting_approval" || status === "awaiting_approval") return "waiting for approval";
  if (status) return status;
  return phase === "end" ? "done" : "running";
}

export function shortKey(key) {
  const m = /^agent:([^:]+):(.*)$/.exec(key || "");
  return m ? `${m[2]} (${m[1]})` : key;
}

export function sessionLabel(s) {
  const name = s.label || s.displayName || s.derivedTitle;
  return name ? `${name} · ${shortKey(s.key)}` : shortKey(s.key);
}

function messageEl(m, tools) {
  const role = m.role === "user" ? "user" : m.role === "assistant" ? "assistant" : "system";
  const parts = [];
  const blocks = Array.isArray(m.content) ? m.content : [{ type: "text", text: String(m.content ?? "") }];
  for (const b of blocks) {
    if (!b) continue;
    if (b.type === "thinking" && b.thinking) {
      parts.push(h("details", { class: "thinking" }, h("summary", null, "Thinking"), h("div", { class: "thinking-text" }, b.thinking)));
    } else if (b.type === "toolCall") {
      const cell = toolCell({ name: b.name, id: b.id, args: b.arguments });
      tools.set(b.id, cell);
      parts.push(cell);
    } else if (b.type === "image") {
      const label = `image${b.fileName ? ` ${b.fileName}` : ""} ${b.mimeType || ""}`.trim();
      const safeMime = /^image\/(png|jpeg|gif|webp)$/.test(b.mimeType || "");
      parts.push(
        b.data && safeMime
          ? h("img", { class: "attachment thumb", src: `data:${b.mimeType};base64,${b.data}`, alt: label })
          : h("p", { class: "note attachment" }, `[${label}]`),
      );
    } else if (b.text) {
      parts.push(role === "user" ? h("div", { class: "plain" }, b.text) : markdown(b.text));
    }
  }
  if (m.errorMessage && (m.stopReason === "error" || m.stopReason === "aborted")) {
    parts.push(h("p", { class: `note ${m.stopReason}` }, m.stopReason === "aborted" ? "Stopped." : `Error: ${m.errorMessage}`));
  }
  return h(
    "article",
    { class: `msg ${role}` },
    h("header", null, role, m.timestamp ? h("time", null, fmtTime(m.timestamp)) : null),
    h("div", { class: "body" }, parts),
  );
}

function toolCell({ name, id, args, title }, result) {
  const summary = title || argSummary(name, args);
  const cell = h(
    "details",
    { class: "tool", dataset: { toolCallId: id || "", status: result ? (result.isError ? "failed" : "completed") : "running" } },
    h("summary", null, h("span", { class: "tool-name" }, name || "tool"), h("span", { class: "tool-args" }, summary), h("span", { class: "tool-status" }, result ? (result.isError ? "failed" : "done") : "")),
    args ? h("pre", { class: "tool-input" }, JSON.stringify(args, null, 2)) : null,
  );
  if (result) fillToolResult(cell, result);
  return cell;
}

function fillToolResult(cell, m) {
  cell.dataset.status = m.isError ? "failed" : "completed";
  const st = cell.querySelector(".tool-status");
  if (st) st.textContent = m.isError ? "failed" : "done";
  const text = textOf(m.content);
  cell.append(h("pre", { class: "tool-output" }, text.length > 20000 ? `${text.slice(0, 20000)}\n… (${text.length} characters)` : text));
}

function argSummary(name, args) {
  if (!args || typeof args !== "object") return "";
  const v = args.command ?? args.path ?? args.pattern ?? args.url ?? Object.values(args)[0];
  const s = typeof v === "string" ? v : JSON.stringify(v ?? "");
  return s.length > 120 ? `${s.slice(0, 117)}…` : s;
}
