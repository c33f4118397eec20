// OpenClaw's own Control UI (the `openclaw` npm package's dist/control-ui) served by our gateway
// through `gateway.controlUi.root`, in headless Chromium, with the fake model behind it:
//   - the page and its assets load with no failed request and no script error;
//   - it connects with the `#token=` hand-over and lists the sessions;
//   - a chat typed into its composer streams (`chat` delta events) and the reply is shown;
//   - no error banner or toast is on screen, and every method it called either answered ok or
//     was refused with a clean INVALID_REQUEST (`unknown method` or a params error);
// each method it calls with our answer goes to $OUT_DIR/openclaw-ui-<label>-methods.json, and
// desktop (1280×800) and phone (390×844) screenshots to $OUT_DIR/openclaw-ui-<label>-*.png.
//
// Env: OPENCLAW_BIN, FAKE_LLM, OUT_DIR, CHROMIUM, PLAYWRIGHT_CORE, CONTROL_UI_ROOT, UI_LABEL
// (e.g. 9.6 or 5.6, names the output files).

import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const require = createRequire(import.meta.url);
const { chromium } = require(process.env.PLAYWRIGHT_CORE || "playwright-core");
const OUT = process.env.OUT_DIR || mkdtempSync(path.join(os.tmpdir(), "oc-ui-"));
const LABEL = process.env.UI_LABEL || "9.6";
mkdirSync(OUT, { recursive: true });
const TOKEN = `oc-ui-token-${Math.random().toString(36).slice(2)}`;

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
async function waitPort(port) {
  for (let i = 0; i < 300; i++) {
    const ok = await new Promise((r) => {
      const c = net.connect(port, "127.0.0.1", () => { c.end(); r(true); });
      c.on("error", () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`port ${port} did not open`);
}

const fakePort = await freePort();
const port = await freePort();
const state = mkdtempSync(path.join(os.tmpdir(), "oc-ui-state-"));
writeFileSync(
  path.join(state, "openclaw.json"),
  JSON.stringify({
    gateway: { port, auth: { mode: "token", token: TOKEN }, controlUi: { root: process.env.CONTROL_UI_ROOT } },
    agents: { defaults: { model: { primary: "fake/fake-model" } }, list: [{ id: "main", default: true }] },
    models: { providers: { fake: { baseUrl: `http://127.0.0.1:${fakePort}/v1`, apiKey: "sk-fake", api: "openai-completions", models: [{ id: "fake-model", name: "Fake Model", contextWindow: 128000 }] } } },
  }),
);
const env = { ...process.env, OPENCLAW_STATE_DIR: state, HOME: state, OPENCLAW_CONFIG_PATH: path.join(state, "openclaw.json") };
const fake = spawn("python3", [process.env.FAKE_LLM, String(fakePort)], { stdio: "ignore" });
const gw = spawn(process.env.OPENCLAW_BIN, ["gateway", "run"], { env, stdio: "ignore" });
await waitPort(fakePort);
await waitPort(port);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const calls = {};
const problems = [];
const chatEvents = [];
const frameLog = []; // every frame, when FRAME_LOG names a file to write them to
let step = "load";

/// Visible error banners, toasts and alerts (their text), and any "unknown method" on screen.
async function banners(page) {
  return page.evaluate(() => {
    const seen = new Set();
    const visible = (el) => {
      const r = el.getBoundingClientRect();
      return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== "hidden";
    };
    // Walk open shadow roots too (both UIs are Lit apps).
    const walk = (root, out) => {
      for (const el of root.querySelectorAll("*")) {
        if (el.shadowRoot) walk(el.shadowRoot, out);
        const role = el.getAttribute("role");
        const cls = typeof el.className === "string" ? el.className : "";
        if ((role === "alert" || /\b(callout danger|error-banner|toast--error|toast-error|banner--error|danger)\b/.test(cls)) && visible(el)) {
          const t = el.innerText?.trim();
          if (t) out.add(t.slice(0, 200));
        }
        if (el.children.length === 0 && /unknown method|is not a function|request failed|invalid [\w.]+ params/i.test(el.textContent || "") && visible(el)) {
          out.add(el.textContent.trim().slice(0, 200));
        }
      }
    };
    walk(document, seen);
    return [...seen];
  });
}

/// The page's text, shadow roots included.
async function pageText(page) {
  return page.evaluate(() => {
    const parts = [];
    const walk = (root) => {
      for (const el of root.querySelectorAll("*")) {
        if (el.shadowRoot) walk(el.shadowRoot);
        if (el.children.length === 0 && el.textContent) parts.push(el.textContent);
      }
    };
    walk(document);
    return parts.join("\n");
  });
}

async function waitText(page, re, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (re.test(await pageText(page))) return true;
    await page.waitForTimeout(200);
  }
  return false;
}

try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("pageerror", (e) => problems.push(`${step}: script error: ${e}`));
  page.on("response", (r) => {
    // A session with no workspace icon is a 404, as OpenClaw's gateway answers it.
    const noIcon = r.status() === 404 && r.url().includes("/__openclaw__/workspace-icon/");
    if (r.status() >= 400 && !noIcon && r.url().startsWith(`http://127.0.0.1:${port}/`)) problems.push(`${step}: HTTP ${r.status()} ${r.url()}`);
  });
  page.on("websocket", (ws) => {
    const pending = new Map();
    ws.on("framesent", (f) => {
      if (process.env.FRAME_LOG) frameLog.push(`> ${f.payload}`.slice(0, 3000));
      try {
        const j = JSON.parse(f.payload);
        if (j.type === "req") pending.set(j.id, j.method);
      } catch { /* not JSON */ }
    });
    ws.on("framereceived", (f) => {
      if (process.env.FRAME_LOG) frameLog.push(`< ${f.payload}`.slice(0, 3000));
      try {
        const j = JSON.parse(f.payload);
        if (j.type === "event" && j.event === "chat") chatEvents.push(j.payload?.state);
        if (j.type !== "res" || !pending.has(j.id)) return;
        const m = pending.get(j.id);
        const r = j.ok ? "ok" : `${j.error?.code}: ${j.error?.message}`;
        // The first answer per method is what the UI saw on load; a later failure is kept.
        if (!(m in calls) || r !== "ok") calls[m] = r;
      } catch { /* not JSON */ }
    });
  });
  await page.goto(`http://127.0.0.1:${port}/#token=${TOKEN}`);
  // The first history page is the last thing either UI asks for on load (a loaded machine
  // can take a while), then its follow-up calls settle.
  for (let i = 0; i < 100 && !("chat.history" in calls || "chat.startup" in calls); i++) await page.waitForTimeout(200);
  await page.waitForTimeout(3000);
  for (const m of ["connect", "agents.list", "chat.history" in calls ? "chat.history" : "chat.startup"]) {
    if (calls[m] !== "ok") problems.push(`load: ${m}: ${calls[m] ?? "not called"}`);
  }
  if (!Object.keys(calls).some((m) => m === "sessions.list" || m === "sessions.subscribe")) problems.push("load: the sessions were not listed");
  else if (calls["sessions.list"] && calls["sessions.list"] !== "ok") problems.push(`load: sessions.list: ${calls["sessions.list"]}`);

  step = "chat";
  const prompt = "hello from the OpenClaw UI stream 6 slow 60";
  const composer = page.locator("textarea, [contenteditable=true]").last();
  await composer.click();
  await composer.fill(prompt);
  await page.keyboard.press("Enter");
  const shown = await waitText(page, /t0 t1 t2 t3 t4 t5/, 20000);
  if (calls["chat.send"] !== "ok") problems.push(`chat: chat.send: ${calls["chat.send"] ?? "not called"}`);
  if (!shown) problems.push("chat: the streamed reply \"t0 … t5\" is not on the page");
  if (!chatEvents.includes("delta")) problems.push("chat: no streamed chat delta reached the page");
  if (!chatEvents.includes("final")) problems.push("chat: no final chat event reached the page");
  // Once the reply is final the UI must not still offer to stop a run (a stale hasActiveRun).
  const stop = page.locator('[aria-label*="Stop generating" i], [aria-label="Stop" i]');
  let stopShown = true;
  for (let i = 0; i < 25 && stopShown; i++) {
    stopShown = (await stop.count()) > 0 && (await stop.first().isVisible());
    if (stopShown) await page.waitForTimeout(200);
  }
  if (stopShown) problems.push("chat: the run still shows as active (a Stop button) after its final reply");
  await page.waitForTimeout(1000);
  await page.screenshot({ path: path.join(OUT, `openclaw-ui-${LABEL}-desktop.png`) });
  for (const b of await banners(page)) problems.push(`desktop: error banner on screen: ${b}`);

  step = "phone";
  await page.setViewportSize({ width: 390, height: 844 });
  await page.waitForTimeout(1000);
  await page.screenshot({ path: path.join(OUT, `openclaw-ui-${LABEL}-phone.png`) });
  for (const b of await banners(page)) problems.push(`phone: error banner on screen: ${b}`);

  for (const [m, r] of Object.entries(calls)) {
    if (r !== "ok" && !r.startsWith("INVALID_REQUEST")) problems.push(`${m} failed uncleanly: ${r}`);
  }
  writeFileSync(path.join(OUT, `openclaw-ui-${LABEL}-methods.json`), JSON.stringify(calls, null, 2));
  const ok = Object.values(calls).filter((r) => r === "ok").length;
  console.log(`OpenClaw Control UI ${LABEL}: methods called: ${Object.keys(calls).length}, answered ok: ${ok}; table in ${OUT}/openclaw-ui-${LABEL}-methods.json`);
  if (problems.length) {
    console.error(`FAIL\n${[...new Set(problems)].join("\n")}`);
    process.exitCode = 1;
  } else console.log(`ok: OpenClaw's Control UI ${LABEL} loads, lists sessions and chats with a streamed reply against our gateway, no error banner`);
} finally {
  if (process.env.FRAME_LOG) writeFileSync(process.env.FRAME_LOG, frameLog.join("\n"));
  await browser.close();
  gw.kill("SIGTERM");
  fake.kill("SIGTERM");
}
