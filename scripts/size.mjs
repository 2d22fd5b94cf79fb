// Reports what a browser downloads for the booking page: first the files under target/site/pkg,
// raw and compressed (brotli quality 11, what the server sends), then what a client really
// receives from the release server, page included. Either over the budget fails.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const pkg = join(import.meta.dirname, "..", "target/site/pkg");
const budget = 200 * 1024;
let totalRaw = 0;
let totalBr = 0;
const rows = [];
// The widget page also loads public/frame.js; the clinic's page loads public/embed.js.
const publicDir = join(import.meta.dirname, "..", "public");
const files = readdirSync(pkg)
  .sort()
  .filter((name) => /\.(wasm|js|css)$/.test(name))
  .map((name) => [name, join(pkg, name)])
  .concat([["frame.js", join(publicDir, "frame.js")], ["embed.js", join(publicDir, "embed.js")]]);
for (const [name, path] of files) {
  const data = readFileSync(path);
  const br = brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  const gz = gzipSync(data, { level: 9 }).length;
  totalRaw += data.length;
  totalBr += br;
  rows.push([name, data.length, gz, br]);
}
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`.padStart(11);
console.log(`${"file".padEnd(16)}${"raw".padStart(11)}${"gzip -9".padStart(11)}${"brotli 11".padStart(11)}`);
for (const [name, raw, gz, br] of rows) console.log(`${name.padEnd(16)}${kb(raw)}${kb(gz)}${kb(br)}`);
console.log(`${"total".padEnd(16)}${kb(totalRaw)}${"".padStart(11)}${kb(totalBr)}   budget ${kb(budget).trim()} brotli`);
if (totalBr > budget) {
  console.error(`over budget by ${((totalBr - budget) / 1024).toFixed(1)} KiB`);
  process.exitCode = 1;
}

// What an HTTP client actually receives: the booking page and its files as the release server
// sends them to a browser that accepts brotli (files under /pkg are compressed once, in the
// background, at quality 11: the second request gets that).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import http from "node:http";
import { binary, root, serve } from "./release-server.mjs";

const work = mkdtempSync(join(tmpdir(), "booking-size-"));
const env = {
  ...process.env,
  DATABASE_URL: `sqlite://${work}/booking.db?mode=rwc`,
  LEPTOS_SITE_ADDR: "127.0.0.1:0",
  LEPTOS_SITE_ROOT: "target/site",
  RUST_LOG: "warn",
};
execFileSync(binary, ["seed-demo"], { env, cwd: root, stdio: "ignore" });
const server = serve(env);
const base = await server.base;
const wire = (path) =>
  new Promise((resolve, reject) => {
    http.get(`${base}${path}`, { headers: { "accept-encoding": "br, gzip" } }, (res) => {
      let bytes = 0;
      const chunks = [];
      res.on("data", (c) => { bytes += c.length; chunks.push(c); });
      res.on("end", () => resolve({ status: res.statusCode, bytes, encoding: res.headers["content-encoding"] ?? "none", body: Buffer.concat(chunks) }));
    }).on("error", reject);
  });
try {
  const page = await wire("/book/demo");
  if (page.status !== 200) throw new Error(`/book/demo: ${page.status}`);
  const assets = ["/pkg/booking.wasm", "/pkg/booking.js", "/pkg/booking.css", "/frame.js"];
  for (const a of assets) await wire(a); // the first request starts the stored compression
  await new Promise((r) => setTimeout(r, 3000));
  const rows = [["/book/demo (html)", page]];
  for (const a of assets) rows.push([a, await wire(a)]);
  const total = rows.reduce((sum, [, r]) => sum + r.bytes, 0);
  console.log(`\nover the wire (accept-encoding: br, gzip), as the release server sends it:`);
  for (const [name, r] of rows) console.log(`${name.padEnd(22)}${kb(r.bytes)}  ${r.encoding}`);
  console.log(`${"total".padEnd(22)}${kb(total)}   budget ${kb(budget).trim()}`);
  if (total > budget) {
    console.error(`over budget on the wire by ${((total - budget) / 1024).toFixed(1)} KiB`);
    process.exitCode = 1;
  }
} finally {
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}
