// `make screenshots`: the patient flow and the clinic console, phone-sized and desktop, into
// docs/screenshots/.
// Uses the release build and a fresh demo database, like the browser tests.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { DEMO_OWNER_PASSWORD, fillPatient, hydrated, launchBrowser, startServer } from "./support.mjs";

const out = resolve(import.meta.dirname, "../docs/screenshots");
mkdirSync(out, { recursive: true });
const server = await startServer();
const browser = await launchBrowser();
const viewports = { phone: { width: 390, height: 844 }, desktop: { width: 1100, height: 900 } };
try {
  for (const [name, viewport] of Object.entries(viewports)) {
    const page = await browser.newPage({ viewport, deviceScaleFactor: 1 });
    const shot = (step) => page.screenshot({ path: join(out, `${step}-${name}.jpg`), type: "jpeg", quality: 70, fullPage: true });
    const date = new Date(server.now().getTime() + 3 * 86_400_000).toISOString().slice(0, 10);
    await page.goto(`${server.base}/book/demo?date=${date}`);
    await hydrated(page);
    await shot("1-pick-a-time");
    await page.locator('[data-testid=times] button[name="slot"]').first().click();
    await page.waitForURL(/\/details\?/);
    await fillPatient(page);
    await shot("2-details");
    await page.getByTestId("confirm").click();
    await page.waitForURL(/done=booked/);
    await shot("3-confirmation");
    await page.getByTestId("reschedule").click();
    await page.waitForURL(/\/reschedule/);
    await hydrated(page);
    await shot("4-reschedule");
    await page.locator('[data-testid=times] a[href*="/reschedule/confirm"]').last().click();
    await page.waitForURL(/\/confirm/);
    await page.getByTestId("confirm-move").click();
    await page.waitForURL(/done=rescheduled/);
    await page.getByTestId("cancel").click();
    await page.waitForURL(/done=cancelled/);
    await shot("5-cancelled");
    await page.goto(`${server.base}/book/demo?lang=de&date=${date}`);
    await hydrated(page);
    await shot("6-german");
    await page.close();
  }
  // A holiday on the next weekday strands some of the demo clinic's appointments: they stay
  // booked and the overview lists them as needing attention.
  {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${server.base}/admin/login`);
    await page.locator("#email").fill("owner@demo.example");
    await page.locator("#password").fill(DEMO_OWNER_PASSWORD);
    await page.getByTestId("sign-in").click();
    await page.waitForURL(`${server.base}/admin`);
    let day = new Date(Date.now() + 86400000);
    while ([0, 6].includes(day.getUTCDay())) day = new Date(day.getTime() + 86400000);
    const date = day.toISOString().slice(0, 10);
    await page.goto(`${server.base}/admin/schedule?change=holiday&date=${date}&name=Staff+training`);
    await page.getByTestId("save-anyway").click();
    await page.waitForURL(/done=saved/);
    await page.goto(`${server.base}/admin/webhooks`);
    await page.locator("#url").fill("https://pms.stadtpark-clinic.example/booking-events");
    await page.locator("#description").fill("Practice management system");
    await page.getByTestId("create-webhook").click();
    await page.getByTestId("issued-secret").waitFor();
    // A colleague invited to the front desk, so that the staff page shows what an owner can
    // change about the others.
    await page.goto(`${server.base}/admin/staff`);
    await page.locator("#email").fill("empfang@stadtpark-clinic.example");
    await page.getByTestId("invite").click();
    await page.getByTestId("invitation").waitFor();
    await context.close();
  }
  // The console: signed in as the demo owner, in English, then in German.
  for (const [name, viewport] of Object.entries(viewports)) {
    for (const lang of ["en", "de"]) {
      const context = await browser.newContext({ viewport, deviceScaleFactor: 1, locale: lang === "de" ? "de-DE" : "en-GB" });
      const page = await context.newPage();
      const shot = (step) => page.screenshot({ path: join(out, `console-${step}-${lang}-${name}.jpg`), type: "jpeg", quality: 70, fullPage: true });
      await page.goto(`${server.base}/admin/login`);
      await shot("1-sign-in");
      await page.locator("#email").fill("owner@demo.example");
      await page.locator("#password").fill(DEMO_OWNER_PASSWORD);
      await page.getByTestId("sign-in").click();
      await page.waitForURL(`${server.base}/admin`);
      // The language is the account's: set it every time, the previous round may have changed it.
      await page.goto(`${server.base}/admin/account`);
      await page.locator("#locale").selectOption(lang);
      await page.getByTestId("save-language").click();
      await page.waitForURL(/done=language/);
      for (const [step, path] of [["2-overview", "/admin"], ["3-settings", "/admin/settings"], ["4-website", "/admin/website"], ["5-integrations", "/admin/integrations"], ["6-staff", "/admin/staff"], ["7-audit", "/admin/audit"], ["8-catalogue", "/admin/catalogue"], ["9-product", "/admin/catalogue/product/1"], ["10-provider", "/admin/catalogue/provider/1"], ["11-schedule", "/admin/schedule"], ["12-hours", "/admin/schedule/1"], ["13-check", "/admin/schedule/1?change=remove&kind=hours&id=1"], ["14-webhooks", "/admin/webhooks"], ["15-webhook", "/admin/webhooks/1"]]) {
        await page.goto(`${server.base}${path}`);
        await hydrated(page);
        await shot(step);
      }
      await context.close();
    }
  }
  // The front desk: walk-ins at Berlin Mitte today, two of them checked in, and the
  // waiting-room display of that location.
  const signIn = async (page) => {
    await page.goto(`${server.base}/admin/login`);
    await page.locator("#email").fill("owner@demo.example");
    await page.locator("#password").fill(DEMO_OWNER_PASSWORD);
    await page.getByTestId("sign-in").click();
    await page.waitForURL(`${server.base}/admin`);
  };
  let display;
  {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await signIn(page);
    await page.goto(`${server.base}/desk?location=1`);
    await page.locator("[data-live][data-refreshed]").waitFor();
    for (const [first, last, column, checkIn] of [["Jana", "Roth", 0, true], ["Ali", "Demir", 1, true], ["Eva", "Lang", 3, false]]) {
      const form = page.getByTestId("walk-in").nth(column);
      await form.locator("summary").click();
      // The owner's language is whichever the console's last round left: fields by name.
      await form.locator('[name="first_name"]').fill(first);
      await form.locator('[name="last_name"]').fill(last);
      await form.getByTestId("book-walk-in").click();
      const card = page.getByTestId("visit").filter({ hasText: `${first} ${last}` });
      await card.waitFor();
      if (checkIn) {
        await card.getByTestId("check-in").click();
        await page.getByTestId("queue-number").waitFor();
      }
    }
    await page.goto(`${server.base}/desk/displays`);
    await page.locator("#display-location").selectOption({ label: "Berlin Mitte" });
    await page.locator("#display-label").fill("Waiting room, ground floor");
    await page.getByTestId("create-display").click();
    display = await page.getByTestId("display-link").inputValue();
    await context.close();
  }
  const deskViewports = { ...viewports, tablet: { width: 820, height: 1180 } };
  for (const [name, viewport] of Object.entries(deskViewports)) {
    for (const lang of ["en", "de"]) {
      const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
      const page = await context.newPage();
      const shot = (step) => page.screenshot({ path: join(out, `desk-${step}-${lang}-${name}.jpg`), type: "jpeg", quality: 70, fullPage: true });
      await signIn(page);
      await page.goto(`${server.base}/admin/account`);
      await page.locator("#locale").selectOption(lang);
      await page.getByTestId("save-language").click();
      await page.waitForURL(/done=language/);
      await page.goto(`${server.base}/desk?location=1`);
      await page.locator("[data-live][data-refreshed]").waitFor();
      await shot("1-day");
      await page.goto(`${server.base}/desk/displays`);
      await hydrated(page);
      await shot("2-displays");
      await page.goto(`${display}&lang=${lang}`);
      await page.locator("[data-live][data-refreshed]").waitFor();
      await shot("3-display");
      // A phone booking: the patients' picker, then the patient found on file.
      await page.goto(`${server.base}/desk/book?location=1`);
      await hydrated(page);
      await shot("4-book");
      await page.getByTestId("times").locator("a").first().click();
      await page.locator("#search-name").fill("Jana Roth");
      await page.getByTestId("search").click();
      await page.getByTestId("match").first().waitFor();
      await page.getByTestId("choose").first().click();
      await page.getByTestId("chosen-name").waitFor();
      await shot("5-patient");
      await context.close();
    }
  }
} finally {
  await browser.close();
  await server.stop();
}
console.log(`screenshots written to ${out}`);
