// Steady-state training allocates nothing that lives on: heap in use after 10,000 iterations of the
// notes' sine training (W1) against after 1,000, each measured after a full garbage collection.
// Run with `node --expose-gc --import tsx bench/heap.ts` (bench/run.ts does); prints one JSON line.

import { SineTrainer } from "../src/experiments/sine.js";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error("bench/heap.ts needs node --expose-gc");
  process.exit(2);
}
const heapAfterGc = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
const trainer = new SineTrainer({ iters: 10_000, seed: 0 });
const at: Record<number, number> = {};
while (!trainer.done) {
  trainer.step();
  if (trainer.iters === 1_000 || trainer.iters === 10_000) at[trainer.iters] = heapAfterGc();
}
const ratio = at[10_000] / at[1_000];
console.log(JSON.stringify({ heap_after_1000: at[1_000], heap_after_10000: at[10_000], ratio }));
