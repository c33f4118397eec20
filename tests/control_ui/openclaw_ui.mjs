// OpenClaw's own Control UI (the `openclaw` npm package's dist/control-ui) served by our gateway
// through `gateway.controlUi.root`, in headless Chromium: the page and its assets load, the UI
// connects with the `#token=` hand-over, and every method it calls in its first seconds is
// recorded with our answer (ok, or the error) in $OUT_DIR/openclaw-ui-methods.json, with a
// screenshot. It checks what works today: no failed HTTP request, no script error, `connect`,
// `sessions.subscribe`, `config.get`, `agents.list`, `sessions.describe` answered ok, and each
// other method either ok or refused with a clean INVALID_REQUEST.
//
// Env: OPENCLAW_BIN, FAKE_LLM, OUT_DIR, CHROMIUM, PLAYWRIGHT_CORE, CONTROL_UI_ROOT.

import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const require = createRequire(import.meta.url);
const { chromium } = require(process.env.PLAYWRIGHT_CORE || "playwright-core");
const OUT = process.env.OUT_DIR || mkdtempSync(path.join(os.tmpdir(), "oc-ui-"));
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
    agents: { list: [{ id: "main", default: true }] },
    models: { providers: { fake: { baseUrl: `http://127.0.0.1:${fakePort}/v1`, apiKey: "sk-fake", api: "openai-completions", models: [{ id: "fake-model", name: "Fake Model", contextWindow: 128000 }] } } },
  }),
);
const env = { ...process.env, OPENCLAW_STATE_DIR: state, HOME: state, OPENCLAW_CONFIG_PATH: path.join(state, "openclaw.json") };
const fake = spawn("python3", [process.env.FAKE_LLM, String(fakePort)], { stdio: "ignore" });
const gw = spawn(process.env.OPENCLAW_BIN, ["gateway", "run"], { env, stdio: "ignore" });
await waitPort(port);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const calls = {};
const problems = [];
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on("pageerror", (e) => problems.push(`script error: ${e}`));
  page.on("response", (r) => {
    if (r.status() >= 400 && r.url().startsWith(`http://127.0.0.1:${port}/`)) problems.push(`HTTP ${r.status()} ${r.url()}`);
  });
  page.on("websocket", (ws) => {
    const pending = new Map();
    ws.on("framesent", (f) => {
      try {
        const j = JSON.parse(f.payload);
        if (j.type === "req") pending.set(j.id, j.method);
      } catch { /* not JSON */ }
    });
    ws.on("framereceived", (f) => {
      try {
        const j = JSON.parse(f.payload);
        if (j.type !== "res" || !pending.has(j.id)) return;
        const m = pending.get(j.id);
        calls[m] = j.ok ? "ok" : `${j.error?.code}: ${j.error?.message}`;
      } catch { /* not JSON */ }
    });
  });
  await page.goto(`http://127.0.0.1:${port}/#token=${TOKEN}`);
  await page.waitForTimeout(8000);
  await page.screenshot({ path: path.join(OUT, "openclaw-ui-9.6.png") });
  for (const m of ["connect", "sessions.subscribe", "config.get", "agents.list", "sessions.describe"]) {
    if (calls[m] !== "ok") problems.push(`${m}: ${calls[m] ?? "not called"}`);
  }
  for (const [m, r] of Object.entries(calls)) {
    if (r !== "ok" && !r.startsWith("INVALID_REQUEST")) problems.push(`${m} failed uncleanly: ${r}`);
  }
  writeFileSync(path.join(OUT, "openclaw-ui-methods.json"), JSON.stringify(calls, null, 2));
  const ok = Object.values(calls).filter((r) => r === "ok").length;
  console.log(`methods called on load: ${Object.keys(calls).length}, answered ok: ${ok}; table in ${OUT}/openclaw-ui-methods.json`);
  if (problems.length) {
    console.error(`FAIL ${problems.join("\n")}`);
    process.exitCode = 1;
  } else console.log("ok: OpenClaw's Control UI loads and connects against our gateway");
} finally {
  await browser.close();
  gw.kill("SIGTERM");
  fake.kill("SIGTERM");
}
