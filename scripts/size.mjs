// Reports what a browser downloads for the booking page: wasm, js and css under
// target/site/pkg, raw and brotli-compressed (quality 11, what a CDN or pre-compression uses).
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
