// The release server for the measuring scripts (load, size, desk latency): `serve` starts
// `target/release/server [args] serve` with `env` and resolves to its base URL once it listens;
// `sqliteEnv` is the environment for a database in a folder; `demoServer` serves the demo clinic
// from a fresh SQLite database.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const root = join(import.meta.dirname, "..");
export const binary = join(root, "target/release/server");

export function serve(env, args = []) {
  const child = spawn(binary, [...args, "serve"], { env, cwd: root, stdio: ["ignore", "pipe", "inherit"] });
  process.on("exit", () => child.kill("SIGTERM"));
  const base = new Promise((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d) => {
      out += d;
      const m = out.match(/listening on (http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    child.on("exit", (code) => reject(new Error(`server exited with ${code}`)));
  });
  const stop = async () => {
    child.kill("SIGTERM");
    await new Promise((r) => (child.exitCode !== null ? r() : child.on("exit", r)));
  };
  return { child, base, stop };
}

/// The environment of a release server on the SQLite database in folder `work`, on a free
/// port, logging warnings only; `extra` adds or overrides variables.
export function sqliteEnv(work, extra = {}) {
  return {
    ...process.env,
    DATABASE_URL: `sqlite://${work}/booking.db?mode=rwc`,
    LEPTOS_SITE_ADDR: "127.0.0.1:0",
    LEPTOS_SITE_ROOT: "target/site",
    // Patient e-mails (written as files without an SMTP server) stay in the folder too.
    BOOKING_MAIL_DIR: `${work}/mail`,
    RUST_LOG: "warn",
    ...extra,
  };
}

/// The release server on a fresh SQLite database seeded with the demo clinic: resolves to
/// { base, stop } once it listens; `stop` also removes the database.
export async function demoServer(name) {
  const work = mkdtempSync(join(tmpdir(), `booking-${name}-`));
  const env = sqliteEnv(work);
  execFileSync(binary, ["seed-demo"], { env, cwd: root, stdio: "ignore" });
  const server = serve(env);
  return {
    base: await server.base,
    async stop() {
      await server.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}
