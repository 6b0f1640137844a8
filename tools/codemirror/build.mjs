// Bundles entry.mjs into static/vendor/codemirror/codemirror.min.js (one minified IIFE, no CDN), and writes
// its VERSION (the packages bundled, from package-lock.json) and LICENSE (CodeMirror's MIT licence).
//   cd tools/codemirror && npm ci && npm run build
import { build } from "esbuild";
import { readFileSync, readdirSync, writeFileSync, mkdirSync, statSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "..", "static", "vendor", "codemirror");
mkdirSync(out, { recursive: true });

const result = await build({
  metafile: true,
  entryPoints: [join(here, "entry.mjs")],
  bundle: true,
  minify: true,
  format: "iife",
  globalName: "SynclineCodeMirror",
  target: ["es2020"],
  legalComments: "none",
  outfile: join(out, "codemirror.min.js"),
});

// The packages whose code is in the bundle (from esbuild's inputs), with their locked versions.
const lock = JSON.parse(readFileSync(join(here, "package-lock.json"), "utf8"));
const used = new Set(
  Object.keys(result.metafile.inputs)
    .map((path) => path.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/))
    .filter(Boolean)
    .map((match) => match[1]),
);
const bundled = [...used].sort().map((name) => `${name} ${lock.packages[`node_modules/${name}`].version}`);
writeFileSync(
  join(out, "VERSION"),
  "CodeMirror 6 with @codemirror/lang-sql, bundled by tools/codemirror (esbuild, minified IIFE, global " +
    "SynclineCodeMirror). Packages:\n" + bundled.join("\n") + "\n",
);
// Every bundled package's licence (all MIT), each text once with the packages it covers.
const licences = new Map();
for (const line of bundled) {
  const name = line.split(" ")[0];
  const dir = join(here, "node_modules", name);
  const file = readdirSync(dir).find((f) => /^licen[cs]e/i.test(f));
  const text = readFileSync(join(dir, file), "utf8").trim();
  licences.set(text, [...(licences.get(text) || []), name]);
}
writeFileSync(
  join(out, "LICENSE"),
  [...licences].map(([text, names]) => `${names.join(", ")}:\n\n${text}\n`).join("\n" + "-".repeat(72) + "\n\n"),
);
const bytes = statSync(join(out, "codemirror.min.js")).size;
console.log(`codemirror.min.js: ${(bytes / 1024).toFixed(0)} KiB`);
