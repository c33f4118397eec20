// The built-in Control UI in headless Chromium, against the real `openclaw gateway run` and the
// fake model (shared/fake_llm.py): a missing token, a wrong token and a foreign origin each get
// a clear message; the `#token=` hand-over logs in; a chat streams its reply; a tool call asks
// for approval and the card approves it; sessions switch; a gateway restart is survived with
// the composer's draft intact. Screenshots (desktop and phone width) go to $OUT_DIR, and the
// page's first paint and transferred bytes to $OUT_DIR/metrics.json.
//
//   node tests/control_ui/browser.mjs     (run by tests/control_ui_browser.sh, which sets the env)
//
// Env: OPENCLAW_BIN, FAKE_LLM, OUT_DIR, CHROMIUM (default /usr/bin/chromium), PLAYWRIGHT_CORE
// (the playwright-core package directory).

import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync, mkdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const require = createRequire(import.meta.url);
const { chromium } = require(process.env.PLAYWRIGHT_CORE || "playwright-core");

const BIN = process.env.OPENCLAW_BIN;
const FAKE = process.env.FAKE_LLM;
const OUT = process.env.OUT_DIR || mkdtempSync(path.join(os.tmpdir(), "ui-shots-"));
const TOKEN = `ui-test-token-${Math.random().toString(36).slice(2)}`;
mkdirSync(OUT, { recursive: true });

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

async function waitPort(port, ms = 15000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise((r) => {
      const c = net.connect(port, "127.0.0.1", () => { c.end(); r(true); });
      c.on("error", () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`port ${port} did not open`);
}

const children = [];
function start(cmd, args, env) {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  child.log = () => log;
  children.push(child);
  return child;
}
function stop(child) {
  return new Promise((r) => {
    if (child.exitCode !== null) return r();
    child.once("exit", r);
    child.kill("SIGTERM");
  });
}

let step = "setup";
function check(cond, what) {
  if (!cond) throw new Error(`${step}: ${what}`);
}

const fakePort = await freePort();
const port = await freePort();
const state = mkdtempSync(path.join(os.tmpdir(), "ui-state-"));
writeFileSync(
  path.join(state, "openclaw.json"),
  JSON.stringify({
    gateway: { port, auth: { mode: "token", token: TOKEN }, controlUi: { allowedOrigins: ["https://ui.test"] } },
    agents: { list: [{ id: "main", default: true }, { id: "helper", name: "Helper" }] },
    models: { providers: { fake: { baseUrl: `http://127.0.0.1:${fakePort}/v1`, apiKey: "sk-fake", api: "openai-completions", models: [{ id: "fake-model", name: "Fake Model", contextWindow: 128000, input: ["text", "image"] }] } } },
  }),
);
const env = { OPENCLAW_STATE_DIR: state, HOME: state, OPENCLAW_CONFIG_PATH: path.join(state, "openclaw.json") };
start("python3", [FAKE, String(fakePort)]);
await waitPort(fakePort);
let gw = start(BIN, ["gateway", "run"], env);
await waitPort(port);

const base = `http://127.0.0.1:${port}/`;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", `--host-resolver-rules=MAP ui.test 127.0.0.1`],
});
const metrics = {};
try {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  const consoleErrors = [];
  page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
  page.on("pageerror", (e) => consoleErrors.push(String(e)));

  step = "no token";
  await page.goto(base);
  await page.locator("#login").waitFor({ state: "visible" });
  check((await page.locator("#login-message").innerText()).includes("needs its token"), "the login form says a token is needed");
  await page.screenshot({ path: path.join(OUT, "login-desktop.png") });

  step = "wrong token";
  await page.goto(`${base}#token=wrong-token`);
  await page.locator("#login-message", { hasText: "refused that token" }).waitFor();
  check(!page.url().includes("wrong-token"), "the token is taken out of the address bar");

  step = "foreign origin";
  const foreign = await ctx.newPage();
  await foreign.goto(`http://ui.test:${port}/#token=${TOKEN}`);
  await foreign.locator("#banner", { hasText: "not allowed" }).waitFor();
  check((await foreign.locator("#banner").innerText()).includes("gateway.controlUi.allowedOrigins"), "the page says which setting allows it");
  await foreign.close();

  step = "login by fragment";
  const t0 = Date.now();
  await page.goto(`${base}#token=${TOKEN}`);
  await page.reload();
  await page.locator(".dot.connected").waitFor();
  // A fresh load, signed in from sessionStorage, for the paint and size numbers.
  await page.goto("about:blank");
  await page.goto(base);
  await page.locator(".dot.connected").waitFor();
  metrics.connectedMs = Date.now() - t0;
  check(!page.url().includes(TOKEN), "the token is not left in the URL");
  const nav = await page.evaluate(() => {
    const paint = performance.getEntriesByType("paint");
    const res = performance.getEntriesByType("resource").filter((r) => !r.name.startsWith("ws"));
    const navEntry = performance.getEntriesByType("navigation")[0];
    return {
      firstPaintMs: paint.find((p) => p.name === "first-paint")?.startTime,
      firstContentfulPaintMs: paint.find((p) => p.name === "first-contentful-paint")?.startTime,
      domContentLoadedMs: navEntry?.domContentLoadedEventEnd,
      documentTransferBytes: navEntry?.transferSize,
      assetTransferBytes: res.reduce((n, r) => n + (r.transferSize || 0), 0),
      assetDecodedBytes: res.reduce((n, r) => n + (r.decodedBodySize || 0), 0),
      assets: res.map((r) => r.name.replace(/^.*\//, "")),
    };
  });
  Object.assign(metrics, nav);

  step = "device identity";
  // The page signed its connect with a WebCrypto Ed25519 key; on loopback the gateway paired it.
  const paired = await page.evaluate(async () => JSON.stringify(await window.openclaw.gw.request("device.pair.list", {})));
  const deviceId = await page.evaluate(async () => {
    const db = await new Promise((r) => { const o = indexedDB.open("openclaw-control-ui", 1); o.onsuccess = () => r(o.result); });
    const keys = await new Promise((r) => { const q = db.transaction("keys").objectStore("keys").get("device"); q.onsuccess = () => r(q.result); });
    const raw = new Uint8Array(await crypto.subtle.exportKey("raw", keys.publicKey));
    return [...new Uint8Array(await crypto.subtle.digest("SHA-256", raw))].map((b) => b.toString(16).padStart(2, "0")).join("");
  });
  check(/^[0-9a-f]{64}$/.test(deviceId) && paired.includes(deviceId), `the browser's device ${deviceId} is paired: ${paired.slice(0, 300)}`);

  step = "chat streams";
  await page.locator("#composer").fill("stream 30 slow 40");
  await page.keyboard.press("Enter");
  await page.locator(".msg.assistant.streaming .md").waitFor();
  const partial = await page.locator(".msg.assistant.streaming").innerText();
  check(/t0/.test(partial), `a partial reply is shown while streaming (${partial})`);
  await page.locator(".msg.assistant", { hasText: "t29" }).last().waitFor();
  await page.locator(".msg.assistant.streaming").waitFor({ state: "detached" });

  step = "plain reply";
  await page.locator("#composer").fill("hello from the browser");
  await page.locator("#send").click();
  await page.locator(".msg.assistant", { hasText: "echo: hello from the browser" }).waitFor();

  step = "thinking";
  await page.locator("#composer").fill("think then answer");
  await page.keyboard.press("Enter");
  await page.locator(".msg.assistant", { hasText: "echo: think then answer" }).waitFor();
  await page.locator(".msg.assistant details.thinking").last().waitFor();

  step = "image attachment";
  // A 1x1 PNG.
  const png = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==", "base64");
  await page.locator("#attach-input").setInputFiles({ name: "pixel.png", mimeType: "image/png", buffer: png });
  await page.locator("#attachments .chip", { hasText: "pixel.png" }).waitFor();
  await page.locator("#composer").fill("what is in this picture");
  await page.keyboard.press("Enter");
  await page.locator(".msg.assistant", { hasText: "echo: what is in this picture" }).waitFor();
  await page.locator(".msg.user .attachment").last().waitFor();
  check((await page.locator("#attachments .chip").count()) === 0, "the sent attachment leaves the composer");

  step = "approval card";
  await page.locator("#composer").fill('call bash {"command":"echo approved-from-ui"}');
  await page.keyboard.press("Enter");
  const card = page.locator(".approval");
  await card.waitFor();
  check((await card.innerText()).includes("echo approved-from-ui"), "the card shows the command");
  await page.screenshot({ path: path.join(OUT, "approval-desktop.png") });
  await card.locator('button[data-decision="allow-once"]').click();
  await card.waitFor({ state: "detached" });
  await page.locator(".msg.assistant", { hasText: "done: approved-from-ui" }).waitFor();
  const tool = page.locator('details.tool[data-status="completed"]', { hasText: "bash" }).last();
  await tool.waitFor();
  await tool.locator("summary").click();
  check((await tool.innerText()).includes("approved-from-ui"), "the tool cell shows the output");
  await page.screenshot({ path: path.join(OUT, "chat-desktop.png") });

  step = "session switch";
  await page.keyboard.press("Alt+n");
  await page.locator(".empty", { hasText: "No messages yet" }).waitFor();
  await page.locator("#composer").fill("second session");
  await page.keyboard.press("Enter");
  await page.locator(".msg.assistant", { hasText: "echo: second session" }).waitFor();
  await page.locator("#session-select").selectOption("agent:main:main");
  await page.locator(".msg.assistant", { hasText: "echo: hello from the browser" }).waitFor();
  check((await page.locator(".msg", { hasText: "second session" }).count()) === 0, "the other session's messages are gone");
  await page.keyboard.press("Alt+2");
  await page.locator("#session-list .row").nth(1).waitFor();
  await page.locator("#session-search").fill("chat-");
  check((await page.locator("#session-list .row").count()) === 1, "search narrows the list");
  await page.screenshot({ path: path.join(OUT, "sessions-desktop.png") });
  // Rename (a prompt), then delete (a confirm) the second session.
  page.once("dialog", (d) => d.accept("Renamed in the browser"));
  await page.locator("#session-list .row button", { hasText: "Rename" }).click();
  await page.locator("#session-search").fill("");
  await page.locator("#session-list .row", { hasText: "Renamed in the browser" }).waitFor();
  page.once("dialog", (d) => d.accept());
  await page.locator("#session-list .row", { hasText: "Renamed in the browser" }).locator("button", { hasText: "Delete" }).click();
  await page.locator("#session-list .row", { hasText: "Renamed in the browser" }).waitFor({ state: "detached" });
  await page.keyboard.press("Alt+1");

  step = "gateway restart";
  await page.locator("#composer").fill("a draft that must survive");
  await stop(gw);
  await page.locator(".dot.closed, .dot.connecting").first().waitFor();
  gw = start(BIN, ["gateway", "run"], env);
  await waitPort(port);
  await page.locator(".dot.connected").waitFor({ timeout: 20000 });
  check((await page.locator("#composer").inputValue()) === "a draft that must survive", "the draft is kept");
  await page.locator("#composer").fill("after the restart");
  await page.keyboard.press("Enter");
  await page.locator(".msg.assistant", { hasText: "echo: after the restart" }).waitFor();

  step = "idle cost";
  const cdp = await ctx.newCDPSession(page);
  await cdp.send("Performance.enable");
  const before = await cdp.send("Performance.getMetrics");
  await new Promise((r) => setTimeout(r, 5000));
  const after = await cdp.send("Performance.getMetrics");
  const m = (x, n) => x.metrics.find((e) => e.name === n)?.value || 0;
  metrics.idleTaskSecondsPer5s = +(m(after, "TaskDuration") - m(before, "TaskDuration")).toFixed(4);

  step = "other views";
  for (const [key, name] of [["Alt+3", "cron"], ["Alt+4", "config"], ["Alt+5", "logs"]]) {
    await page.keyboard.press(key);
    await page.locator(`#view-${name}`).waitFor();
    await page.waitForTimeout(300);
    await page.screenshot({ path: path.join(OUT, `${name}-desktop.png`) });
  }
  await page.locator("#logs", { hasText: "connect" }).waitFor();

  step = "cron add and run";
  await page.keyboard.press("Alt+3");
  await page.locator('#cron-add input[name="name"]').fill("ui-job");
  await page.locator('#cron-add input[name="schedule"]').fill("every 1h");
  await page.locator('#cron-add textarea[name="message"]').fill("hello from cron");
  await page.locator('#cron-add button[type="submit"]').click();
  const job = page.locator("#cron-list .row", { hasText: "ui-job" });
  await job.waitFor();
  await job.locator("button", { hasText: "Run now" }).click();
  await page.locator(".toast", { hasText: "ui-job" }).waitFor();
  await job.locator("button", { hasText: "History" }).click();
  await page.locator(".runs", { hasText: "Runs of ui-job" }).waitFor();

  step = "config error at the key";
  await page.keyboard.press("Alt+4");
  const editor = page.locator("#config-raw");
  await page.waitForFunction(() => document.getElementById("config-raw").value.includes("port"));
  const raw = await editor.inputValue();
  await editor.fill(raw.replace(/"port":\s*\d+/, '"port":"not-a-port"'));
  await page.locator("#config-save").click();
  await page.locator(".config-error", { hasText: "gateway.port" }).waitFor();
  await page.screenshot({ path: path.join(OUT, "config-error-desktop.png") });
  await page.locator("button", { hasText: "Reload" }).click();
  await page.locator(".config-error").waitFor({ state: "hidden" });

  step = "phone width";
  const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const pp = await phone.newPage();
  await pp.goto(`${base}#token=${TOKEN}`);
  await pp.locator(".dot.connected").waitFor();
  await pp.locator(".msg.assistant").first().waitFor();
  await pp.screenshot({ path: path.join(OUT, "chat-phone.png") });
  const overflow = await pp.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `no horizontal scrolling on a phone (${overflow}px too wide)`);
  await pp.goto(`${base}#sessions`);
  await pp.locator("#session-list .row").first().waitFor();
  await pp.screenshot({ path: path.join(OUT, "sessions-phone.png") });
  await phone.close();

  step = "model key form";
  // A second gateway whose only provider has no key yet: the hint offers the key form, the key
  // is stored in the config (models.providers.fake.apiKey) and the next chat works, with no
  // restart; the key is never on the page, in a frame the page received, or in the log.
  const KEY = `sk-ui-form-${Math.random().toString(36).slice(2)}`;
  const port2 = await freePort();
  const state2 = mkdtempSync(path.join(os.tmpdir(), "ui-state-key-"));
  const cfg2 = path.join(state2, "openclaw.json");
  writeFileSync(cfg2, JSON.stringify({
    gateway: { port: port2, auth: { mode: "token", token: TOKEN } },
    agents: { list: [{ id: "main", default: true }] },
    models: { providers: { fake: { baseUrl: `http://127.0.0.1:${fakePort}/v1`, api: "openai-completions", models: [{ id: "fake-model", name: "Fake Model", contextWindow: 128000 }] } } },
  }));
  const gw2 = start(BIN, ["gateway", "run"], { OPENCLAW_STATE_DIR: state2, HOME: state2, OPENCLAW_CONFIG_PATH: cfg2 });
  await waitPort(port2);
  const kctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const kp = await kctx.newPage();
  const received = [];
  kp.on("websocket", (ws) => ws.on("framereceived", (f) => received.push(String(f.payload))));
  await kp.goto(`http://127.0.0.1:${port2}/#token=${TOKEN}`);
  await kp.locator(".key-form").waitFor();
  await kp.screenshot({ path: path.join(OUT, "key-form-desktop.png") });
  await kp.locator("#key-provider").selectOption("fake");
  await kp.locator("#key-value").fill(KEY);
  await kp.locator(".key-form button[type=submit]").click();
  await kp.locator(".key-form").waitFor({ state: "hidden" });
  check((await kp.locator("#key-value").count()) === 0 || (await kp.locator("#key-value").inputValue()) === "", "the key field is cleared");
  await kp.locator("#composer").fill("hello after the key");
  await kp.keyboard.press("Enter");
  await kp.locator(".msg.assistant", { hasText: "echo: hello after the key" }).waitFor();
  check(readFileSync(cfg2, "utf8").includes(KEY), "the key is stored in the config file");
  check(!(await kp.content()).includes(KEY), "the key is not on the page");
  check(!received.some((f) => f.includes(KEY)), "no frame the page received carries the key");
  await kctx.close();
  await stop(gw2);
  check(!gw2.log().includes(KEY), "the gateway's output does not carry the key");

  step = "console";
  const unexpected = consoleErrors.filter((e) => !/WebSocket|ERR_CONNECTION_REFUSED|Failed to load resource/.test(e));
  check(unexpected.length === 0, `no script errors: ${unexpected.join(" | ")}`);
  writeFileSync(path.join(OUT, "metrics.json"), JSON.stringify(metrics, null, 2));
  console.log(JSON.stringify(metrics));
  console.log(`ok: control UI browser test passed; screenshots in ${OUT}`);
} catch (e) {
  console.error(`FAIL ${e.message}`);
  console.error(`gateway log:\n${gw.log().slice(-3000)}`);
  process.exitCode = 1;
} finally {
  await browser.close();
  for (const c of children) await stop(c);
}
