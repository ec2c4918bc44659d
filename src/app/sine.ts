// The notes' sine experiment as a job: `SineTrainer` one iteration at a time, with progress, previews of
// the model as it is, and a stop, yielding to the event loop so a stop message gets through. The page's
// Sine panel runs it in its worker; `runSineExperiment` (what `recurrent sine` runs) gives the same
// numbers for the same seed. Browser-safe.

import { type CellType, type SinePrediction, SineTrainer, sinePredict } from "../experiments/sine.js";
import { sineModelName } from "./sine-name.js";

export { sineModelName };

const now = (): number => performance.now();
const yieldToEventLoop = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

export interface SineJobOptions {
  cell: CellType;
  hidden: number;
  layers?: number;
  iters: number;
  lr: number;
  /** Clip the gradient norm to this value; null for none. */
  clip: number | null;
  seed: number;
  /** Observed points the context-started forecast reads (default 10). */
  context?: number;
  /** Points per window (default 50). */
  steps?: number;
}

export interface SineProgress {
  /** The iteration just done (0-based). */
  iter: number;
  loss: number;
  elapsed: number;
  /** The losses of iterations from..iter. */
  from: number;
  losses: Float32Array;
}

export interface SineHooks {
  /** Called every `reportEvery` iterations and at the last one. */
  onProgress?: (p: SineProgress) => void;
  reportEvery?: number;
  /** Called every `previewEvery` iterations with predictions of the model as it is. */
  onPreview?: (p: SinePrediction & { iter: number }) => void;
  previewEvery?: number;
  /** Checked between iterations; true stops training and keeps the model as it is. */
  shouldStop?: () => boolean;
}

export interface SineJobResult {
  options: Required<Omit<SineJobOptions, "clip">> & { clip: number | null };
  /** Iterations run (fewer than asked when stopped). */
  itersRun: number;
  stopped: boolean;
  losses: Float32Array;
  finalLoss: number;
  meanLossLast100: number;
  trainSeconds: number;
  prediction: SinePrediction;
  notesMse: number;
  contextMse: number;
  notesMseSameSpan: number;
  /** `RNN(1, 16, batch_first=True)`, as the model prints. */
  rnnName: string;
  modelName: string;
}

/**
 * The notes' sine experiment, exactly as `runSineExperiment` runs it (same seed, same draws, same
 * numbers), with progress, previews and a stop. Previews use the window starting at 0 and draw nothing
 * from the generator, so they leave the run unchanged; a stopped run ends as if `iters` had been the
 * iterations it ran.
 */
export async function trainSine(opts: SineJobOptions, hooks: SineHooks = {}): Promise<SineJobResult> {
  // The library's own training loop, one iteration at a time: the same seed gives the same numbers
  // as runSineExperiment and `recurrent sine`.
  const trainer = new SineTrainer({
    cell: opts.cell,
    hidden: opts.hidden,
    layers: opts.layers ?? 1,
    iters: opts.iters,
    lr: opts.lr,
    clip: opts.clip ?? undefined,
    seed: opts.seed,
    context: opts.context ?? 10,
    steps: opts.steps ?? 50,
  });
  const o = trainer.options;
  const reportEvery = Math.max(1, hooks.reportEvery ?? 100);
  const previewEvery = Math.max(1, hooks.previewEvery ?? 500);
  let lastYield = now();
  let reported = 0; // losses[0..reported) have been reported
  let stopped = false;
  const report = (iter: number) => {
    hooks.onProgress?.({
      iter,
      loss: trainer.losses[iter],
      elapsed: trainer.elapsed,
      from: reported,
      losses: trainer.losses.slice(reported, iter + 1),
    });
    reported = iter + 1;
  };
  while (!trainer.done) {
    trainer.step();
    const iter = trainer.iters - 1;
    const last = trainer.done;
    // What the page adds: progress with the new losses, previews, and a stop between iterations.
    if (hooks.onProgress && (iter % reportEvery === 0 || last)) report(iter);
    // Previews use the window starting at 0 and draw nothing from the generator.
    if (hooks.onPreview && iter % previewEvery === 0 && !last) {
      hooks.onPreview({ iter, ...sinePredict(trainer.model, trainer.state, 0, o.steps, o.context) });
    }
    if (!last && now() - lastYield > 40) {
      await yieldToEventLoop();
      lastYield = now();
    }
    if (!last && hooks.shouldStop?.()) {
      stopped = true;
      if (hooks.onProgress && reported < trainer.iters) report(iter);
      break;
    }
  }
  return sineJobResult(o, trainer, stopped);
}

/**
 * The job's result from a trainer whose model, state, losses and iteration count are final (the CPU job's
 * own, or the WebGPU job's CPU copy with the GPU's weights, state and losses: web/src/gpu-sine.ts).
 */
export function sineJobResult(
  o: SineTrainer["options"],
  trainer: SineTrainer,
  stopped: boolean,
): SineJobResult {
  const r = trainer.finish();
  return {
    options: { ...o, clip: o.clip },
    itersRun: trainer.iters,
    stopped,
    losses: r.losses,
    finalLoss: r.finalLoss,
    meanLossLast100: r.meanLossLast100,
    trainSeconds: r.trainSeconds,
    prediction: {
      start: r.start,
      t: r.t,
      truth: r.truth,
      notesPred: r.notesPred,
      contextPred: r.contextPred,
      context: o.context,
    },
    notesMse: r.notesMse,
    contextMse: r.contextMse,
    notesMseSameSpan: r.notesMseSameSpan,
    rnnName: r.model.rnn.toString(),
    modelName: sineModelName(o),
  };
}
