// `npm run bench`: runs W1–W4 for this project and, side by side in the same run, for PyTorch (through
// /usr/bin/python3 when it has torch); prints one table of medians and our ratio to each; writes
// bench/results.json. `--quick` for a short run, `--only w1,w3` to pick workloads.

import { execFileSync } from "node:child_process";
import { existsSync, renameSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { w1, w2, w3, w4 } from "./workloads.js";

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const onlyArg =
  args.find((a) => a.startsWith("--only="))?.slice(7) ??
  (args.includes("--only") ? args[args.indexOf("--only") + 1] : undefined);
const only = onlyArg ? new Set(onlyArg.split(",")) : null;
const RUNS = quick ? 1 : 3;
const PY = "/usr/bin/python3";

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function hasTorch(): boolean {
  if (!existsSync(PY)) return false;
  try {
    execFileSync(PY, ["-c", "import torch"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

function torchRun(workload: string, threads: number): { runs: number[]; unit: string } | null {
  try {
    const out = execFileSync(
      PY,
      [
        join(import.meta.dirname, "peers", "torch_bench.py"),
        workload,
        "--threads",
        String(threads),
        "--runs",
        String(RUNS),
        ...(quick ? ["--quick"] : []),
      ],
      { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
    );
    return JSON.parse(out.trim().split("\n").pop()!);
  } catch (e) {
    console.error(`PyTorch ${workload} failed: ${(e as Error).message}`);
    return null;
  }
}

interface Row {
  workload: string;
  unit: string;
  higherIsBetter: boolean;
  ours: number;
  ourRuns: number[];
  peers: Record<string, number | null>;
}

const rows: Row[] = [];
const torch = hasTorch();
const want = (w: string) => only === null || only.has(w);

if (want("w1")) {
  const iters = quick ? 1000 : 6000;
  const runs = Array.from({ length: RUNS }, () => w1(iters).seconds);
  rows.push({
    workload: `W1 sine training (${iters} iters)`,
    unit: "s",
    higherIsBetter: false,
    ours: median(runs),
    ourRuns: runs,
    peers: torch
      ? {
          "PyTorch 1 thread": median(torchRun("w1", 1)?.runs ?? [Number.NaN]),
          "PyTorch 2 threads": median(torchRun("w1", 2)?.runs ?? [Number.NaN]),
        }
      : {},
  });
}
if (want("w2")) {
  const runs = w2(quick ? 3 : 10);
  rows.push({
    workload: "W2 LSTM(8→128, 2 layers) train step, B=32, T=50",
    unit: "ms/step",
    higherIsBetter: false,
    ours: median(runs),
    ourRuns: runs,
    peers: torch
      ? {
          "PyTorch 1 thread": median(torchRun("w2", 1)?.runs ?? [Number.NaN]),
          "PyTorch 2 threads": median(torchRun("w2", 2)?.runs ?? [Number.NaN]),
        }
      : {},
  });
}
if (want("w3")) {
  const runs = Array.from({ length: RUNS }, () => w3(quick ? 2000 : 20000));
  rows.push({
    workload: "W3 streaming LSTM(1→64)+Linear inference",
    unit: "µs/step",
    higherIsBetter: false,
    ours: median(runs),
    ourRuns: runs,
    peers: torch ? { "PyTorch 1 thread": median(torchRun("w3", 1)?.runs ?? [Number.NaN]) } : {},
  });
}
for (const n of [256, 1024]) {
  if (!want("w4") && !want(`w4-${n}`)) continue;
  const runs = Array.from({ length: RUNS }, () => w4(n, n <= 256 ? 20 : quick ? 1 : 3));
  rows.push({
    workload: `W4 matmul ${n}³`,
    unit: "GFLOP/s",
    higherIsBetter: true,
    ours: median(runs),
    ourRuns: runs,
    peers: torch
      ? {
          "PyTorch 1 thread": median(torchRun(`w4-${n}`, 1)?.runs ?? [Number.NaN]),
          "PyTorch 2 threads": median(torchRun(`w4-${n}`, 2)?.runs ?? [Number.NaN]),
        }
      : {},
  });
}

const fmt = (v: number | null) =>
  v === null || Number.isNaN(v) ? "—" : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toPrecision(3);
const peerNames = [...new Set(rows.flatMap((r) => Object.keys(r.peers)))];
const header = ["workload", "unit", "recurrent", ...peerNames.flatMap((p) => [p, `× vs ${p}`])];
const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
for (const r of rows) {
  const cells = [r.workload, r.unit, fmt(r.ours)];
  for (const p of peerNames) {
    const v = r.peers[p] ?? null;
    cells.push(fmt(v));
    // speed-up: how many times faster we are (for times: peer / ours; for rates: ours / peer)
    cells.push(
      v === null || Number.isNaN(v) ? "—" : `${(r.higherIsBetter ? r.ours / v : v / r.ours).toFixed(2)}×`,
    );
  }
  lines.push(`| ${cells.join(" | ")} |`);
}
const table = lines.join("\n");
console.log(
  `\nrecurrent benchmark — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), Node ${process.version}${quick ? ", --quick" : ""}; medians of ${RUNS} run(s); "×" = times faster than the peer\n`,
);
console.log(table);
const results = {
  date: new Date().toISOString(),
  quick,
  node: process.version,
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  rows,
};
const path = join(import.meta.dirname, "results.json");
writeFileSync(`${path}.tmp`, `${JSON.stringify(results, null, 2)}\n`);
renameSync(`${path}.tmp`, path);
console.log(`\nwrote ${path}`);
