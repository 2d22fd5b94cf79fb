// Patient e-mails from the release binary to a real SMTP server (aiosmtpd): a patient books in
// Chromium and gets the confirmation, whose manage link opens the appointment and turns its
// reminder off; the owner turns a message off in the console; an address the mail server
// refuses shows at the desk; and a server killed while messages wait, with the mail server
// down, sends every one of them once after both are back.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { accessibilityProblems, DEMO_OWNER_PASSWORD, hydrated, launchBrowser, startServer, startSmtpSink } from "../support.mjs";

let server;
let browser;
let sink;

before(async () => {
  sink = await startSmtpSink();
  server = await startServer({ env: { BOOKING_SMTP_URL: sink.url(), BOOKING_MAIL_FROM: "Bookings <bookings@e2e.example>" } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await sink?.close();
});

const auth = { authorization: `Basic ${Buffer.from("demo:bk_e2e_demo_key").toString("base64")}` };
const DAY = 86_400_000;
const berlinDate = (at) => new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Berlin", year: "numeric", month: "2-digit", day: "2-digit" }).format(at);
const to = (messages, address) => messages.filter((m) => m.to === address);

async function checked(page, what) {
  await hydrated(page);
  assert.deepEqual(await accessibilityProblems(page), [], `${what}: accessibility`);
}

/// Sophie Wagner's free times from three days on, as a chat bot sees them.
async function freeTimes() {
  const calendars = (await (await fetch(`${server.base}/api/v1/calendars`, { headers: auth })).json()).calendars;
  const sophie = calendars.find((c) => c.name === "Sophie Wagner");
  const type = sophie.appointmentTypes[0].id;
  const from = new Date(server.now().getTime() + 3 * DAY).toISOString().slice(0, 10);
  const until = new Date(server.now().getTime() + 17 * DAY).toISOString().slice(0, 10);
  const url = `${server.base}/api/v1/availability?calendar_id=${sophie.id}&appointment_type_id=${type}&from=${from}&to=${until}`;
  return (await (await fetch(url, { headers: auth })).json()).days.flatMap((d) => d.slots);
}

async function botBooks(slot, firstName, email) {
  const answer = await fetch(`${server.base}/api/v1/appointments`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ slotId: slot.slotId, patient: { firstName, lastName: "Mailtest", dob: "1990-04-05", phone: "+49 30 1234567", email } }),
  });
  const body = await answer.json();
  assert.equal(answer.status, 201, JSON.stringify(body));
  return body.appointmentId;
}

async function signIn(context) {
  const page = await context.newPage();
  await page.goto(`${server.base}/admin/login`);
  await page.getByLabel("E-mail address").fill("owner@demo.example");
  await page.getByLabel("Password").fill(DEMO_OWNER_PASSWORD);
  await page.getByTestId("sign-in").click();
  await page.waitForURL(`${server.base}/admin`);
  return page;
}

test("a widget booking e-mails a confirmation whose manage link opens the appointment and turns its reminder off", { timeout: 90_000 }, async () => {
  const page = await browser.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  // A time three or more days ahead: its reminder lies in the future.
  let slot;
  for (let ahead = 3; ahead < 30 && !slot; ahead++) {
    await page.goto(`${server.base}/book/demo?date=${berlinDate(new Date(server.now().getTime() + ahead * DAY))}`);
    if ((await page.locator('[data-testid=times] button[name="slot"]').count()) > 0) slot = page.locator('[data-testid=times] button[name="slot"]').first();
  }
  assert.ok(slot, "a free time within four weeks");
  await hydrated(page);
  await slot.click();
  await page.waitForURL(/\/book\/demo\/details\?/);
  await hydrated(page);
  const field = (name) => page.locator(`input[name="booker[${name}]"]`);
  await field("firstname").fill("Wilma");
  await field("lastname").fill("Widget");
  await field("phone").fill("+49 30 7654321");
  await field("email").fill("wilma.widget@example.org");
  await field("dob").fill("1979-02-03");
  await page.getByTestId("confirm").click();
  await page.waitForURL(/done=booked/);
  const reference = (await page.getByTestId("appointment").innerText()).match(/A-\d{6}/)[0];

  const [mail] = to(await sink.waitFor((m) => to(m, "wilma.widget@example.org").length > 0, "the confirmation"), "wilma.widget@example.org");
  assert.match(mail.subject, /^Appointment confirmed: /);
  assert.ok(mail.text.includes(reference) && mail.html.includes(reference), mail.text);
  // (Line ends as the MIME decoder gives them; the Rust suite checks the CRLF on the wire.)
  assert.match(mail.ics, /BEGIN:VEVENT\r?\n/);
  assert.match(mail.ics, /STATUS:CONFIRMED\r?\n/);
  const link = mail.text.match(new RegExp(`${server.base}/manage/[A-Za-z0-9_-]+`))[0];

  // The link from the e-mail, in a browser of its own: no cookie, only the link.
  const context = await browser.newContext();
  const inbox = await context.newPage();
  await inbox.goto(link);
  assert.ok((await inbox.getByTestId("appointment").innerText()).includes(reference));
  assert.equal(await inbox.getByTestId("reminder-state").innerText(), "We will e-mail you a reminder before the appointment.");
  await checked(inbox, "manage page with the reminder choice");
  await inbox.getByTestId("reminder-toggle").click();
  await inbox.waitForURL(/done=reminder-off/);
  assert.equal(await inbox.getByTestId("headline").innerText(), "The reminder is off");
  assert.equal(await inbox.getByTestId("reminder-state").innerText(), "You will not get a reminder e-mail.");
  const id = Number(reference.slice(2));
  assert.deepEqual(server.sql(`SELECT COUNT(*) FROM reminder_opt_outs WHERE appointment_id = ${id}`), [["1"]]);
  await inbox.getByTestId("reminder-toggle").click();
  await inbox.waitForURL(/done=reminder-on/);
  assert.deepEqual(server.sql(`SELECT COUNT(*) FROM reminder_opt_outs WHERE appointment_id = ${id}`), [["0"]]);
  assert.deepEqual(errors, []);
  await context.close();
  await page.close();
});

test("the owner turns the confirmation off in the console, and a refused address shows at the desk", { timeout: 90_000 }, async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await signIn(context);
  await page.goto(`${server.base}/admin/settings`);
  await checked(page, "settings with patient e-mails");
  assert.equal(await page.getByLabel("Note in every e-mail").inputValue(), "Please bring your insurance card and arrive five minutes early.");
  await page.getByLabel("Booking confirmation").uncheck();
  await page.getByTestId("save-emails").click();
  await page.waitForURL(/done=saved/);
  assert.equal(await page.getByLabel("Booking confirmation").isChecked(), false);
  assert.deepEqual(server.sql("SELECT email_confirmation, email_reminder FROM clinics WHERE slug = 'demo'"), [["0", "1"]]);
  // A refused value changes nothing and names the field.
  await page.getByLabel("Reminder (minutes before)").fill("5");
  await page.getByTestId("save-emails").click();
  await page.getByTestId("problem").waitFor();
  assert.match(await page.getByTestId("problem").innerText(), /reminderMinutes/);
  assert.deepEqual(server.sql("SELECT reminder_minutes FROM clinics WHERE slug = 'demo'"), [["1440"]]);

  const times = await freeTimes();
  const quiet = await botBooks(times[0], "Quentin", "quentin.quiet@example.org");
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(to(await sink.messages(), "quentin.quiet@example.org"), [], "no confirmation while it is off");
  assert.deepEqual(server.sql(`SELECT kind, state FROM patient_emails WHERE appointment_id = ${quiet}`), [["reminder", "pending"]]);

  await page.goto(`${server.base}/admin/settings`);
  await page.getByLabel("Booking confirmation").check();
  await page.getByTestId("save-emails").click();
  await page.waitForURL(/done=saved/);

  const refused = await botBooks(times[1], "Rhea", "reject.rhea@example.org");
  const deadline = Date.now() + 15_000;
  while (server.sql(`SELECT state FROM patient_emails WHERE appointment_id = ${refused} AND kind = 'confirmation'`)[0]?.[0] !== "failed") {
    assert.ok(Date.now() < deadline, "the refusal is recorded");
    await new Promise((r) => setTimeout(r, 100));
  }
  await page.goto(`${server.base}/desk?day=${berlinDate(new Date(times[1].start))}`);
  const card = page.getByTestId("visit").filter({ hasText: "Rhea Mailtest" });
  assert.match(await card.getByTestId("email-failed").innerText(), /^E-mail not delivered \(confirmation\): 550/);
  await checked(page, "desk with an undelivered e-mail");
  await context.close();
});

test("a server killed while messages wait, with the mail server down, sends each once when both are back", { timeout: 90_000 }, async () => {
  await sink.stop();
  const times = await freeTimes();
  const names = ["Kai", "Kim", "Kit"];
  const ids = [];
  for (const [n, name] of names.entries()) ids.push(await botBooks(times[2 + n], name, `crash${n}@example.org`));
  // The server has tried each once and waits to retry.
  const tried = () => Number(server.sql(`SELECT COUNT(*) FROM patient_emails WHERE kind = 'confirmation' AND attempts >= 1 AND appointment_id IN (${ids.join(",")})`)[0][0]);
  const deadline = Date.now() + 15_000;
  while (tried() < ids.length) {
    assert.ok(Date.now() < deadline, "every confirmation was tried");
    await new Promise((r) => setTimeout(r, 100));
  }
  // A crash: no shutdown, nothing finished. The mail server returns while the server is down.
  await server.restart(() => sink.start(), "SIGKILL");
  const addresses = names.map((_, n) => `crash${n}@example.org`);
  await sink.waitFor((m) => addresses.every((a) => to(m, a).length > 0), "every waiting message", 30_000);
  await new Promise((r) => setTimeout(r, 1500));
  const messages = await sink.messages();
  for (const address of addresses) assert.equal(to(messages, address).length, 1, `one message to ${address}`);
  const ids_ = messages.map((m) => m.messageId);
  assert.equal(new Set(ids_).size, ids_.length, "every message has its own Message-ID");
});
