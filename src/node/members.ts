// Hybrid ensemble members trained in parallel on worker threads (src/node/member-worker.ts): a
// `MemberRunner` for trainHybrid's `hooks.runMembers`. The members are independent (each has its own
// seeds), so k threads train k at a time and the result is the one trainHybrid gets in turn, bit for
// bit. Threads: RECURRENT_NUM_THREADS or setNumThreads (as for the kernels), at most one per member;
// each worker runs its kernels on one thread. A stop asked for (Ctrl-C) reaches the workers through a
// shared flag: members that finished are kept, the others dropped, as in turn.

import { Worker } from "node:worker_threads";
import type { MemberOutcome, MemberRunner } from "../forecast/hybrid/train.js";
import { getNumThreads } from "../kernels/pool.js";
import { workerImport } from "./threads.js";

let source: string | null = null;

/** Trains the tasks on min(threads, tasks) worker threads; see the top of this file. */
export const runMembersInWorkers: MemberRunner = async (series, options, tasks, hooks) => {
  source ??= `${workerImport("member-worker")}.catch((e) => {
  require("node:worker_threads").parentPort.postMessage({ type: "error", message: "the member worker failed to load: " + (e && e.message) });
});`;
  const out: (MemberOutcome | null)[] = tasks.map(() => null);
  const stop = new Int32Array(new SharedArrayBuffer(4));
  const workers: Worker[] = [];
  let next = 0;
  // the stop flag is raised as soon as the parent sees a stop asked for: polled, and at each message
  const stopped = () => {
    if (Atomics.load(stop, 0) === 0 && hooks.shouldStop?.()) Atomics.store(stop, 0, 1);
    return Atomics.load(stop, 0) === 1;
  };
  const poll = setInterval(stopped, 20);
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const w = new Worker(source!, { eval: true, workerData: { stop: stop.buffer } });
      workers.push(w);
      const give = () => {
        if (next >= tasks.length || stopped()) {
          resolve();
          return;
        }
        const i = next++;
        w.postMessage({ i, series, options, task: tasks[i] });
      };
      w.on(
        "message",
        (m: { type: string; i: number; rec: never; outcome: MemberOutcome; message: string }) => {
          if (m.type === "ready") give();
          else if (m.type === "epoch") {
            hooks.onEpoch?.(m.rec);
            stopped();
          } else if (m.type === "done") {
            out[m.i] = m.outcome;
            give();
          } else if (m.type === "error") reject(new Error(m.message));
        },
      );
      w.on("error", reject);
      w.on("exit", (code) =>
        reject(new Error(`a member worker exited (code ${code}) before its members were trained`)),
      );
    });
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(getNumThreads(), tasks.length)) }, one));
  } finally {
    clearInterval(poll);
    for (const w of workers) {
      w.removeAllListeners("exit");
      void w.terminate();
    }
  }
  return out;
};

/** The runner to pass as `hooks.runMembers`: the workers where more than one thread is allowed. */
export function memberRunner(): MemberRunner | undefined {
  return getNumThreads() > 1 ? runMembersInWorkers : undefined;
}
