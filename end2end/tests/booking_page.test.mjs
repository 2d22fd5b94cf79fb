import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { launchBrowser, startServer, timesInHtml, timesOn } from "../support.mjs";

let server;
let browser;

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("choosing another day updates the times through a server function, without a page load", { timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(`${server.base}/book/demo`);

  await page.waitForSelector('main[data-hydrated="true"]', { timeout: 30_000 });
  const initial = await timesOn(page);
  assert.ok(initial.length > 0, "the first day shows bookable times");

  // A marker on the window survives client-side navigation and is lost on a page load.
  await page.evaluate(() => {
    window.__sameDocument = true;
  });
  const target = page.locator("[data-testid=days] a:not([aria-current])", { hasNotText: "no times" }).first();
  const date = await target.getAttribute("data-date");
  const serverCall = page.waitForRequest((r) => r.method() === "POST" && r.url().endsWith("/api/day_availability"));
  await target.click();
  await serverCall;
  await page.waitForSelector(`[data-testid=days] a[aria-current][data-date="${date}"]`);
  await page.waitForFunction(
    (d) => [...document.querySelectorAll("[data-testid=times] time")].every((t) => t.dateTime.startsWith(d)),
    date,
  );

  const updated = await timesOn(page);
  assert.ok(updated.length > 0, `${date} shows bookable times`);
  assert.notDeepEqual(updated, initial);
  assert.equal(await page.evaluate(() => window.__sameDocument), true, "the page was reloaded");
  assert.equal(new URL(page.url()).searchParams.get("date"), date, "the URL names the chosen day");

  // The times shown after the client-side update are exactly what the server renders for that day.
  const direct = await fetch(`${server.base}/book/demo?date=${date}`).then((r) => r.text());
  assert.deepEqual(updated.map((t) => t.datetime), timesInHtml(direct));
  assert.deepEqual(pageErrors, []);
  await page.close();
});

test("the page lists times and changes day without JavaScript", { timeout: 60_000 }, async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  const response = await page.goto(`${server.base}/book/demo`);
  assert.equal(response.status(), 200);
  assert.ok((await timesOn(page)).length > 0, "times are in the server-rendered HTML");
  assert.equal(await page.getAttribute("main", "data-hydrated"), "false");

  const target = page.locator("[data-testid=days] a:not([aria-current])", { hasNotText: "no times" }).first();
  const date = await target.getAttribute("data-date");
  await Promise.all([page.waitForURL(`**/book/demo?date=${date}`), target.click()]);
  const times = await timesOn(page);
  assert.ok(times.length > 0 && times.every((t) => t.datetime.startsWith(date)), `times of ${date}`);
  await context.close();
});

test("an unknown clinic shows a friendly message with status 404", { timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  const response = await page.goto(`${server.base}/book/no-such-clinic`);
  assert.equal(response.status(), 404);
  await page.waitForSelector('main[data-hydrated="true"]', { timeout: 30_000 });
  assert.match(await page.textContent("[role=alert]"), /could not find this clinic/);
  await page.close();
});
