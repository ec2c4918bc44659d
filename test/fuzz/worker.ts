// One fuzz worker (run.ts): runs the case indices it is sent and posts each result back.

import { parentPort, workerData } from "node:worker_threads";
import { loadBases, makeCase, runCase } from "./harness.js";

const { seed, families, dir } = workerData as { seed: number; families: boolean; dir: string };
const bases = loadBases(families);
parentPort!.on("message", async (index: number) => {
  const c = makeCase(bases, seed, index);
  const r = await runCase(c, dir);
  parentPort!.postMessage({
    index,
    outcome: r.outcome,
    ms: r.ms,
    cpuMs: r.cpuMs,
    detail: r.detail,
    mutation: c.mutation,
    args: c.args.join(" "),
  });
});
parentPort!.postMessage({ ready: true, index: -1 });
