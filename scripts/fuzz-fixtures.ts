// `npx tsx scripts/fuzz-fixtures.ts`: writes the hybrid and ETS checkpoints that the fuzz harness
// (test/fuzz/harness.ts) mutates, beside the LSTM, GRU and RNN fixtures of test/fixtures/data/forecast:
//   hybrid_co2: the hybrid (2 members, hidden 4, lookback 12, horizon 6) on forecast/lstm_co2.csv, the
//               last 120 months of CO2
//   ets_co2:    the ETS fallback on the first 36 of those months (ets_co2.csv; too short for the hybrid),
//               horizon 6 with a test part of 7 rows, so `evaluate` has 2 origins
// Both are trained by the real command with --deterministic, so the same library writes the same bytes.

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { main } from "../src/node/cli/main.js";

const ROOT = join(import.meta.dirname, "..");
const SRC = join(ROOT, "test", "fixtures", "data", "forecast", "lstm_co2.csv");
const OUT = join(ROOT, "test", "fixtures", "data", "fuzz");

const lines = readFileSync(SRC, "utf8").trim().split("\n");
writeFileSync(join(OUT, "ets_co2.csv"), `${lines.slice(0, 37).join("\n")}\n`);

const common = ["--target", "CO2", "--deterministic", "--seed", "1"];
const runs: [string, string[]][] = [
  ["hybrid_co2", ["--members", "2", "--epochs", "2", "--hidden", "4", "--lookback", "12", "--horizon", "6"]],
  ["ets_co2", ["--horizon", "6", "--test", "7"]],
];
for (const [name, extra] of runs) {
  const code = await main([
    "train",
    "--csv",
    name === "hybrid_co2" ? SRC : join(OUT, `${name}.csv`),
    ...common,
    ...extra,
    "--out",
    join(OUT, `${name}.safetensors`),
  ]);
  if (code !== 0) throw new Error(`training ${name} failed with exit code ${code}`);
}
