// Reports what a browser downloads for the booking page, as the release server sends it: the
// page, then every file it asks for (read from its HTML: the build names them by content),
// first as files (raw, gzip -9, brotli 11), then as responses (bytes on the wire, encoding and
// cache header). Over the budget on the wire fails.
import { readFileSync } from "node:fs";
import http from "node:http";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { demoServer, root } from "./release-server.mjs";

// The widget's budget: the page, its wasm, js and css, and the frame script, compressed.
const budget = 170 * 1024;
const kb = (n) => `${(n / 1024).toFixed(1)} KiB`.padStart(11);

const server = await demoServer("size");
const base = server.base;
const wire = (path) =>
  new Promise((resolve, reject) => {
    http.get(`${base}${path}`, { headers: { "accept-encoding": "br, gzip" } }, (res) => {
      let bytes = 0;
      const chunks = [];
      res.on("data", (c) => { bytes += c.length; chunks.push(c); });
      res.on("end", () => resolve({ status: res.statusCode, bytes, encoding: res.headers["content-encoding"] ?? "none", cache: res.headers["cache-control"] ?? "-", body: Buffer.concat(chunks) }));
    }).on("error", reject);
  });
try {
  const page = await wire("/book/demo");
  if (page.status !== 200) throw new Error(`/book/demo: ${page.status}`);
  const { brotliDecompressSync, gunzipSync } = await import("node:zlib");
  const html = (page.encoding === "br" ? brotliDecompressSync(page.body) : page.encoding === "gzip" ? gunzipSync(page.body) : page.body).toString();
  const assets = [...new Set(html.match(/\/pkg\/[A-Za-z0-9._-]+\.(?:wasm|js|css)/g) ?? [])].sort();
  for (const kind of ["wasm", "js", "css"]) {
    if (!assets.some((a) => a.endsWith(`.${kind}`))) throw new Error(`the page asks for no .${kind} file: ${assets.join(", ")}`);
  }
  assets.push("/frame.js");

  console.log(`${"file".padEnd(34)}${"raw".padStart(11)}${"gzip -9".padStart(11)}${"brotli 11".padStart(11)}`);
  for (const a of assets) {
    const data = readFileSync(join(root, "target/site", a));
    const br = brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
    console.log(`${a.padEnd(34)}${kb(data.length)}${kb(gzipSync(data, { level: 9 }).length)}${kb(br)}`);
  }

  // Files without a build-time compression are compressed in the background on their first
  // request: ask once, wait, then measure.
  for (const a of assets) await wire(a);
  await new Promise((r) => setTimeout(r, 3000));
  const rows = [["/book/demo (html)", page]];
  for (const a of assets) rows.push([a, await wire(a)]);
  const total = rows.reduce((sum, [, r]) => sum + r.bytes, 0);
  console.log(`\nover the wire (accept-encoding: br, gzip), as the release server sends it:`);
  for (const [name, r] of rows) console.log(`${name.padEnd(34)}${kb(r.bytes)}  ${r.encoding.padEnd(5)} ${r.cache}`);
  console.log(`${"total".padEnd(34)}${kb(total)}   budget ${kb(budget).trim()}`);
  if (total > budget) {
    console.error(`over budget on the wire by ${((total - budget) / 1024).toFixed(1)} KiB`);
    process.exitCode = 1;
  }
} finally {
  await server.stop();
}
