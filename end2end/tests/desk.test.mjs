// The front desk in Chromium: a desk page is open while a bot books through the API and the
// booking appears by itself; the desk books a walk-in and checks it in, and the waiting-room
// display (opened by its link, no sign-in) shows the number and follows the desk live; the
// server restarts while a change is made from the command line, and desk and display catch
// up without a reload. Every page passes the accessibility checker.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { accessibilityProblems, DEMO_OWNER_PASSWORD, hydrated, launchBrowser, startServer } from "../support.mjs";

let server;
let browser;
const auth = { authorization: `Basic ${Buffer.from("demo:bk_e2e_demo_key").toString("base64")}` };

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function checked(page, what) {
  await hydrated(page);
  assert.deepEqual(await accessibilityProblems(page), [], `${what}: accessibility`);
}

async function signedIn(viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`${server.base}/desk`);
  await page.waitForURL(/\/admin\/login\?next=%2Fdesk/);
  await page.getByLabel("E-mail address").fill("owner@demo.example");
  await page.getByLabel("Password").fill(DEMO_OWNER_PASSWORD);
  await page.getByTestId("sign-in").click();
  await page.waitForURL(`${server.base}/desk`);
  return { context, page, errors };
}

// Today's board of one location.
async function showLocation(page, name) {
  await page.goto(`${server.base}/desk`);
  await page.getByLabel("Location").selectOption({ label: name });
  await page.getByRole("button", { name: "Show" }).click();
  await page.waitForURL(/location=/);
}

const live = (page) => page.locator('[data-live-status][data-state="online"]').waitFor();
const visit = (page, name) => page.getByTestId("visit").filter({ has: page.getByTestId("visit-patient").getByText(name, { exact: true }) });

// Sophie Wagner's first free time from three days on, as a chat bot sees it, and its day in Berlin.
async function sophiesFirstFreeTime() {
  const calendars = (await (await fetch(`${server.base}/api/v1/calendars`, { headers: auth })).json()).calendars;
  const sophie = calendars.find((c) => c.name === "Sophie Wagner");
  const type = sophie.appointmentTypes[0].id;
  const from = new Date(server.now().getTime() + 3 * 86400000).toISOString().slice(0, 10);
  const to = new Date(server.now().getTime() + 17 * 86400000).toISOString().slice(0, 10);
  const availability = await (await fetch(`${server.base}/api/v1/availability?calendar_id=${sophie.id}&appointment_type_id=${type}&from=${from}&to=${to}`, { headers: auth })).json();
  const slot = availability.days.flatMap((d) => d.slots)[0];
  const day = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Berlin", year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(slot.start));
  return { slot, day };
}

async function botBooks(slot, firstName, lastName) {
  const booked = await fetch(`${server.base}/api/v1/appointments`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ slotId: slot.slotId, patient: { firstName, lastName, dob: "1979-04-01", phone: "+49 30 5550199", email: `${firstName}.${lastName}@example.org`.toLowerCase() } }),
  });
  assert.equal(booked.status, 201, await booked.text());
}

test("a bot's booking appears on an open desk within two seconds, without a reload", async () => {
  const { context, page, errors } = await signedIn();
  const { slot, day } = await sophiesFirstFreeTime();

  await page.goto(`${server.base}/desk?day=${day}`);
  await checked(page, "desk");
  await live(page);
  await page.evaluate(() => { window.notReloaded = true; });
  await botBooks(slot, "Lena", "Live");
  await visit(page, "Lena Live").waitFor({ timeout: 2000 });
  assert.equal(await visit(page, "Lena Live").getByTestId("visit-source").textContent(), "Chat bot");
  assert.equal(await page.evaluate(() => window.notReloaded), true, "the page was not reloaded");

  // The keyboard moves between days.
  await page.locator("body").press("]");
  await page.waitForURL((u) => u.searchParams.get("day") !== day);
  await page.locator("body").press("[");
  await page.waitForURL((u) => u.searchParams.get("day") === day);
  await visit(page, "Lena Live").waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});

test("what the desk types into a walk-in form survives a change whose refresh was already on its way", async () => {
  const { context, page, errors } = await signedIn();
  await showLocation(page, "Berlin Mitte");
  await live(page);
  // The stream's first refresh is done before the next one is held.
  await page.locator("[data-live][data-refreshed]").waitFor();
  // The board's refresh (a fetch of the page's own address) is held until the form is filled in.
  let release;
  const released = new Promise((resolve) => { release = resolve; });
  let requested;
  const refreshRequested = new Promise((resolve) => { requested = resolve; });
  const deskPage = (url) => url.pathname === "/desk";
  await page.route(deskPage, async (route) => {
    if (route.request().resourceType() !== "fetch") return route.continue();
    requested();
    await released;
    await route.continue();
  });
  const { slot } = await sophiesFirstFreeTime();
  await botBooks(slot, "Chris", "Change");
  await refreshRequested;

  const form = page.getByTestId("walk-in").first();
  await form.locator("summary").click();
  await form.getByLabel("First name").fill("Tara");
  await form.getByLabel("Last name").fill("Typing");
  const board = page.getByTestId("desk-board");
  const swapsBefore = await board.getAttribute("data-refreshed");
  const answered = page.waitForResponse((res) => deskPage(new URL(res.url())) && res.request().resourceType() === "fetch");
  release();
  await answered;
  // Absence of a swap can only be watched for a while: a swap follows its answer within
  // milliseconds, and this waits a second.
  await page.waitForTimeout(1000);
  assert.equal(await board.getAttribute("data-refreshed"), swapsBefore, "the board was not swapped under the form");
  assert.equal(await form.getByLabel("First name").inputValue(), "Tara");
  assert.equal(await form.getByLabel("Last name").inputValue(), "Typing");
  await page.unroute(deskPage);

  // Emptied and closed, the form no longer holds the refresh back.
  await form.getByLabel("First name").fill("");
  await form.getByLabel("Last name").fill("");
  await form.locator("summary").click();
  await page.waitForFunction((before) => document.querySelector('[data-testid="desk-board"]').getAttribute("data-refreshed") !== before, swapsBefore);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a walk-in is booked and checked in at the desk, the display shows the number, and both catch up after a restart", async () => {
  const { context, page, errors } = await signedIn();

  // A display link for Berlin Mitte, opened on the waiting room's screen without a sign-in.
  await page.goto(`${server.base}/desk/displays`);
  await checked(page, "display links");
  await page.getByLabel("Location").selectOption({ label: "Berlin Mitte" });
  await page.getByLabel("Label").fill("Waiting room");
  await page.getByTestId("create-display").click();
  await page.getByTestId("display-created").waitFor();
  const link = await page.getByTestId("display-link").inputValue();
  const tvContext = await browser.newContext({ viewport: { width: 1920, height: 1080 } });
  const tv = await tvContext.newPage();
  await tv.goto(link);
  await tv.getByTestId("display-board").waitFor();
  assert.deepEqual(await accessibilityProblems(tv), [], "display: accessibility");
  // Its stream is open once the first catch-up has been fetched.
  await tv.locator("[data-live][data-refreshed]").waitFor();
  await tv.evaluate(() => { window.notReloaded = true; });

  // Today's board at Berlin Mitte: a walk-in for the first provider.
  await showLocation(page, "Berlin Mitte");
  const walkIn = async (first, last, column) => {
    const form = page.getByTestId("walk-in").nth(column);
    await form.locator("summary").click();
    await form.getByLabel("First name").fill(first);
    await form.getByLabel("Last name").fill(last);
    await form.getByLabel("Phone (optional)").fill("030 1234567");
    await form.getByTestId("book-walk-in").click();
    await visit(page, `${first} ${last}`).waitFor();
  };
  await walkIn("Walt", "Walker", 0);
  await checked(page, "desk with a walk-in");
  await visit(page, "Walt Walker").getByTestId("check-in").click();
  await page.getByTestId("queue-number").waitFor();
  const number = (await page.getByTestId("queue-number").textContent()).trim();
  assert.equal(number, "1");
  await tv.getByTestId("display-now").filter({ hasText: number }).waitFor({ timeout: 2000 });
  assert.ok(!(await tv.locator("body").textContent()).includes("Walt"), "no names on this display");

  // Done at the desk: the display empties by itself.
  await live(page);
  await visit(page, "Walt Walker").getByTestId("complete").click();
  await visit(page, "Walt Walker").getByTestId("visit-status").filter({ hasText: "Done" }).waitFor();
  await tv.getByTestId("display-idle").first().waitFor({ timeout: 2000 });

  // A restart, and a check-in from the command line while the server is down: the open desk
  // and the display catch up when their streams reconnect.
  // The first provider's time until Walt's end stays used (done is done), so the next provider.
  await walkIn("Rita", "Restart", 1);
  const id = await visit(page, "Rita Restart").getAttribute("data-appointment");
  await live(page);
  await page.evaluate(() => { window.notReloaded = true; });
  await server.restart(async () => {
    server.cli(["appointment", "check-in", "demo", id]);
  });
  await visit(page, "Rita Restart").getByTestId("visit-queue").waitFor({ timeout: 10000 });
  await tv.getByTestId("display-now").filter({ hasText: "1" }).waitFor({ timeout: 10000 });
  assert.equal(await page.evaluate(() => window.notReloaded), true, "the desk was not reloaded");
  assert.equal(await tv.evaluate(() => window.notReloaded), true, "the display was not reloaded");
  assert.deepEqual(errors, []);
  await tvContext.close();
  await context.close();
});

test("the desk books a caller for later, finds them on file the next time, moves the visit with the patients' picker and registers them", async () => {
  const { context, page, errors } = await signedIn();
  const book = async () => {
    await page.goto(`${server.base}/desk?location=1`);
    await page.getByTestId("book-appointment").click();
    await page.waitForURL(/\/desk\/book\?/);
    await page.getByTestId("times").locator("a").first().click();
    await page.waitForURL(/\/desk\/book\/patient\?slot=/);
  };

  // A new caller: a temporary record, booked by the desk at a time the patients' picker offers.
  await book();
  await checked(page, "choosing the patient");
  const form = page.locator("form").filter({ has: page.getByTestId("book-new") });
  await form.getByLabel("First name").fill("Paula");
  await form.getByLabel("Last name").fill("Phone");
  await form.getByLabel("Date of birth (optional)").fill("1966-09-30");
  await form.getByLabel("Phone (optional)").fill("030 5550142");
  await page.getByTestId("book-new").click();
  await page.waitForURL(/\/desk\?day=/);
  await visit(page, "Paula Phone").first().waitFor();
  assert.equal(await visit(page, "Paula Phone").first().getByTestId("visit-source").textContent(), "Desk");

  // She calls again: found by name and birth date, chosen by the desk, booked; no new record.
  await book();
  await page.getByLabel("Name", { exact: true }).fill("paula phone");
  await page.getByLabel("Date of birth", { exact: true }).fill("1966-09-30");
  await page.getByTestId("search").click();
  await page.getByTestId("match").first().waitFor();
  assert.equal(await page.getByTestId("match").count(), 1);
  await checked(page, "search results");
  await page.getByTestId("choose").click();
  await page.getByTestId("chosen-name").waitFor();
  await page.getByTestId("book-chosen").click();
  await page.waitForURL(/\/desk\?day=/);
  await visit(page, "Paula Phone").first().waitFor();

  // Moved with the same picker, fixed to the appointment's type; the board shows the new time.
  const card = visit(page, "Paula Phone").first();
  const id = await card.getAttribute("data-appointment");
  const before = `${new URL(page.url()).searchParams.get("day")} ${await card.locator("p").first().textContent()}`;
  await card.getByTestId("move").click();
  await page.getByTestId("moving").waitFor();
  await checked(page, "moving an appointment");
  const times = page.getByTestId("times").locator("a");
  await times.nth((await times.count()) - 1).click();
  await page.getByTestId("new-time").waitFor();
  await checked(page, "confirming the move");
  await page.getByTestId("confirm-move").click();
  await page.waitForURL(/\/desk\?day=/);
  const moved = page.locator(`[data-appointment="${id}"]`);
  await moved.waitFor();
  const after = `${new URL(page.url()).searchParams.get("day")} ${await moved.locator("p").first().textContent()}`;
  assert.notEqual(after, before, "the appointment has its new time");

  // Registered at the desk: the record is no longer temporary.
  await visit(page, "Paula Phone").first().getByTestId("register").click();
  await page.waitForURL(/\/desk\?day=/);
  await page.waitForFunction(() => ![...document.querySelectorAll('[data-testid="visit"]')].some((v) => v.textContent.includes("Paula Phone") && v.textContent.includes("temporary record")));
  assert.deepEqual(errors, []);
  await context.close();
});

test("the desk and its booking pages read in German and pass the accessibility checker there too", async () => {
  const { context, page, errors } = await signedIn({ width: 820, height: 1180 });
  const language = async (lang) => {
    await page.goto(`${server.base}/admin/account`);
    await page.locator("#locale").selectOption(lang);
    await page.getByTestId("save-language").click();
    await page.waitForURL(/done=language/);
  };
  await language("de");
  try {
    await page.goto(`${server.base}/desk?location=1`);
    await checked(page, "desk in German");
    assert.equal(await page.locator("h1").textContent(), "Empfang");
    await page.getByTestId("book-appointment").click();
    await page.waitForURL(/\/desk\/book\?/);
    await checked(page, "desk picker in German");
    await page.getByTestId("times").locator("a").first().click();
    await page.getByTestId("search").waitFor();
    assert.equal(await page.locator("h1").textContent(), "Für wen ist der Termin?");
    await page.locator("#search-name").fill("Niemand Bekannt");
    await page.getByTestId("search").click();
    await page.getByTestId("no-matches").waitFor();
    await checked(page, "patient search in German");
  } finally {
    await language("en");
  }
  assert.deepEqual(errors, []);
  await context.close();
});
