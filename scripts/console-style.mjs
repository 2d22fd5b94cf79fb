// Builds the console's and the desk's stylesheet (style/console.css) beside the release build's
// own: named by its content (booking-console.<hash>.css under target/site/pkg), with its .br
// (quality 11) and .gz, and its hash added to the build's hash file as `console-css: <hash>`,
// where the server looks for it (app/src/files.rs). Run by scripts/build.sh after cargo-leptos.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const root = join(import.meta.dirname, "..");
const pkg = join(root, "target/site/pkg");
const hashFile = join(root, "target/release/hash.txt");

const work = mkdtempSync(join(tmpdir(), "booking-console-style-"));
try {
  const out = join(work, "console.css");
  execFileSync(join(root, "node_modules/.bin/tailwindcss"), ["--input", join(root, "style/console.css"), "--output", out, "--minify"], {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const css = readFileSync(out);
  const hash = createHash("sha256").update(css).digest("base64url").slice(0, 22);
  const name = `booking-console.${hash}.css`;
  for (const old of readdirSync(pkg).filter((f) => f.startsWith("booking-console.") && !f.startsWith(name))) rmSync(join(pkg, old));
  writeFileSync(join(pkg, name), css);
  writeFileSync(join(pkg, `${name}.br`), brotliCompressSync(css, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }));
  writeFileSync(join(pkg, `${name}.gz`), gzipSync(css, { level: 9 }));
  const lines = readFileSync(hashFile, "utf8").split("\n").filter((l) => l.trim() && !l.startsWith("console-css:"));
  writeFileSync(hashFile, [...lines, `console-css: ${hash}`, ""].join("\n"));
  console.log(`console stylesheet: ${name} (${(css.length / 1024).toFixed(1)} KiB)`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
