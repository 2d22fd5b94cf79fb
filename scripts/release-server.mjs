// The release server for the measuring scripts (load, size, desk latency): `serve` starts
// `target/release/server [args] serve` with `env` and resolves to its base URL once it listens.
import { spawn } from "node:child_process";
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
