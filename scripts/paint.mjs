// How soon the booking page shows and works in headless Chromium on loopback, against the
// release server on SQLite: first contentful paint, and the moment the islands have hydrated
// (the page's `data-hydrated` marker turns true), both from the start of navigation. Each
// cold load runs in a fresh browser context (empty cache, no connection kept); each warm load
// repeats the page in the context of a cold one, with the content-named assets cached.
import { chromium } from "playwright-core";
import { demoServer } from "./release-server.mjs";

const LOADS = Number(process.env.PAINT_LOADS || 21);

const server = await demoServer("paint");
const base = server.base;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
});

// Notes when the marker turns true, however early: set before any script of the page runs.
const watch = () => {
  new MutationObserver((_, observer) => {
    if (document.querySelector('[data-hydrated="true"]')) {
      window.__hydratedAt = performance.now();
      observer.disconnect();
    }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-hydrated"], childList: true });
};

async function load(page) {
  await page.goto(`${base}/book/demo`, { waitUntil: "load" });
  await page.waitForFunction(() => window.__hydratedAt !== undefined && performance.getEntriesByName("first-contentful-paint").length > 0, null, { timeout: 10_000 });
  return page.evaluate(() => ({
    fcp: performance.getEntriesByName("first-contentful-paint")[0].startTime,
    hydrated: window.__hydratedAt,
    bytes: performance.getEntriesByType("resource").reduce((sum, r) => sum + r.transferSize, performance.getEntriesByType("navigation")[0].transferSize),
  }));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p90 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * 0.9) - 1)];
try {
  const cold = [];
  const warm = [];
  // One load first that is not counted: the server's first requests warm its caches.
  for (let i = 0; i <= LOADS; i++) {
    const context = await browser.newContext();
    await context.addInitScript(watch);
    const page = await context.newPage();
    const first = await load(page);
    const again = await load(page);
    if (i > 0) {
      cold.push(first);
      warm.push(again);
    }
    await context.close();
  }
  const ms = (x) => `${x.toFixed(0)} ms`.padStart(8);
  console.log(`booking page in headless Chromium on loopback, ${LOADS} loads each (median / p90):`);
  console.log(`${"".padEnd(28)}${"first paint".padStart(20)}${"islands hydrated".padStart(22)}${"transferred".padStart(14)}`);
  for (const [name, runs] of [["cold cache", cold], ["warm cache (same context)", warm]]) {
    const fcp = runs.map((r) => r.fcp);
    const hyd = runs.map((r) => r.hydrated);
    const kib = `${(median(runs.map((r) => r.bytes)) / 1024).toFixed(1)} KiB`;
    console.log(`${name.padEnd(28)}${`${ms(median(fcp))} /${ms(p90(fcp))}`.padStart(20)}${`${ms(median(hyd))} /${ms(p90(hyd))}`.padStart(22)}${kib.padStart(14)}`);
  }
} finally {
  await browser.close();
  await server.stop();
}
