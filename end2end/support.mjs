// Starts the release server on a free port with a fresh SQLite database and the demo clinic,
// and launches headless Chromium. Everything is real: binary, database, HTTP, browser.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const root = resolve(import.meta.dirname, "..");
const binary = join(root, "target/release/server");

/// The key the test server signs manage links with (32 bytes, base64), so tests can forge
/// expired ones.
export const LINK_SECRET = "ZTJlIGxpbmsga2V5LCBub3QgZm9yIHByb2R1Y3Rpb24h";

/// The demo owner's console password on the test server.
export const DEMO_OWNER_PASSWORD = "e2e stadtpark garden key";

/// Runs axe-core (the accessibility checker) on the page; returns its violations of WCAG 2.1
/// A and AA rules as "rule: target" lines.
export async function accessibilityProblems(page) {
  await page.addScriptTag({ path: join(root, "node_modules/axe-core/axe.min.js") });
  const result = await page.evaluate(() =>
    window.axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
  );
  return result.violations.flatMap((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(" ")} (${v.help})`));
}

/// The instants the suites run as of: scripts/test-dates, [{ name, at }].
export function testDates() {
  return readFileSync(join(root, "scripts/test-dates"), "utf8")
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => {
      const [name, at] = l.split(/\s+/);
      return { name, at };
    });
}

/// The instant this run of the suite starts at, as BOOKING_TEST_NOW says (a name from
/// scripts/test-dates, an ISO 8601 instant, or `real`); unset, the first test date. `null`
/// means the machine's clock.
export function testStart() {
  const wanted = (process.env.BOOKING_TEST_NOW || "").trim() || testDates()[0].name;
  if (wanted === "real") return null;
  const at = testDates().find((d) => d.name === wanted)?.at ?? wanted;
  const ms = Date.parse(at);
  if (Number.isNaN(ms)) throw new Error(`BOOKING_TEST_NOW=${wanted} is neither real, a test date nor an instant`);
  return ms;
}

/// A clock that reads `start` (ms since the epoch, or null for the machine's clock) now and
/// runs on: the server is started with what it reads, so test and server agree on the time.
export function clockFrom(start) {
  const offset = start === null ? 0 : start - Date.now();
  return () => new Date(Date.now() + offset);
}

export async function startServer({ embedOrigins = [], start = testStart(), env: extraEnv = {} } = {}) {
  const now = clockFrom(start);
  // Every command runs as of the suite's date; a real-date run passes no clock at all.
  const clockArgs = () => (start === null ? [] : [`--test-clock=${now().toISOString()}`]);
  const dir = mkdtempSync(join(tmpdir(), "booking-e2e-"));
  const database = join(dir, "booking.db");
  const env = {
    ...process.env,
    DATABASE_URL: `sqlite://${database}?mode=rwc`,
    BOOKING_LINK_SECRET: LINK_SECRET,
    LEPTOS_SITE_ADDR: "127.0.0.1:0",
    LEPTOS_SITE_ROOT: join(root, "target/site"),
    BOOKING_DEMO_API_KEY: "bk_e2e_demo_key",
    BOOKING_DEMO_OWNER_PASSWORD: DEMO_OWNER_PASSWORD,
    // Without an SMTP server, patient e-mails are written here (never into the checkout).
    BOOKING_MAIL_DIR: join(dir, "mail"),
    RUST_LOG: "warn",
    ...extraEnv,
  };
  execFileSync(binary, ["seed-demo", ...clockArgs()], { env, cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  if (embedOrigins.length) {
    execFileSync(binary, ["embed-origins", "demo", ...embedOrigins, ...clockArgs()], { env, cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  }
  // Serves on `addr`: any free port at first, the same one again after a restart.
  const launch = (addr) => {
    const child = spawn(binary, ["serve", ...clockArgs()], { env: { ...env, LEPTOS_SITE_ADDR: addr }, cwd: root, stdio: ["ignore", "pipe", "inherit"] });
    const started = new Promise((resolveBase, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error(`server did not start: ${out}`)), 30_000);
      child.on("exit", (code) => reject(new Error(`server exited with ${code}: ${out}`)));
      child.stdout.on("data", (chunk) => {
        out += chunk;
        const m = out.match(/listening on (http:\/\/[\d.]+:\d+)/);
        if (m) {
          clearTimeout(timer);
          resolveBase(m[1]);
        }
      });
    });
    return { child, started };
  };
  const stopChild = async (c, signal = "SIGTERM") => {
    c.kill(signal);
    await new Promise((r) => (c.exitCode !== null ? r() : c.on("exit", r)));
  };
  let { child, started } = launch("127.0.0.1:0");
  const base = await started;
  return {
    base,
    /// Now, as the server sees it (a Date).
    now,
    /// Runs a command of the server binary on the server's database, as of the suite's date;
    /// returns what it printed.
    cli(args, extraEnv = {}) {
      return execFileSync(binary, [...args, ...clockArgs()], { env: { ...env, ...extraEnv }, cwd: root, encoding: "utf8" });
    },
    /// Runs one SQL query against the server's database and returns its rows (tab-separated).
    sql(query) {
      return execFileSync("sqlite3", ["-separator", "\t", database, query], { encoding: "utf8" })
        .trim()
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => l.split("\t"));
    },
    /// Stops the server (SIGTERM, or `signal`: SIGKILL for a crash), runs `whileDown` (e.g. a
    /// CLI command on its database), and starts it again on the same address and database.
    async restart(whileDown = async () => {}, signal = "SIGTERM") {
      await stopChild(child, signal);
      await whileDown();
      ({ child, started } = launch(base.replace("http://", "")));
      await started;
    },
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/// An SMTP server that keeps what it accepts (scripts/smtp-sink.py, aiosmtpd): recipients whose
/// local part starts with `reject` are refused for good (550), `later` for now (451).
export async function startSmtpSink() {
  const dir = mkdtempSync(join(tmpdir(), "booking-smtp-"));
  let child;
  let port = 0;
  const run = async () => {
    child = spawn("python3", [join(root, "scripts/smtp-sink.py"), dir, String(port)], { stdio: ["ignore", "pipe", "inherit"] });
    port = await new Promise((resolvePort, reject) => {
      let out = "";
      child.on("exit", (code) => reject(new Error(`the SMTP sink exited with ${code}: ${out}`)));
      child.stdout.on("data", (chunk) => {
        out += chunk;
        const m = out.match(/listening on 127\.0\.0\.1:(\d+)/);
        if (m) resolvePort(Number(m[1]));
      });
    });
  };
  const halt = async () => {
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  };
  await run();
  return {
    url: () => `smtp://127.0.0.1:${port}`,
    /// Every message kept so far, parsed: [{ to, subject, text, html, messageId, ics }].
    async messages() {
      const { default: PostalMime } = await import("postal-mime");
      const files = readdirSync(dir).filter((f) => f.endsWith(".eml")).sort();
      return Promise.all(
        files.map(async (f) => {
          const m = await PostalMime.parse(readFileSync(join(dir, f)));
          const ics = m.attachments.find((a) => a.filename === "appointment.ics");
          return {
            to: m.to?.[0]?.address,
            subject: m.subject,
            text: m.text,
            html: m.html,
            messageId: m.messageId,
            ics: ics ? new TextDecoder().decode(ics.content) : null,
          };
        }),
      );
    },
    /// Waits until `done(messages)` holds.
    async waitFor(done, what, ms = 20_000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const got = await this.messages();
        if (done(got)) return got;
        if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}: ${JSON.stringify(got.map((m) => [m.to, m.subject]))}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    /// Stops the server, as if the mail host went down; `start` brings it back on its port.
    stop: halt,
    start: run,
    async close() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    // playwright gives every launch a fresh, temporary --user-data-dir.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/// The bookable times as rendered: [{ datetime, label }].
export async function timesOn(page) {
  return page.$$eval("[data-testid=times] time", (els) =>
    els.map((e) => ({ datetime: e.getAttribute("datetime"), label: e.textContent.trim() })),
  );
}

export function timesInHtml(html) {
  return [...html.matchAll(/<time datetime="([^"]+)"/g)].map((m) => m[1]);
}

/// Serves one HTML page on a free port of 127.0.0.1: another origin than the booking server.
export async function startHostPage(html) {
  const { createServer } = await import("node:http");
  const server = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(typeof html === "function" ? html() : html);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const origin = `http://127.0.0.1:${server.address().port}`;
  return { origin, stop: () => new Promise((r) => server.close(r)) };
}

/// Waits until the WASM has taken the page over.
export async function hydrated(page) {
  // The marker is a hidden element: attached, never visible.
  await page.waitForSelector('[data-hydrated="true"]', { state: "attached", timeout: 30_000 });
}

/// Fills the booking form for an adult patient booking for themselves.
export async function fillPatient(scope, { first = "Jürgen", last = "Müller", phone = "+49 30 1234567" } = {}) {
  const field = (name) => scope.locator(`input[name="booker[${name}]"]`);
  await field("firstname").fill(first);
  await field("lastname").fill(last);
  await field("phone").fill(phone);
  await field("email").fill("j.mueller@example.org");
  await field("dob").fill("1985-07-25");
}
