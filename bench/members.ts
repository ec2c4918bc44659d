// `npx tsx bench/members.ts [--series co2|air|...] [--runs n (3)]`: the hybrid's members trained in turn on
// one thread against side by side on worker threads (src/node/members.ts, one per core), on a shipped
// series with train's default options (the combination's partners are not fitted: they are the same
// either way). Prints the seconds of each run, the speed-up of the medians, and whether the two give
// the same weights (they must, bit for bit).

import { createHash } from "node:crypto";
import { availableParallelism, cpus } from "node:os";
import { loadPanel } from "./forecast.js";
import { DEFAULT_HYBRID_OPTIONS, trainHybrid } from "../src/forecast/hybrid/train.js";
import { setNumThreads } from "../src/kernels/pool.js";
import { runMembersInWorkers } from "../src/node/members.js";
import "../src/node/threads.js";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
};
const key = arg("--series", "co2");
const runs = Number(arg("--runs", "3"));
const s = loadPanel().find((x) => x.key === key);
if (s === undefined) throw new Error(`no series ${key} in the panel`);
const series = { values: Float32Array.from(s.values), dates: s.dates, step: s.step };
const options = { ...DEFAULT_HYBRID_OPTIONS, combine: "none" as const };
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const times: Record<string, number[]> = { "in turn": [], workers: [] };
const digests = new Set<string>();
for (let r = 0; r < runs; r++) {
  for (const how of ["in turn", "workers"] as const) {
    setNumThreads(how === "in turn" ? 1 : availableParallelism());
    const t0 = performance.now();
    const res = await trainHybrid(
      series,
      options,
      how === "workers" ? { runMembers: runMembersInWorkers } : {},
    );
    times[how].push((performance.now() - t0) / 1000);
    const h = createHash("sha256");
    for (const [k, t] of Object.entries(res.net.stateDict()))
      h.update(k).update(new Uint8Array(t.data.buffer));
    digests.add(h.digest("hex"));
  }
}
const one = median(times["in turn"]);
const many = median(times.workers);
process.stdout.write(
  [
    `${cpus()[0]?.model ?? "unknown CPU"}, ${availableParallelism()} core(s); ${key}, ${options.members} members, Node ${process.versions.node}`,
    `in turn, one thread: ${times["in turn"].map((t) => t.toFixed(1)).join(", ")} s`,
    `on ${availableParallelism()} worker threads: ${times.workers.map((t) => t.toFixed(1)).join(", ")} s`,
    `speed-up of the medians: ×${(one / many).toFixed(2)}; the same weights: ${digests.size === 1 ? "yes" : "NO"}`,
    "",
  ].join("\n"),
);
