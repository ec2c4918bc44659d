// The library's install footprint: packs this checkout (`npm pack`, from the dist/ already built), installs
// the tarball into an empty project the way a library user would (`npm install recurrent`: optional
// peer dependencies are not installed, nor optional dependencies with --omit=optional), offline from the
// npm cache when it can, and prints the size of what landed in node_modules, per package.
//
//   node scripts/footprint.mjs               the library alone
//   node scripts/footprint.mjs --with-charts  also the chart packages (what the command's charts need)

import { execFileSync } from "node:child_process";
import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..");
const CHARTS = ["vega", "vega-lite", "@resvg/resvg-wasm", "dejavu-fonts-ttf"];
const withCharts = process.argv.includes("--with-charts");

if (!existsSync(join(ROOT, "dist", "node", "index.js"))) {
  console.error("footprint: dist/ is missing; run `npm run build` first");
  process.exit(1);
}

/** Bytes of the files under `path` (apparent sizes; links are not followed). */
function size(path) {
  const st = lstatSync(path);
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const name of readdirSync(path)) total += size(join(path, name));
  return total;
}

const mb = (bytes) => `${(bytes / 1e6).toFixed(2)} MB`;
const npm = (args, cwd) =>
  execFileSync("npm", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

const work = mkdtempSync(join(tmpdir(), "recurrent-footprint-"));
try {
  const packed = JSON.parse(npm(["pack", "--json", "--ignore-scripts", "--pack-destination", work], ROOT));
  const tarball = join(work, packed[0].filename);
  const app = join(work, "app");
  execFileSync("mkdir", [app]);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "footprint-app", private: true }));
  const args = ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--omit=optional", tarball];
  if (withCharts) args.push(...CHARTS);
  let mode = "offline, from the npm cache";
  try {
    npm([...args, "--offline"], app);
  } catch {
    mode = "online (some packages were not in the npm cache)";
    npm([...args, "--prefer-offline"], app);
  }
  const modules = join(app, "node_modules");
  const rows = [];
  for (const name of readdirSync(modules)) {
    if (name.startsWith(".")) continue;
    const scoped = name.startsWith("@")
      ? readdirSync(join(modules, name)).map((n) => `${name}/${n}`)
      : [name];
    for (const n of scoped) rows.push([n, size(join(modules, n))]);
  }
  rows.sort((a, b) => b[1] - a[1]);
  const total = size(modules);
  console.log(
    `recurrent tarball: ${mb(lstatSync(tarball).size)} packed, ${mb(packed[0].unpackedSize)} unpacked`,
  );
  console.log(
    `npm install recurrent${withCharts ? ` ${CHARTS.join(" ")}` : ""} (${mode}): ${rows.length} packages, ${mb(total)} in node_modules`,
  );
  for (const [n, s] of rows.slice(0, 12)) console.log(`  ${mb(s).padStart(9)}  ${n}`);
  if (rows.length > 12) console.log(`  ... and ${rows.length - 12} more`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
