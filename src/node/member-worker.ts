// The entry of a worker thread that trains hybrid ensemble members (started by src/node/members.ts):
// each message is one member's task; it answers with every epoch as it ends, then the outcome. A stop
// asked for in the parent is seen through the shared flag the task comes with.

import { parentPort } from "node:worker_threads";
import { type MemberTask, trainMemberTask } from "../forecast/hybrid/train.js";
import type { HybridOptions, HybridSeriesInfo } from "../forecast/hybrid/train.js";
import "./relaxed-simd.js"; // the same kernels as the parent's, so the same numbers

const port = parentPort!;

interface Job {
  series: HybridSeriesInfo;
  options: HybridOptions;
  task: MemberTask;
  stop: SharedArrayBuffer;
}

port.on("message", (job: Job) => {
  const stop = new Int32Array(job.stop);
  trainMemberTask(job.series, job.options, job.task, {
    onEpoch: (rec) => port.postMessage({ type: "epoch", rec }),
    shouldStop: () => Atomics.load(stop, 0) === 1,
  }).then(
    (outcome) => port.postMessage({ type: "done", outcome }),
    (e: unknown) => port.postMessage({ type: "error", message: e instanceof Error ? e.message : String(e) }),
  );
});
