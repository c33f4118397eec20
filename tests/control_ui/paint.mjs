// First paint and transferred bytes of a page in headless Chromium, over N cold loads (a new
// browser context each, so nothing is cached): median and range of first-contentful-paint,
// responseEnd of the document, and the bytes on the wire (document plus resources).
//
//   PLAYWRIGHT_CORE=... node tests/control_ui/paint.mjs http://127.0.0.1:18789/ [N=9]
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const { chromium } = require(process.env.PLAYWRIGHT_CORE || "playwright-core");
const url = process.argv[2];
const n = Number(process.argv[3] || 9);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const runs = [];
for (let i = 0; i < n; i++) {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await page.goto(url, { waitUntil: "load" });
  await page.waitForTimeout(300);
  runs.push(await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const fcp = performance.getEntriesByType("paint").find((e) => e.name === "first-contentful-paint");
    const res = performance.getEntriesByType("resource");
    return { fcp: fcp?.startTime ?? NaN, responseEnd: nav.responseEnd, bytes: nav.transferSize + res.reduce((s, r) => s + r.transferSize, 0) };
  }));
  await ctx.close();
}
await browser.close();
const med = (k) => { const v = runs.map((r) => r[k]).sort((a, b) => a - b); return v[Math.floor(v.length / 2)]; };
const range = (k) => `${Math.round(Math.min(...runs.map((r) => r[k])))}–${Math.round(Math.max(...runs.map((r) => r[k])))}`;
console.log(JSON.stringify({ url, runs: n, fcpMedianMs: Math.round(med("fcp")), fcpRangeMs: range("fcp"), responseEndMedianMs: Math.round(med("responseEnd")), bytes: med("bytes") }));
