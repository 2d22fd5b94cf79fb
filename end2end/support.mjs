// Starts the release server on a free port with a fresh SQLite database and the demo clinic,
// and launches headless Chromium. Everything is real: binary, database, HTTP, browser.
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const root = resolve(import.meta.dirname, "..");
const binary = join(root, "target/release/server");

export async function startServer() {
  const dir = mkdtempSync(join(tmpdir(), "booking-e2e-"));
  const env = {
    ...process.env,
    DATABASE_URL: `sqlite://${join(dir, "booking.db")}?mode=rwc`,
    LEPTOS_SITE_ADDR: "127.0.0.1:0",
    LEPTOS_SITE_ROOT: join(root, "target/site"),
    BOOKING_DEMO_API_KEY: "bk_e2e_demo_key",
    RUST_LOG: "warn",
  };
  execFileSync(binary, ["seed-demo"], { env, cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  const child = spawn(binary, ["serve"], { env, cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  const base = await new Promise((resolveBase, reject) => {
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
  return {
    base,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.on("exit", r)));
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
