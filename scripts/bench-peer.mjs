// The peer availability workload (`make bench-peer`): 20 providers, 14 days, 10,000 busy
// 30-minute intervals, 30-minute slots every 15 minutes, any provider. Each dataset is loaded
// into a fresh clinic through a clinic file (`server clinic apply`; the busy intervals become
// schedule blocks), the 14-day any-provider availability is checked against the dataset's
// independently computed slots (every slot, every free provider), and then that request is
// measured over HTTP against the release server on SQLite: sequentially (p50, p99) and with
// 16 clients (requests a second), beside /healthz measured in the same run.
//
// The datasets are read from PEER_WORKLOAD_DIR, by default ../shared/peer-workload beside the
// checkout. The server's clock is set to the day before each window, so that the figures do
// not depend on the day they are taken.
import autocannon from "autocannon";
import { execFileSync } from "node:child_process";
import http from "node:http";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

import { binary, root, serve, sqliteEnv } from "./release-server.mjs";

const dir = resolve(process.env.PEER_WORKLOAD_DIR ?? join(root, "..", "shared", "peer-workload"));
if (!existsSync(dir)) throw new Error(`no peer workload at ${dir}: set PEER_WORKLOAD_DIR to the folder with the dataset files`);
const files = readdirSync(dir).filter((f) => f.endsWith(".json")).sort();
if (files.length === 0) throw new Error(`no dataset (*.json) in ${dir}`);

const key = "bk_peer_bench_key_0123456789";
const toml = (s) => JSON.stringify(s);
const iso = (t) => new Date(t).toISOString().replace(/\.000Z$/, "+00:00");

function clinicFile(ds) {
  const days = ds.availability_local.weekdays.map((d) => d.toLowerCase());
  const lines = [
    `slug = "peer"`,
    `name = "Peer workload"`,
    `time_zone = ${toml(ds.timezone)}`,
    "",
    "[booking]",
    "minimum_notice_minutes = 0",
    // The server's clock is a day before the window: this reaches past its end.
    `horizon_days = ${ds.days + 2}`,
    "",
    "[locations.main]",
    `name = "Main"`,
    `address = "Main street 1"`,
    `time_zone = ${toml(ds.timezone)}`,
    "",
    "[services.visit]",
    `name = "Visit"`,
    `duration_minutes = ${ds.query.duration_min}`,
    "",
    "[products.visit]",
    `service = "visit"`,
    `name = "Visit"`,
    `duration_minutes = ${ds.query.duration_min}`,
    `step_minutes = ${ds.query.interval_min}`,
    `price = "0.00"`,
    `currency = "EUR"`,
  ];
  for (const user of ds.users) {
    const busy = ds.events.filter((e) => e.user_index === user.index);
    lines.push(
      "",
      `[providers.p${String(user.index).padStart(2, "0")}]`,
      `name = "Provider ${String(user.index).padStart(2, "0")}"`,
      `services = ["visit"]`,
      "hours = [",
      ...ds.availability_local.intervals.map(([start, end]) => `  { location = "main", days = ${toml(days)}, start = ${toml(start)}, end = ${toml(end)} },`),
      "]",
      "blocks = [",
      ...busy.map((e) => `  { start = ${toml(iso(e.start_utc))}, end = ${toml(iso(e.end_utc))} },`),
      "]",
    );
  }
  return lines.join("\n") + "\n";
}

const quantile = (sorted, q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

const load = (url, headers) =>
  new Promise((done, fail) => autocannon({ url, connections: 16, duration: 10, headers }, (err, r) => (err ? fail(err) : done(r))));

const report = [];
for (const file of files) {
  const ds = JSON.parse(readFileSync(join(dir, file), "utf8"));
  const work = mkdtempSync(join(tmpdir(), "booking-peer-"));
  const env = sqliteEnv(work, { BOOKING_API_RATE_LIMIT: "4000000000" });
  const clock = ["--test-clock", new Date(Date.parse(ds.window_start_utc) - 86_400_000).toISOString()];
  const path = join(work, "peer.toml");
  writeFileSync(path, clinicFile(ds));
  const started = performance.now();
  execFileSync(binary, [...clock, "clinic", "apply", path, "--owner-email", "owner@peer.example"], { env, cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  const applied = performance.now() - started;
  const created = execFileSync(binary, [...clock, "credentials", "create", "peer", "peer-bench"], { env, cwd: root, encoding: "utf8" });
  const issued = created.match(/bk_[A-Za-z0-9_]+/)?.[0];
  if (!issued) throw new Error(`no key in: ${created}`);

  const server = serve(env, clock);
  const base = await server.base;
  const headers = { authorization: "Basic " + Buffer.from(`peer-bench:${issued}`).toString("base64") };
  const get = async (p) => {
    const res = await fetch(base + p, { headers });
    if (!res.ok) throw new Error(`${p}: ${res.status} ${await res.text()}`);
    return res.json();
  };

  // Who is who: the calendars carry the providers' names, which carry the dataset's indices.
  const { calendars } = await get("/api/v1/calendars");
  const indexOf = new Map(calendars.map((c) => [c.id, Number(c.name.replace("Provider ", ""))]));
  const type = calendars[0].appointmentTypes[0].id;
  const query = `/api/v1/availability?calendar_id=any&appointment_type_id=${type}&from=${ds.start_date}&to=${ds.end_date}`;

  // Every slot and every free provider, exactly.
  const answer = await get(query);
  const got = new Map();
  for (const day of answer.days) {
    for (const s of day.slots) {
      const at = new Date(s.start).toISOString();
      if (!got.has(at)) got.set(at, []);
      got.get(at).push(indexOf.get(s.calendarId));
    }
  }
  const expected = new Map(ds.expected_slots.map((s) => [new Date(s.start_utc).toISOString(), [...s.user_indices].sort((a, b) => a - b)]));
  const problems = [];
  for (const [at, users] of expected) {
    const mine = (got.get(at) ?? []).sort((a, b) => a - b);
    if (mine.join() !== users.join()) problems.push(`${at}: expected providers ${users.join(",")}, got ${mine.join(",") || "none"}`);
  }
  for (const at of got.keys()) if (!expected.has(at)) problems.push(`${at}: offered, but no provider is free then`);
  if (problems.length) {
    await server.stop();
    throw new Error(`${file}: ${problems.length} slots differ from the expected ones:\n${problems.slice(0, 20).join("\n")}`);
  }
  const pairs = [...got.values()].reduce((n, u) => n + u.length, 0);

  // Sequential latency over HTTP (after a warm-up): from sending the request to the last byte
  // of the answer on one kept-alive connection (node:http, as lean as wrk's or autocannon's
  // clients; fetch adds ~1 ms of its own per answer of this size). Once as sent to a client
  // that does not ask for compression, once gzip-compressed (the client does not inflate it).
  // Then 16 clients, then /healthz.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const fetchBody = (extra) =>
    new Promise((done, fail) => {
      const req = http.get(base + query, { agent, headers: { ...headers, ...extra } }, (res) => {
        if (res.statusCode !== 200) fail(new Error(`${query}: ${res.statusCode}`));
        // The figures name an encoding: the answer must have come in it.
        const wanted = extra["accept-encoding"] === "gzip" ? "gzip" : undefined;
        if (res.headers["content-encoding"] !== wanted) fail(new Error(`asked for ${wanted ?? "no"} compression, got ${res.headers["content-encoding"] ?? "none"}`));
        let bytes = 0;
        res.on("data", (chunk) => (bytes += chunk.length));
        res.on("end", () => done(bytes));
      });
      req.on("error", fail);
    });
  const sequential = async (extra) => {
    for (let i = 0; i < 50; i++) await fetchBody(extra);
    const times = [];
    for (let i = 0; i < 500; i++) {
      const t = performance.now();
      await fetchBody(extra);
      times.push(performance.now() - t);
    }
    return times.sort((a, b) => a - b);
  };
  const plain = await sequential({ "accept-encoding": "identity" });
  const times = await sequential({ "accept-encoding": "gzip" });
  agent.destroy();
  // Compressed as for fetch: what a client that accepts gzip costs the server.
  const parallel = await load(base + query, { ...headers, "accept-encoding": "gzip, deflate" });
  const healthz = await load(base + "/healthz", {});
  await server.stop();
  rmSync(work, { recursive: true, force: true });
  report.push({
    dataset: file,
    slots: `${expected.size} times, ${pairs} provider slots: all as expected`,
    "load (clinic apply)": `${(applied / 1000).toFixed(1)} s`,
    answer: `${(JSON.stringify(answer).length / 1024).toFixed(0)} KiB of JSON`,
    "sequential p50": `${quantile(plain, 0.5).toFixed(2)} ms uncompressed, ${quantile(times, 0.5).toFixed(2)} ms gzip`,
    "sequential p99": `${quantile(plain, 0.99).toFixed(2)} ms uncompressed, ${quantile(times, 0.99).toFixed(2)} ms gzip`,
    "16 clients": `${Math.round(parallel.requests.average).toLocaleString("en")}/s (p99 ${parallel.latency.p99} ms, ${parallel.non2xx} errors)`,
    "share of /healthz": `${((100 * parallel.requests.average) / healthz.requests.average).toFixed(1)} % of ${Math.round(healthz.requests.average).toLocaleString("en")}/s`,
  });
}
for (const r of report) {
  console.log(`\n${r.dataset}`);
  for (const [k, v] of Object.entries(r)) if (k !== "dataset") console.log(`  ${k.padEnd(22)} ${v}`);
}
console.log("\npeer (nittei, same workload, 2 cores): sequential p50 45 ms, p99 65 ms; 16 clients 20-33/s");
