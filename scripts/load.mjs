// Load figures against the release server on SQLite: a static JSON route (the ceiling on this
// machine), the bot API's availability for one day and one month, the booking page, and
// bookings of distinct slots. Run with `make load` (builds first). The server and the load generator share the
// machine, so the figures are a floor for a dedicated server.
import autocannon from "autocannon";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { binary, root, serve, sqliteEnv } from "./release-server.mjs";

const work = mkdtempSync(join(tmpdir(), "booking-load-"));
const key = "bk_load_test_key";
const env = sqliteEnv(work, { BOOKING_DEMO_API_KEY: key, BOOKING_API_RATE_LIMIT: "4000000000" });
execFileSync(binary, ["seed-demo"], { env, cwd: root, stdio: "ignore" });
const server = serve(env);
const base = await server.base;
const auth = "Basic " + Buffer.from(`demo:${key}`).toString("base64");
const headers = { authorization: auth, "content-type": "application/json" };
const api = async (path, init = {}) => {
  const res = await fetch(base + path, { ...init, headers });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return res.json();
};

const { calendars } = await api("/api/v1/calendars");
const today = new Date();
const first = calendars.find((c) => c.name === "Dr. Anna Weber");
const type = first.appointmentTypes[0].id;
// The patient every booking is for (first visits take longer: book theirs with a physio slot).
const physio = calendars.find((c) => c.name === "Sophie Wagner");
const firstVisit = await api(`/api/v1/availability?calendar_id=${physio.id}&appointment_type_id=${physio.appointmentTypes[0].id}&month=${new Date(Date.now() + 35 * 86_400_000).toISOString().slice(0, 7)}&new_patient=true`);
const patient = await api("/api/v1/appointments", {
  method: "POST",
  body: JSON.stringify({ slotId: firstVisit.days[0].slots[0].slotId, patient: { name: "Load Tester", dob: "1970-01-01", phone: "+49 30 1111111", email: "load@example.org" } }),
});
const temporaryPatientId = patient?.temporaryPatientId;
if (!temporaryPatientId) throw new Error("could not create the load test patient");
const dayWithSlots = (await api(`/api/v1/availability?calendar_id=${first.id}&appointment_type_id=${type}&month=${today.toISOString().slice(0, 7)}`)).days.at(-1)?.date
  ?? new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10);

// autocannon ends a run, and measures its duration, on a whole-second tick: the run's rate is
// taken from its own clock instead, from the start to the last response.
const run = (title, opts) =>
  new Promise((resolve, reject) => {
    const start = performance.now();
    let last = start;
    const instance = autocannon({ url: base, connections: 16, headers, ...(opts.amount ? {} : { duration: 10 }), ...opts }, (err, r) =>
      err ? reject(err) : resolve({ title, r, seconds: (last - start) / 1000 }),
    );
    instance.on("response", () => {
      last = performance.now();
    });
  });

const results = [];
results.push(await run("static JSON (GET /healthz)", { requests: [{ method: "GET", path: "/healthz" }] }));
results.push(await run("availability, one day", { requests: [{ method: "GET", path: `/api/v1/availability?calendar_id=${first.id}&appointment_type_id=${type}&date=${dayWithSlots}` }] }));
const month = new Date(Date.now() + 35 * 86_400_000).toISOString().slice(0, 7);
results.push(await run("availability, one month", { requests: [{ method: "GET", path: `/api/v1/availability?calendar_id=${first.id}&appointment_type_id=${type}&month=${month}` }] }));
// The booking page as patients open it: the first view (which looks for the next free day) and
// a month further on, first with the demo's 90-day horizon, then with a three-year one. A view
// computes only what it shows, so the two horizons should give the same figures.
// Each view twice: as served, where patients asking for the same address within a second get
// the page made for the first of them (server::pages), and by a second server on the same
// database that makes every page anew (BOOKING_PAGE_CACHE_MS=0), the cost of each distinct view.
const rendering = serve({ ...env, BOOKING_PAGE_CACHE_MS: "0" });
const renderBase = await rendering.base;
const pages = async (horizon) => {
  for (const [title, path] of [
    [`booking page, first view (${horizon}-day horizon)`, "/book/demo"],
    [`booking page, a month ahead (${horizon}-day horizon)`, `/book/demo?month=${month}`],
  ]) {
    results.push(await run(title, { headers: {}, requests: [{ method: "GET", path }] }));
    results.push(await run(`${title}, made every time`, { url: renderBase, headers: {}, requests: [{ method: "GET", path }] }));
  }
};
await pages(90);
const file = join(work, "demo.toml");
execFileSync(binary, ["clinic", "export", "demo", "--output", file], { env, cwd: root, stdio: "ignore" });
writeFileSync(file, readFileSync(file, "utf8").replace(/^horizon_days = \d+$/m, "horizon_days = 1096"));
execFileSync(binary, ["clinic", "apply", file], { env, cwd: root, stdio: "ignore" });
await pages(1096);
// Distinct bookable slots: every consultation calendar (30 minutes, no buffer, so slots never
// overlap), over the next twelve months of the three-year horizon: enough bookings that the
// run lasts several seconds.
const slots = [];
for (const cal of calendars.filter((c) => c.appointmentTypes[0].name === "Consultation")) {
  for (let m = 0; m < 12; m++) {
    const d = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() + m, 1));
    const month = d.toISOString().slice(0, 7);
    const a = await api(`/api/v1/availability?calendar_id=${cal.id}&appointment_type_id=${cal.appointmentTypes[0].id}&month=${month}`);
    for (const day of a.days) for (const s of day.slots) slots.push(s.slotId);
  }
}
const total = slots.length;
let next = 0;
results.push(
  await run(`booking (${total} distinct slots, 64 clients)`, {
    amount: total,
    connections: 64,
    requests: [
      {
        method: "POST",
        setupRequest: (req) => ({ ...req, path: "/api/v1/appointments", body: JSON.stringify({ slotId: slots[next++ % total], temporaryPatientId }) }),
      },
    ],
  }),
);

// Each figure also as a share of /healthz measured in the same run, which holds on any machine.
const rate = ({ r, seconds }) => r.requests.total / seconds;
const ceiling = rate(results[0]);
console.log(`\n| scenario | requests/s | of /healthz | p50 ms | p99 ms | 2xx | other |`);
console.log(`|---|---|---|---|---|---|---|`);
for (const result of results) {
  const { title, r } = result;
  const share = `${((100 * rate(result)) / ceiling).toFixed(1)} %`;
  console.log(`| ${title} | ${rate(result).toFixed(0)} | ${share} | ${r.latency.p50} | ${r.latency.p99} | ${r["2xx"]} | ${r.non2xx + r.errors} |`);
}
// The servers' peak resident memory over the whole run (Linux).
for (const [name, { child }] of [["server", server], ["server making every page", rendering]]) {
  try {
    const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
    const peak = Number(status.match(/^VmHWM:\s+(\d+) kB/m)?.[1]);
    if (peak) console.log(`\n${name}: peak resident memory ${(peak / 1024).toFixed(1)} MiB over the run`);
  } catch {
    // not Linux: no figure
  }
}
await rendering.stop();
await server.stop();
rmSync(work, { recursive: true, force: true });
