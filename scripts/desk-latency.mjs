// How long a booking takes to reach open desks: 20 desks follow `/desk/events` on one server
// instance while bookings are made one after another through the bot API, on SQLite (one
// instance; its follower reads the outbox four times a second) and on PostgreSQL (the desks on
// instance A, the bookings on instance B; LISTEN/NOTIFY). Each figure is the time from the
// booking request to the moment the last of the 20 desks has its `change` event (on PostgreSQL
// the desks often hear of a booking before its own response arrives: NOTIFY fires on commit).
// Run with `make desk-latency` (builds first); needs PostgreSQL (scripts/postgres.sh).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { binary, root, serve } from "./release-server.mjs";

const key = "bk_latency_key";
const password = "latency stadtpark key 42";
const DESKS = 20;
const BOOKINGS = 60;

async function signIn(base) {
  const res = await fetch(`${base}/api/admin_sign_in`, {
    method: "POST",
    redirect: "manual",
    headers: { origin: base, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ email: "owner@demo.example", password, next: "" }),
  });
  const cookie = (res.headers.getSetCookie() || []).map((c) => c.split(";")[0]).find((c) => c.startsWith("booking_staff="));
  if (!cookie) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
  return cookie;
}

/// One desk's stream: resolves `next()` on each `change` event.
async function desk(base, cookie) {
  const res = await fetch(`${base}/desk/events`, { headers: { cookie } });
  if (res.status !== 200) throw new Error(`desk stream: ${res.status}`);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = "";
  let waiting = [];
  let changes = 0;
  (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      let end;
      while ((end = buf.indexOf("\n\n")) >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        if (/^event:\s*change/m.test(block)) {
          changes++;
          const now = performance.now();
          waiting.forEach((w) => w(now));
          waiting = [];
        }
      }
    }
  })();
  return {
    next: () => new Promise((resolve) => waiting.push(resolve)),
    close: () => reader.cancel(),
    changes: () => changes,
  };
}

async function slotsOf(base) {
  const headers = { authorization: "Basic " + Buffer.from(`demo:${key}`).toString("base64") };
  const { calendars } = await (await fetch(`${base}/api/v1/calendars`, { headers })).json();
  const slots = [];
  const today = new Date();
  for (const cal of calendars.filter((c) => c.appointmentTypes[0].name === "Consultation")) {
    for (let m = 0; m < 2 && slots.length < BOOKINGS * 2; m++) {
      const month = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() + m, 1)).toISOString().slice(0, 7);
      const a = await (await fetch(`${base}/api/v1/availability?calendar_id=${cal.id}&appointment_type_id=${cal.appointmentTypes[0].id}&month=${month}`, { headers })).json();
      for (const day of a.days) for (const s of day.slots) slots.push(s.slotId);
    }
  }
  return slots;
}

async function measure(label, deskBase, bookBase) {
  const cookie = await signIn(deskBase);
  const desks = await Promise.all(Array.from({ length: DESKS }, () => desk(deskBase, cookie)));
  await new Promise((r) => setTimeout(r, 1000)); // past each stream's first `sync`
  const slots = await slotsOf(bookBase);
  const headers = { authorization: "Basic " + Buffer.from(`demo:${key}`).toString("base64"), "content-type": "application/json" };
  const times = [];
  const answers = [];
  for (let i = 0; i < BOOKINGS; i++) {
    const heard = desks.map((d) => d.next());
    const sent = performance.now();
    const res = await fetch(`${bookBase}/api/v1/appointments`, {
      method: "POST",
      headers,
      body: JSON.stringify({ slotId: slots[i * 2], patient: { firstName: "Lat", lastName: `Ency${i}`, dob: "1980-01-01", phone: "+49 30 5550100", email: "lat@example.org" } }),
    });
    const booked = performance.now();
    if (res.status !== 201) throw new Error(`booking ${i}: ${res.status} ${await res.text()}`);
    const last = Math.max(...(await Promise.all(heard)));
    times.push(last - sent);
    answers.push(booked - sent);
    await new Promise((r) => setTimeout(r, 50 + Math.random() * 200));
  }
  desks.forEach((d) => d.close());
  const at = (list, q) => {
    const sorted = [...list].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))].toFixed(1);
  };
  console.log(
    `${label}, ${BOOKINGS} bookings: from the booking request to the last of ${DESKS} desks p50 ${at(times, 0.5)} ms, ` +
      `p90 ${at(times, 0.9)} ms, max ${at(times, 1)} ms (the booking's own response: p50 ${at(answers, 0.5)} ms)`,
  );
}

const common = {
  ...process.env,
  LEPTOS_SITE_ADDR: "127.0.0.1:0",
  LEPTOS_SITE_ROOT: "target/site",
  BOOKING_DEMO_API_KEY: key,
  BOOKING_DEMO_OWNER_PASSWORD: password,
  BOOKING_API_RATE_LIMIT: "4000000000",
  BOOKING_MAIL_DIR: join(tmpdir(), `booking-desk-latency-mail-${process.pid}`),
  RUST_LOG: "warn",
};

// SQLite: one instance.
{
  const work = mkdtempSync(join(tmpdir(), "booking-latency-"));
  const env = { ...common, DATABASE_URL: `sqlite://${work}/booking.db?mode=rwc` };
  execFileSync(binary, ["seed-demo"], { env, cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  const a = serve(env);
  await measure("SQLite, one instance", await a.base, await a.base);
  a.child.kill("SIGTERM");
  rmSync(work, { recursive: true, force: true });
}

// PostgreSQL: desks on instance A, bookings on instance B.
{
  const admin = execFileSync(join(root, "scripts/postgres.sh"), ["url"], { encoding: "utf8" }).trim();
  const name = `booking_latency_${process.pid}`;
  execFileSync("psql", [admin, "-qc", `CREATE DATABASE ${name}`]);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  const env = { ...common, DATABASE_URL: url.toString() };
  try {
    execFileSync(binary, ["seed-demo"], { env, cwd: root, stdio: ["ignore", "ignore", "inherit"] });
    const a = serve(env);
    const b = serve(env);
    await measure("PostgreSQL, desks on A, bookings on B", await a.base, await b.base);
    a.child.kill("SIGTERM");
    b.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    execFileSync("psql", [admin, "-qc", `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]);
  }
}
process.exit(0);
