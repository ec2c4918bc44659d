// Hybrid ensemble members trained in parallel on worker threads (src/node/member-worker.ts): a
// `MemberRunner` for trainHybrid's `hooks.runMembers`. The members are independent (each has its own
// seeds), so k threads train k at a time and the result is the one trainHybrid gets in turn, bit for
// bit. Threads: RECURRENT_NUM_THREADS or setNumThreads (as for the kernels), at most one per member;
// each worker runs its kernels on one thread. The workers stay for the next training (unref'd: they
// never keep the process alive). A stop asked for (Ctrl-C) reaches them through a shared flag: members
// that finished are kept, the others dropped, as in turn.

import { Worker } from "node:worker_threads";
import type { MemberOutcome, MemberRunner } from "../forecast/hybrid/train.js";
import { getNumThreads } from "../kernels/pool.js";
import { workerImport } from "./threads.js";

interface Message {
  type: "epoch" | "done" | "error";
  rec: never;
  outcome: MemberOutcome;
  message: string;
}

/** A worker and whoever is listening to it now (null while it waits in `idle`). */
interface Slot {
  w: Worker;
  listen: ((m: Message) => void) | null;
  fail: ((e: Error) => void) | null;
}

const idle: Slot[] = [];
let source: string | null = null;

function spawnSlot(): Slot {
  source ??= `${workerImport("member-worker")}.catch((e) => {
  require("node:worker_threads").parentPort.postMessage({ type: "error", message: "the member worker failed to load: " + (e && e.message) });
});`;
  const slot: Slot = { w: new Worker(source, { eval: true }), listen: null, fail: null };
  slot.w.on("message", (m: Message) => slot.listen?.(m));
  const gone = (e: Error) => {
    const i = idle.indexOf(slot);
    if (i >= 0) idle.splice(i, 1);
    slot.fail?.(e);
  };
  slot.w.on("error", gone);
  slot.w.on("exit", (code) => gone(new Error(`a member worker exited (code ${code})`)));
  slot.w.unref(); // after the listeners: adding one refs the worker's port again
  return slot;
}

/** Trains the tasks on min(threads, tasks) worker threads; see the top of this file. */
export const runMembersInWorkers: MemberRunner = async (series, options, tasks, hooks) => {
  const out: (MemberOutcome | null)[] = tasks.map(() => null);
  const stop = new Int32Array(new SharedArrayBuffer(4));
  // the stop flag is raised as soon as the parent sees a stop asked for: polled (which also keeps
  // the process alive while the unref'd workers train), and at each message
  const stopped = () => {
    if (Atomics.load(stop, 0) === 0 && hooks.shouldStop?.()) Atomics.store(stop, 0, 1);
    return Atomics.load(stop, 0) === 1;
  };
  const poll = setInterval(stopped, 20);
  let next = 0;
  const used: Slot[] = [];
  const one = (slot: Slot) =>
    new Promise<void>((resolve, reject) => {
      used.push(slot);
      const give = () => {
        if (next >= tasks.length || stopped()) {
          resolve();
          return;
        }
        const i = next++;
        slot.listen = (m) => {
          if (m.type === "epoch") {
            hooks.onEpoch?.(m.rec);
            stopped();
          } else if (m.type === "done") {
            out[i] = m.outcome;
            give();
          } else reject(new Error(m.message));
        };
        slot.w.postMessage({ series, options, task: tasks[i], stop: stop.buffer });
      };
      slot.fail = (e) => reject(new Error(`${e.message} before its members were trained`));
      give();
    });
  const n = Math.max(1, Math.min(getNumThreads(), tasks.length));
  try {
    await Promise.all(Array.from({ length: n }, () => one(idle.pop() ?? spawnSlot())));
  } catch (e) {
    // a worker that failed is not reused; the others may still be training: stop them
    Atomics.store(stop, 0, 1);
    for (const s of used) void s.w.terminate();
    used.length = 0;
    throw e;
  } finally {
    clearInterval(poll);
    for (const s of used) {
      s.listen = null;
      s.fail = null;
      idle.push(s);
    }
  }
  return out;
};

/** The runner to pass as `hooks.runMembers`: the workers where more than one thread is allowed. */
export function memberRunner(): MemberRunner | undefined {
  return getNumThreads() > 1 ? runMembersInWorkers : undefined;
}
