// The clinic console in Chromium: a new clinic's owner follows the setup link printed by
// `server clinic create`, edits the clinic, invites a colleague, signs out and in again;
// another builds its catalogue, hours (checked in the week preview), a bot credential and a
// webhook subscription, then a patient and a bot book and the receiver gets both signed
// events; the demo owner's console in German on a phone. Every page passes the
// accessibility checker.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { createServer } from "node:http";
import { accessibilityProblems, DEMO_OWNER_PASSWORD, hydrated, launchBrowser, startServer } from "../support.mjs";

let server;
let browser;

before(async () => {
  // Webhook receivers in these tests listen on plain http on this machine.
  server = await startServer({ env: { BOOKING_WEBHOOK_ALLOW_HOSTS: "127.0.0.1" } });
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

test("a new clinic's owner sets up the account, edits the clinic, invites a colleague and signs in again", async () => {
  const out = server.cli(
    ["clinic", "create", "praxis-nord", "--name", "Praxis Nord", "--time-zone", "America/New_York", "--owner-email", "chef@praxis-nord.example"],
    { BOOKING_PUBLIC_URL: server.base },
  );
  const link = out.split("\n").find((l) => l.startsWith(`${server.base}/admin/setup/`));
  assert.ok(link, out);

  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(link);
  await checked(page, "set-up page");
  assert.equal(await page.getByTestId("email").inputValue(), "chef@praxis-nord.example");
  await page.getByLabel("Your name").fill("Dr. Nora Nord");
  await page.getByLabel("Choose a password").fill("north clinic owner secret");
  await page.getByLabel("Repeat the password").fill("north clinic owner secret");
  await page.getByTestId("create-account").click();
  await page.waitForURL(`${server.base}/admin`);
  assert.equal(await page.getByTestId("clinic-name").textContent(), "Praxis Nord");
  assert.equal(await page.getByTestId("signed-in-as").textContent(), "Dr. Nora Nord");
  await checked(page, "overview");

  // Settings: a good change is saved; a bad one is refused naming the field, nothing saved.
  await page.getByRole("link", { name: "Settings" }).click();
  await page.waitForURL(`${server.base}/admin/settings`);
  await checked(page, "settings");
  assert.equal(await page.getByLabel("Time zone").inputValue(), "America/New_York");
  await page.getByLabel("Booking horizon (days)").fill("120");
  await page.getByLabel("Default language").selectOption("de");
  await page.getByTestId("save-settings").click();
  await page.waitForURL(/done=saved/);
  assert.match(await page.getByTestId("notice").textContent(), /Saved/);
  assert.equal(await page.getByLabel("Booking horizon (days)").inputValue(), "120");
  await page.getByLabel("Booking horizon (days)").fill("0");
  await page.getByTestId("save-settings").click();
  await page.getByRole("alert").waitFor();
  assert.match(await page.getByRole("alert").textContent(), /horizonDays/);
  assert.deepEqual(server.sql("SELECT horizon_days, default_locale FROM clinics WHERE slug = 'praxis-nord'"), [["120", "de"]]);

  // Staff: the invitation link is shown once.
  await page.getByRole("link", { name: "Staff" }).click();
  await page.getByLabel("E-mail address").fill("desk@praxis-nord.example");
  await page.getByLabel("Role").selectOption("desk");
  await page.getByTestId("invite").click();
  await page.getByTestId("invitation").waitFor();
  assert.match(await page.getByTestId("invitation-link").inputValue(), new RegExp(`^${server.base}/admin/setup/[0-9a-f]{64}$`));
  await checked(page, "staff");
  // Website: allow the clinic's site; the snippet names this server and the clinic.
  await page.getByRole("link", { name: "Website" }).click();
  await page.getByLabel("Website addresses, one per line").fill("https://www.praxis-nord.example");
  await page.getByTestId("save-origins").click();
  await page.waitForURL(/done=saved/);
  assert.equal(
    await page.getByTestId("snippet").textContent(),
    `<script src="${server.base}/embed.js" data-clinic="praxis-nord" async></script>`,
  );
  await checked(page, "website");

  // Integrations: a bot user's key is shown once and works against the bot API.
  await page.getByRole("link", { name: "Integrations" }).click();
  await page.getByLabel("User id").fill("nord-bot");
  await page.getByTestId("create-credential").click();
  await page.getByTestId("issued").waitFor();
  const key = await page.getByTestId("issued-key").inputValue();
  await checked(page, "integrations");
  const auth = `Basic ${Buffer.from(`nord-bot:${key}`).toString("base64")}`;
  const calendars = await fetch(`${server.base}/api/v1/calendars`, { headers: { authorization: auth } });
  assert.equal(calendars.status, 200);
  await page.reload();
  assert.equal(await page.getByTestId("issued").count(), 0, "the key is shown once");

  await page.getByRole("link", { name: "Audit log" }).click();
  await checked(page, "audit log");
  const actions = (await page.locator("[data-testid=audit] tbody tr td:nth-child(3)").allInnerTexts()).map((a) => a.trim());
  assert.deepEqual(actions, ["credential.create", "clinic.embed_origins", "staff.invite", "clinic.update", "clinic.create"]);

  // Out, and in again: a wrong password is refused, the right one leads back.
  await page.getByTestId("sign-out").click();
  await page.waitForURL(`${server.base}/admin/login`);
  await checked(page, "sign-in page");
  await page.goto(`${server.base}/admin/settings`);
  await page.waitForURL(/\/admin\/login\?next=/);
  await page.getByLabel("E-mail address").fill("chef@praxis-nord.example");
  await page.getByLabel("Password").fill("not the password");
  await page.getByTestId("sign-in").click();
  await page.getByRole("alert").waitFor();
  assert.match(await page.getByRole("alert").textContent(), /wrong/);
  await page.getByLabel("E-mail address").fill("chef@praxis-nord.example");
  await page.getByLabel("Password").fill("north clinic owner secret");
  await page.getByTestId("sign-in").click();
  await page.waitForURL(`${server.base}/admin/settings`);
  assert.deepEqual(errors, []);
  await context.close();
});

test("a new clinic builds what it offers, its hours and its integrations in the browser; a patient and a bot book and its webhook hears both", async () => {
  const out = server.cli(
    ["clinic", "create", "east-side", "--name", "East Side Dental", "--time-zone", "America/New_York", "--owner-email", "owner@east-side.example"],
    { BOOKING_PUBLIC_URL: server.base },
  );
  const link = out.split("\n").find((l) => l.startsWith(`${server.base}/admin/setup/`));
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(link);
  await page.getByLabel("Your name").fill("Eve East");
  await page.getByLabel("Choose a password").fill("east side clinic secret");
  await page.getByLabel("Repeat the password").fill("east side clinic secret");
  await page.getByTestId("create-account").click();
  await page.waitForURL(`${server.base}/admin`);

  await page.getByRole("link", { name: "What you offer" }).click();
  await checked(page, "empty catalogue");
  await page.getByTestId("add-location").click();
  await checked(page, "new location");
  assert.equal(await page.getByLabel("Time zone").inputValue(), "America/New_York");
  await page.getByLabel("Name", { exact: true }).fill("Midtown");
  await page.getByLabel("Address").fill("5 Park Ave\nNew York, NY 10016");
  await page.getByTestId("save").click();
  await page.waitForURL(/done=saved/);

  await page.getByTestId("add-service").click();
  await page.getByLabel("Name", { exact: true }).fill("Dental care");
  await page.getByLabel("Length (minutes)").fill("0");
  await page.getByTestId("save").click();
  await page.getByRole("alert").waitFor();
  assert.match(await page.getByRole("alert").textContent(), /durationMinutes/);
  await page.getByLabel("Length (minutes)").fill("30");
  await page.getByTestId("save").click();
  await page.waitForURL(/done=saved/);

  for (const [name, minutes, price] of [["Check-up", "20", "45"], ["Cleaning", "50", "120.50"]]) {
    await page.getByRole("link", { name: "Add an appointment type" }).click();
    await page.getByLabel("Name", { exact: true }).fill(name);
    await page.getByLabel("Length (minutes)", { exact: true }).fill(minutes);
    await page.getByLabel("Price").fill(price);
    await page.getByLabel("Currency").fill("USD");
    await page.getByRole("group", { name: "Asked of the person who books" }).getByLabel("E-mail address").check();
    if (name === "Cleaning") await checked(page, "new appointment type");
    await page.getByTestId("save").click();
    await page.waitForURL(/done=saved/);
  }
  for (const name of ["Ana Ruiz", "Ben Okafor"]) {
    await page.getByTestId("add-provider").click();
    await page.getByLabel("Name", { exact: true }).fill(name);
    await page.getByLabel("Dental care").check();
    await page.getByTestId("save").click();
    await page.waitForURL(/done=saved/);
  }
  await checked(page, "catalogue");
  assert.equal(await page.getByTestId("product").count(), 2);

  // Hours with a lunch break every day for both, so that the widget has times whatever the date.
  await page.getByRole("link", { name: "Working hours" }).click();
  await checked(page, "working hours");
  for (const provider of ["Ana Ruiz", "Ben Okafor"]) {
    await page.goto(`${server.base}/admin/schedule`);
    await page.getByRole("link", { name: provider }).click();
    for (const day of ["1", "2", "3", "4", "5", "6", "7"]) {
      for (const [from, until] of [["09:00", "12:00"], ["13:00", "17:00"]]) {
        await page.getByLabel("Weekday").selectOption(day);
        await page.locator("#hours-start").fill(from);
        await page.locator("#hours-end").fill(until);
        await page.getByTestId("add-hours").click();
        await page.waitForURL(/done=saved/);
      }
    }
  }
  // Overlapping hours are refused, naming the field.
  await page.getByLabel("Weekday").selectOption("1");
  await page.locator("#hours-start").fill("11:00");
  await page.locator("#hours-end").fill("14:00");
  await page.getByTestId("add-hours").click();
  await page.getByRole("alert").waitFor();
  assert.match(await page.getByRole("alert").textContent(), /start.*overlaps/);
  assert.equal(await page.getByTestId("rule-hours").count(), 14);
  await checked(page, "a provider's hours");
  // The week preview shows the times the engine offers; a closed day is checked before saving.
  assert.ok((await page.getByTestId("preview").getByTestId("slot").count()) > 0, "the week preview offers times");
  const inTenDays = new Date(Date.now() + 10 * 86400000).toISOString().slice(0, 10);
  await page.locator("#exception-date").fill(inTenDays);
  await page.locator("#exception-kind").selectOption("closed");
  await page.getByTestId("check-exception").click();
  await page.waitForURL(/change=exception/);
  await page.getByTestId("check").waitFor();
  assert.match(await page.getByTestId("check-none").textContent(), /No booked appointment/);
  assert.ok((await page.getByTestId("slot-removed").count()) > 0, "the closed day's times are shown as going");
  await checked(page, "a change checked before saving");
  assert.equal(await page.getByTestId("rule-exception").count(), 0, "checking saves nothing");
  await page.getByTestId("save-anyway").click();
  await page.waitForURL(/done=saved/);
  assert.equal(await page.getByTestId("rule-exception").count(), 1);
  await page.goto(`${server.base}/admin/schedule`);
  await page.getByLabel("Date").fill("2030-07-04");
  await page.getByLabel("Name", { exact: true }).fill("Independence Day");
  await page.getByTestId("add-holiday").click();
  await page.waitForURL(/done=saved/);
  assert.equal(await page.getByTestId("holiday").count(), 1);

  // A bot credential sees both providers with both appointment types.
  await page.getByRole("link", { name: "Integrations" }).click();
  await page.getByLabel("User id").fill("east-bot");
  await page.getByTestId("create-credential").click();
  await page.getByTestId("issued").waitFor();
  const key = await page.getByTestId("issued-key").inputValue();
  const res = await fetch(`${server.base}/api/v1/calendars`, { headers: { authorization: `Basic ${Buffer.from(`east-bot:${key}`).toString("base64")}` } });
  const { calendars } = await res.json();
  assert.deepEqual(calendars.map((c) => c.name), ["Ana Ruiz", "Ben Okafor"]);
  assert.deepEqual(calendars[0].appointmentTypes.map((t) => [t.name, t.durationMinutes]), [["Check-up", 20], ["Cleaning", 50]]);
  assert.equal(calendars[0].location.timeZone, "America/New_York");

  // A webhook subscription, made in the console, to a receiver on this machine.
  const received = [];
  const receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      received.push({ signature: req.headers["x-webhook-signature"], body });
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => receiver.listen(0, "127.0.0.1", r));
  try {
    await page.getByRole("link", { name: "Webhooks" }).click();
    await checked(page, "webhooks");
    await page.getByLabel("Receiver URL").fill(`http://127.0.0.1:${receiver.address().port}/booking-events`);
    await page.getByLabel("Description").fill("Front desk system");
    await page.getByTestId("create-webhook").click();
    await page.getByTestId("issued-secret").waitFor();
    await checked(page, "a new webhook's secret");
    const secret = await page.getByTestId("secret").inputValue();
    assert.match(secret, /^whsec_/);

    // Patients see the new clinic's offer in its widget and book.
    const patient = await context.newPage();
    await patient.goto(`${server.base}/book/east-side`);
    await hydrated(patient);
    const text = await patient.locator("body").innerText();
    for (const shown of ["East Side Dental", "Check-up", "Cleaning"]) assert.ok(text.includes(shown), `${shown} missing from the widget`);
    await patient.locator("[data-testid=times] button[name=slot]").first().click();
    await patient.waitForURL(/\/book\/east-side\/details\?/);
    await hydrated(patient);
    // Whatever the appointment type asks of the person who books.
    for (const [name, value] of [["firstname", "Pat"], ["lastname", "Patient"], ["email", "pat@example.org"], ["phone", "+1 212 555 0199"], ["dob", "1990-04-05"]]) {
      const input = patient.locator(`input[name="booker[${name}]"]`);
      if (await input.count()) await input.fill(value);
    }
    await patient.getByTestId("confirm").click();
    await patient.waitForURL(/done=booked/);

    // A bot books through the API with the credential made in the console.
    const auth = { authorization: `Basic ${Buffer.from(`east-bot:${key}`).toString("base64")}` };
    const from = new Date(server.now().getTime() + 3 * 86400000).toISOString().slice(0, 10);
    const to = new Date(server.now().getTime() + 17 * 86400000).toISOString().slice(0, 10);
    const type = calendars[1].appointmentTypes[0].id;
    const availability = await (await fetch(`${server.base}/api/v1/availability?calendar_id=${calendars[1].id}&appointment_type_id=${type}&from=${from}&to=${to}`, { headers: auth })).json();
    const slot = availability.days.flatMap((d) => d.slots)[0];
    const booked = await fetch(`${server.base}/api/v1/appointments`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ slotId: slot.slotId, patient: { firstName: "Bo", lastName: "Bot", dob: "1980-02-03", phone: "+1 212 555 0100", email: "bo@example.org" } }),
    });
    assert.equal(booked.status, 201, await booked.text());

    // The receiver gets both bookings, signed with the secret the console showed once.
    for (let waited = 0; received.length < 2 && waited < 15000; waited += 100) await new Promise((r) => setTimeout(r, 100));
    assert.equal(received.length, 2, JSON.stringify(received));
    // The vendor's scheme is keyed with the secret's text, exactly as shown.
    for (const r of received) {
      assert.equal(r.signature, `sha256=${createHmac("sha256", secret).update(r.body).digest("hex")}`);
      assert.equal(JSON.parse(r.body).type, "appointmentCreated", r.body);
    }
    const sources = received.map((r) => JSON.parse(r.body).data.source).sort();
    assert.deepEqual(sources, ["bot_api", "widget"], JSON.stringify(received.map((r) => r.body)));

    // The console's delivery log shows both deliveries.
    await page.goto(`${server.base}/admin/webhooks`);
    await page.getByRole("link", { name: /booking-events/ }).click();
    await page.getByTestId("attempt").nth(1).waitFor();
    await checked(page, "a webhook's delivery log");
  } finally {
    await new Promise((r) => receiver.close(r));
  }
  assert.deepEqual(errors, []);
  await context.close();
});

test("the demo owner's console reads in German and fits a phone", async () => {
  const context = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: "de-DE" });
  const page = await context.newPage();
  await page.goto(`${server.base}/admin/login`);
  assert.equal(await page.locator("h1").textContent(), "Anmeldung zur Praxis-Verwaltung");
  await page.getByLabel("E-Mail-Adresse").fill("owner@demo.example");
  await page.getByLabel("Passwort").fill(DEMO_OWNER_PASSWORD);
  await page.getByTestId("sign-in").click();
  await page.waitForURL(`${server.base}/admin`);
  await page.getByRole("link", { name: "My account" }).click();
  await page.getByLabel("Language", { exact: true }).selectOption("de");
  await page.getByTestId("save-language").click();
  await page.waitForURL(/done=language/);
  await page.getByRole("link", { name: "Einstellungen" }).click();
  await checked(page, "settings in German");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  await context.close();
});
