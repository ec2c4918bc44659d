// Writes datasets/monthly-panel.csv: four of the shipped monthly series in long format (id,date,value),
// one row per series and month, the series one after another. They differ in level by three orders of
// magnitude (degrees Fahrenheit to tens of thousands of litres and megajoules), which is what per-series scaling is for.
//
//   node scripts/make-monthly-panel.mjs

import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dirname, "..");
const SOURCES = [
  ["air-passengers", "air-passengers.csv"],
  ["wine", "australian-wine-sales.csv"],
  ["temperature", "nottingham-temperature.csv"],
  ["gas", "australian-gas-production.csv"],
];

const out = ["id,date,value"];
for (const [id, file] of SOURCES) {
  const lines = readFileSync(join(ROOT, "datasets", file), "utf8")
    .trim()
    .split(/\r?\n/);
  const header = lines[0].split(",");
  if (header.length !== 2 || header[0] !== "date")
    throw new Error(`${file}: expected the columns date,<value>, got ${lines[0]}`);
  for (const line of lines.slice(1)) out.push(`${id},${line}`);
}
const path = join(ROOT, "datasets", "monthly-panel.csv");
writeFileSync(`${path}.tmp`, `${out.join("\n")}\n`);
renameSync(`${path}.tmp`, path);
console.log(`${path}: ${SOURCES.length} series, ${out.length - 1} rows`);
