import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { fillPatient, hydrated, launchBrowser, LINK_SECRET, startHostPage, startServer } from "../support.mjs";

let server;
let browser;
let allowedHost;
let otherHost;

const hostPage = (base) => `<!doctype html><html><head><title>Clinic website</title></head><body>
<h1>Welcome to our clinic</h1>
<script>window.__events = []; for (const t of ["booking:created", "booking:rescheduled", "booking:cancelled"]) document.addEventListener(t, (e) => window.__events.push({ type: t, detail: e.detail }));</script>
<script src="${base}/embed.js" data-clinic="demo" async></script>
</body></html>`;

before(async () => {
  // The host pages need the booking server's address, and the server their origins.
  const pages = { allowed: "", other: "" };
  allowedHost = await startHostPage(() => pages.allowed);
  otherHost = await startHostPage(() => pages.other);
  server = await startServer({ embedOrigins: [allowedHost.origin] });
  pages.allowed = hostPage(server.base);
  pages.other = hostPage(server.base);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await allowedHost?.stop();
  await otherHost?.stop();
});

function watchErrors(page) {
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  return errors;
}

const TIME_BUTTONS = '[data-testid=times] button[name="slot"]';
const timeButtons = (scope) => scope.locator(TIME_BUTTONS);

const HOUR = 3_600_000;
/// The demo clinic's change cutoff: an appointment closer than this can no longer be moved or
/// cancelled by the patient.
const CUTOFF = 24 * HOUR;

/// The Berlin calendar date of an instant, YYYY-MM-DD.
const berlinDate = (at) => at.toLocaleDateString("sv-SE", { timeZone: "Europe/Berlin" });

/// The times a page offers under `selector` (buttons or links, each holding a <time>), with
/// their start instants.
async function offered(scope, selector) {
  const starts = await scope.locator(`${selector} time`).evaluateAll((els) => els.map((e) => e.getAttribute("datetime")));
  return starts.map((start, i) => ({ start: new Date(start), control: scope.locator(selector).nth(i) }));
}

/// The first time button of the shown day that starts at `earliest` or later.
const firstTimeFrom = async (scope, earliest) => (await offered(scope, TIME_BUTTONS)).find((t) => t.start >= earliest);

/// The demo clinic's minimum notice: a time closer than this is no longer offered.
const NOTICE = HOUR;

/// The first time the shown day offers that stays bookable while the test runs (a quarter of
/// an hour past the minimum notice): the page's first time may reach the notice while the
/// test clicks. A day without one gives way to the next free day of the month view, or, on
/// the month's last free day, to the next month.
async function bookableTime(scope) {
  for (let tries = 0; tries < 5; tries++) {
    const time = await firstTimeFrom(scope, new Date(server.now().getTime() + NOTICE + HOUR / 4));
    if (time) return time;
    const shown = await scope.getByTestId("chosen-date").innerText();
    const freeDays = scope.locator("[data-testid=days] a[data-free]:not([aria-current])");
    if ((await freeDays.count()) > 0) await freeDays.first().click();
    else await scope.getByRole("link", { name: /^(Next month|Nächster Monat)$/ }).click();
    await scope.getByTestId("chosen-date").filter({ hasNotText: shown }).waitFor();
  }
  throw new Error("no bookable time on five free days");
}

/// The earliest start that leaves the appointment changeable: outside the cutoff, with an
/// hour to spare for the test's own run time.
const changeableFrom = () => new Date(server.now().getTime() + CUTOFF + HOUR);

/// Opens the booking page on the first day that offers a time outside the change cutoff,
/// and returns that time: the days and times are the page's, the constraint is the test's.
async function openChangeableTime(page) {
  const earliest = changeableFrom();
  for (let ahead = 1; ahead < 30; ahead++) {
    const date = berlinDate(new Date(server.now().getTime() + ahead * 24 * HOUR));
    await page.goto(`${server.base}/book/demo?date=${date}`);
    const time = await firstTimeFrom(page, earliest);
    if (time) return time;
  }
  throw new Error(`no free time after ${earliest.toISOString()} within four weeks`);
}

/// Books a time outside the change cutoff; returns its start.
async function bookChangeableTime(page) {
  const time = await openChangeableTime(page);
  await hydrated(page);
  await time.control.click();
  await page.waitForURL(/\/book\/demo\/details\?/);
  await fillPatient(page);
  await page.getByTestId("confirm").click();
  await page.waitForURL(/\/manage\/[^/?]+\?.*done=booked/);
  return time.start;
}

const referenceOf = async (page) => Number((await page.getByTestId("appointment").innerText()).match(/A-(\d{6})/)[1]);

test("a patient books a slot end to end and sees the confirmation", { timeout: 90_000 }, async () => {
  const page = await browser.newPage();
  const errors = watchErrors(page);
  await page.goto(`${server.base}/book/demo`);
  await hydrated(page);
  const time = await bookableTime(page);
  const chosen = await time.control.getAttribute("value");

  await time.control.click();
  await page.waitForURL(/\/book\/demo\/details\?/);
  await page.getByTestId("held-until").waitFor();
  await hydrated(page);
  await fillPatient(page);
  await page.getByTestId("confirm").click();
  await page.waitForURL(/done=booked/);
  await page.getByText("Your appointment is booked").waitFor();
  const details = await page.getByTestId("appointment").innerText();
  assert.match(details, /Jürgen Müller/);
  const id = await referenceOf(page);
  assert.ok(await page.getByTestId("ics").isVisible(), "add-to-calendar link");

  assert.deepEqual(server.sql(`SELECT status, source, booker_id IS NOT NULL FROM appointments WHERE id = ${id}`), [["booked", "widget", "1"]]);
  const slotStart = Buffer.from(chosen, "base64url").toString().split(":")[4];
  const stored = server.sql(`SELECT starts_at FROM appointments WHERE id = ${id}`)[0][0];
  assert.equal(stored, slotStart, "the chosen time is the booked time");
  assert.deepEqual(errors, []);
});

test("the details form checks each field in the browser and keeps what was typed when the server refuses", { timeout: 90_000 }, async () => {
  const page = await browser.newPage();
  const errors = watchErrors(page);
  await (await openChangeableTime(page)).control.click();
  await page.waitForURL(/\/book\/demo\/details\?/);
  await hydrated(page);
  const details = page.url();

  // Checked as the patient leaves the field, before anything is sent.
  const phone = page.locator('input[name="booker[phone]"]');
  await phone.fill("call me");
  await phone.blur();
  await page.locator("#booker-phone-hint").getByText("check the number").waitFor();
  assert.equal(await phone.getAttribute("aria-invalid"), "true");
  // A national number, as Berliners write it: the browser lets it through, and the server
  // reads it in the location's country when the form is sent.
  await phone.fill("030 1234567");
  await phone.blur();
  await page.waitForFunction(() => document.querySelector("#booker-phone-hint").textContent === "");

  // Only the server knows the attendee's name is incomplete: its refusal names the field
  // and leaves the typed details where they were.
  await fillPatient(page, { first: "Erika", phone: "030 1234567" });
  await page.locator("details summary").click();
  await page.locator('input[name="participant[firstname]"]').fill("Max");
  await page.getByTestId("confirm").click();
  await page.getByTestId("problem").waitFor();
  assert.equal(await page.locator('input[name="participant[lastname]"]').getAttribute("aria-invalid"), "true");
  assert.equal(page.url(), details, "still on the form");
  assert.equal(await page.locator('input[name="booker[firstname]"]').inputValue(), "Erika");
  assert.equal(await page.locator('input[name="participant[firstname]"]').inputValue(), "Max");
  assert.deepEqual(server.sql("SELECT count(*) FROM patients WHERE first_name = 'Erika'"), [["0"]], "nothing was written");

  // Completed, the same form books for the attendee.
  await page.locator('input[name="participant[lastname]"]').fill("Mustermann");
  await page.locator('input[name="participant[dob]"]').fill("2016-03-01");
  await page.getByTestId("confirm").click();
  await page.waitForURL(/done=booked/);
  assert.match(await page.getByTestId("appointment").innerText(), /Max Mustermann/);
  assert.deepEqual(server.sql("SELECT phone FROM patients WHERE first_name = 'Erika'"), [["+49301234567"]], "stored in E.164");
  assert.deepEqual(errors, []);
});

test("the manage link reschedules, then cancels", { timeout: 90_000 }, async () => {
  const page = await browser.newPage();
  const errors = watchErrors(page);
  const bookedAt = await bookChangeableTime(page);
  const id = await referenceOf(page);
  const before = server.sql(`SELECT starts_at FROM appointments WHERE id = ${id}`)[0][0];

  await page.getByTestId("reschedule").click();
  await page.waitForURL(/\/reschedule/);
  // A day the month view offers, other than the appointment's and wholly after the cutoff,
  // so that the moved appointment can still be cancelled; the next month when this one has
  // no such day.
  const earliest = berlinDate(changeableFrom());
  let day;
  for (let month = 0; month < 4 && !day; month++) {
    const free = await page.locator("[data-testid=days] a[data-free]").evaluateAll((els) => els.map((e) => e.dataset.date));
    day = free.find((d) => d > earliest && d !== berlinDate(bookedAt));
    if (!day) {
      const shown = await page.getByTestId("month").innerText();
      await page.locator('a[aria-label="Next month"]').click();
      await page.waitForFunction((m) => document.querySelector("[data-testid=month]")?.textContent !== m, shown);
    }
  }
  assert.ok(day, "the picker offers a day to move to");
  await page.locator(`[data-testid=days] a[data-date="${day}"]`).click();
  await page.waitForURL(new RegExp(`date=${day}`));
  const targets = await offered(page, '[data-testid=times] a[href*="/reschedule/confirm"]');
  assert.ok(targets.length > 0, `times on ${day}`);
  await targets[targets.length - 1].control.click();
  await page.waitForURL(/\/reschedule\/confirm/);
  await page.getByTestId("confirm-move").click();
  await page.waitForURL(/done=rescheduled/);
  await page.getByText("Your appointment was moved").waitFor();
  const after = server.sql(`SELECT starts_at, status FROM appointments WHERE id = ${id}`)[0];
  assert.notEqual(after[0], before, "the appointment moved");
  assert.equal(after[1], "booked");

  await page.locator("#reason").fill("I feel better");
  await page.getByTestId("cancel").click();
  await page.waitForURL(/done=cancelled/);
  await page.getByText("Your appointment is cancelled").waitFor();
  assert.deepEqual(server.sql(`SELECT status, cancellation_reason FROM appointments WHERE id = ${id}`), [["cancelled", "I feel better"]]);
  const events = server.sql(`SELECT event_type FROM outbox WHERE payload LIKE '%"appointmentId":"${id}"%' ORDER BY id`).map((r) => r[0]);
  assert.deepEqual(events, ["appointmentCreated", "appointmentRescheduled", "appointmentCanceled"]);
  assert.deepEqual(errors, []);
});

test("a tampered or expired manage link is refused", { timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  await bookChangeableTime(page);
  const token = new URL(page.url()).pathname.split("/")[2];

  const bytes = Buffer.from(token, "base64url");
  bytes[2] ^= 1;
  const tampered = await page.goto(`${server.base}/manage/${bytes.toString("base64url")}`);
  assert.equal(tampered.status(), 403);
  await page.getByText("This link is not valid").waitFor();

  // Same appointment and patient, expiry in the past, signed with the server's key: only
  // the expiry can refuse it. A token: version 2, the key's id (4 bytes), the claims (24),
  // their HMAC keyed with the key's bytes.
  const genuine = Buffer.from(token, "base64url");
  const head = genuine.subarray(0, 5);
  const payload = Buffer.from(genuine.subarray(5, 29));
  payload.writeBigInt64BE(BigInt(Math.floor(server.now().getTime() / 1000) - 60), 16);
  const key = Buffer.from(LINK_SECRET, "base64");
  const mac = createHmac("sha256", key).update("booking manage link v2").update(head).update(payload).digest();
  const expired = Buffer.concat([head, payload, mac]).toString("base64url");
  const response = await page.goto(`${server.base}/manage/${expired}`);
  assert.equal(response.status(), 410);
  await page.getByText("This link has expired").waitFor();
  // The genuine link still works.
  assert.equal((await page.goto(`${server.base}/manage/${token}`)).status(), 200);
});

test("two browsers race for one slot: one confirmation, one friendly 'just taken' with alternatives", { timeout: 90_000 }, async () => {
  const [a, b] = [await browser.newContext(), await browser.newContext()];
  const [pa, pb] = [await a.newPage(), await b.newPage()];
  await Promise.all([pa.goto(`${server.base}/book/demo`), pb.goto(`${server.base}/book/demo`)]);
  await Promise.all([hydrated(pa), hydrated(pb)]);
  const slot = await (await bookableTime(pa)).control.getAttribute("value");
  await pb.goto(pa.url());
  await hydrated(pb);
  const button = (p) => p.locator(`[data-testid=times] button[value="${slot}"]`);
  await Promise.all([button(pa).click(), button(pb).click()]);
  const outcome = async (p) => {
    await Promise.race([p.waitForURL(/\/details\?/), p.getByTestId("just-taken").waitFor()]);
    return p.url().includes("/details?") ? "held" : "taken";
  };
  const results = await Promise.all([outcome(pa), outcome(pb)]);
  assert.deepEqual([...results].sort(), ["held", "taken"], `outcomes: ${results}`);
  const [winner, loser] = results[0] === "held" ? [pa, pb] : [pb, pa];
  await loser.getByText("was just taken").waitFor();
  const alternatives = await loser.locator('[data-testid=alternatives] button[name="slot"]').evaluateAll((els) => els.map((e) => e.value));
  assert.ok(alternatives.length > 0, "alternatives are offered");
  assert.ok(!alternatives.includes(slot), "the taken time is not among them");

  await fillPatient(winner);
  await winner.getByTestId("confirm").click();
  await winner.waitForURL(/done=booked/);
  await a.close();
  await b.close();
});

test("with JavaScript disabled, a booking still completes", { timeout: 60_000 }, async () => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${server.base}/book/demo`);
  const count = Number(server.sql("SELECT COUNT(*) FROM appointments")[0][0]);
  await (await bookableTime(page)).control.click();
  await page.waitForURL(/\/book\/demo\/details\?/);
  await fillPatient(page, { first: "Nora", last: "Script" });
  await page.getByTestId("confirm").click();
  await page.waitForURL(/done=booked/);
  await page.getByText("Your appointment is booked").waitFor();
  assert.equal(await page.locator('[data-hydrated="true"]').count(), 0, "nothing was hydrated");
  assert.equal(Number(server.sql("SELECT COUNT(*) FROM appointments")[0][0]), count + 1);
  assert.equal(server.sql("SELECT COUNT(*) FROM patients WHERE first_name = 'Nora'")[0][0], "1");
  await context.close();
});

test("a page on an allowed origin embeds the widget, books, and hears booking:created", { timeout: 90_000 }, async () => {
  const page = await browser.newPage();
  const errors = watchErrors(page);
  await page.goto(`${allowedHost.origin}/`);
  const frame = page.frameLocator("iframe");
  await frame.locator('[data-hydrated="true"]').waitFor({ state: "attached", timeout: 30_000 });
  // The frame grows to its content instead of scrolling inside the page.
  await page.waitForFunction(() => parseInt(document.querySelector("iframe").style.height || "0", 10) > 480);
  await (await bookableTime(frame)).control.click();
  await frame.getByTestId("confirm").waitFor();
  await fillPatient(frame);
  await frame.getByTestId("confirm").click();
  await frame.getByText("Your appointment is booked").waitFor();
  await page.waitForFunction(() => window.__events.length > 0, null, { timeout: 10_000 });
  const events = await page.evaluate(() => window.__events);
  assert.equal(events.length, 1);
  assert.equal(events[0].type, "booking:created");
  assert.match(events[0].detail.reference, /^A-\d{6}$/);
  assert.deepEqual(errors, []);
});

test("a page on another origin can neither frame the widget nor hear from it", { timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  await page.goto(`${otherHost.origin}/`);
  await page.waitForSelector("iframe");
  // frame-ancestors blocks the document: the frame never shows the booking page.
  await page.waitForTimeout(3_000);
  const frame = page.frames().find((f) => f !== page.mainFrame());
  const widgetShown = frame ? await frame.locator("main").count().catch(() => 0) : 0;
  assert.equal(widgetShown, 0, "the widget rendered inside a page the clinic did not allow");
  assert.deepEqual(await page.evaluate(() => window.__events), []);
});

test("the German locale renders German labels and dates", { timeout: 60_000 }, async () => {
  const page = await browser.newPage();
  await page.goto(`${server.base}/book/demo?lang=de`);
  await hydrated(page);
  assert.equal(await page.getAttribute("html", "lang"), "de");
  await page.getByText("Termin buchen").first().waitFor();
  const date = await page.getByTestId("chosen-date").innerText();
  assert.match(date, /^(Montag|Dienstag|Mittwoch|Donnerstag|Freitag|Samstag|Sonntag), \d{1,2}\. (Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember) \d{4}$/);
  assert.match(await page.getByTestId("month").innerText(), /^(Januar|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|Dezember) \d{4}$/);
  assert.match(await page.getByTestId("times").innerText(), /Vormittag|Nachmittag|Abend/i);
  // The language stays through the flow.
  await (await bookableTime(page)).control.click();
  await page.waitForURL(/\/details\?.*lang=de/);
  await page.getByText("Ihre Angaben").waitFor();
  assert.ok(await page.locator('label[for="booker-firstname"]', { hasText: "Vorname" }).isVisible());
});

test("keyboard only: a patient can reach a time, fill the form and confirm", { timeout: 90_000 }, async () => {
  const page = await browser.newPage();
  await page.goto(`${server.base}/book/demo`);
  await hydrated(page);
  const focused = () => page.evaluate(() => document.activeElement?.getAttribute("name"));
  const wanted = await (await bookableTime(page)).control.getAttribute("value");
  const focusedSlot = () => page.evaluate(() => document.activeElement?.getAttribute("value"));
  for (let i = 0; i < 200 && (await focusedSlot()) !== wanted; i++) await page.keyboard.press("Tab");
  assert.equal(await focusedSlot(), wanted, "the time button is not reachable by Tab");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/details\?/);
  // The form's checks run in the browser once the details page is live.
  await hydrated(page);
  const typeInto = async (name, text) => {
    for (let i = 0; i < 60 && (await focused()) !== name; i++) await page.keyboard.press("Tab");
    assert.equal(await focused(), name, `${name} is not reachable by Tab`);
    await page.keyboard.type(text);
  };
  await typeInto("booker[firstname]", "Kira");
  await typeInto("booker[lastname]", "Board");
  await typeInto("booker[phone]", "12ab");
  // Leaving a bad value announces it next to its field.
  await page.keyboard.press("Tab");
  await page.waitForSelector('input[name="booker[phone]"][aria-invalid="true"]');
  await page.keyboard.press("Shift+Tab");
  await page.keyboard.press("Control+A");
  await page.keyboard.type("+49 30 7654321");
  await typeInto("booker[email]", "kira@example.org");
  await typeInto("booker[dob]", "01021990");
  for (let i = 0; i < 60; i++) {
    if (await page.evaluate(() => document.activeElement?.dataset?.testid === "confirm")) break;
    await page.keyboard.press("Tab");
  }
  await page.keyboard.press("Enter");
  await page.waitForURL(/done=booked/);
  assert.equal(server.sql("SELECT COUNT(*) FROM patients WHERE first_name = 'Kira'")[0][0], "1");
});
