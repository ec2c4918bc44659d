// The sine job (src/app/sine.ts) that the page's Sine panel runs: SineTrainer one iteration at a time
// with progress, previews and a stop. Its numbers must be runSineExperiment's (what `recurrent sine`
// runs), bit for bit, previews and all, and a stopped run must equal a run asked for that many
// iterations.

import { describe, expect, it } from "vitest";
import { type SineProgress, trainSine } from "../../src/app/index.js";
import { runSineExperiment, type SinePrediction } from "../../src/experiments/sine.js";

describe("trainSine (the page's sine job)", () => {
  const cases = [
    { cell: "rnn" as const, hidden: 6, iters: 40, lr: 0.01, clip: null, seed: 5 },
    { cell: "lstm" as const, hidden: 5, iters: 37, lr: 0.02, clip: 0.5, seed: 1 },
    { cell: "gru" as const, hidden: 4, iters: 33, lr: 0.01, clip: null, seed: 2, context: 7 },
  ];
  for (const o of cases) {
    it(`gives runSineExperiment's numbers with progress and previews on (${o.cell})`, async () => {
      const progress: SineProgress[] = [];
      const previews: (SinePrediction & { iter: number })[] = [];
      const r = await trainSine(o, {
        reportEvery: 3,
        previewEvery: 5,
        onProgress: (p) => progress.push(p),
        onPreview: (p) => previews.push(p),
      });
      const ref = runSineExperiment({ ...o, clip: o.clip ?? undefined });
      expect(Array.from(r.losses)).toEqual(Array.from(ref.losses));
      expect(r.finalLoss).toBe(ref.finalLoss);
      expect(r.meanLossLast100).toBe(ref.meanLossLast100);
      expect(r.prediction.t).toEqual(ref.t);
      expect(r.prediction.truth).toEqual(ref.truth);
      expect(r.prediction.notesPred).toEqual(ref.notesPred);
      expect(r.prediction.contextPred).toEqual(ref.contextPred);
      expect(r.notesMse).toBe(ref.notesMse);
      expect(r.contextMse).toBe(ref.contextMse);
      expect(r.notesMseSameSpan).toBe(ref.notesMseSameSpan);
      expect(r.rnnName).toBe(ref.model.rnn.toString());
      expect(r.stopped).toBe(false);
      // progress: every 3rd iteration and the last, carrying every loss exactly once
      expect(progress.map((p) => p.iter)).toEqual(
        Array.from({ length: o.iters }, (_, i) => i).filter((i) => i % 3 === 0 || i === o.iters - 1),
      );
      const joined: number[] = [];
      for (const p of progress) {
        expect(p.from).toBe(joined.length);
        joined.push(...p.losses);
        expect(p.loss).toBe(ref.losses[p.iter]);
      }
      expect(joined).toEqual(Array.from(ref.losses));
      // previews: every 5th iteration but the last, on the window from t = 0
      expect(previews.map((p) => p.iter)).toEqual(
        Array.from({ length: o.iters - 1 }, (_, i) => i).filter((i) => i % 5 === 0),
      );
      for (const p of previews) {
        expect(p.start).toBe(0);
        expect(p.notesPred).toHaveLength(49);
        expect(p.contextPred).toHaveLength(50 - (o.context ?? 10));
        expect(p.truth[1]).toBe(Math.fround(Math.sin(Math.fround(10 / 49))));
      }
    });
  }

  it("stopped after n iterations, equals a run of n iterations", async () => {
    let stop = false;
    const r = await trainSine(
      { cell: "lstm", hidden: 6, iters: 500, lr: 0.01, clip: null, seed: 4 },
      { reportEvery: 1, onProgress: (p) => (stop = p.iter >= 19), shouldStop: () => stop },
    );
    expect(r.stopped).toBe(true);
    expect(r.itersRun).toBe(20);
    const ref = runSineExperiment({ cell: "lstm", hidden: 6, iters: 20, lr: 0.01, seed: 4 });
    expect(Array.from(r.losses)).toEqual(Array.from(ref.losses));
    expect(r.prediction.notesPred).toEqual(ref.notesPred);
    expect(r.prediction.contextPred).toEqual(ref.contextPred);
  });

  it("says what is wrong with bad options", async () => {
    const base = { cell: "rnn" as const, hidden: 4, iters: 10, lr: 0.01, clip: null, seed: 0 };
    await expect(trainSine({ ...base, iters: 0 })).rejects.toThrow(
      "iterations must be a positive integer, got 0",
    );
    await expect(trainSine({ ...base, hidden: 2.5 })).rejects.toThrow(
      "hidden size must be a positive integer, got 2.5",
    );
    await expect(trainSine({ ...base, lr: -1 })).rejects.toThrow(
      "learning rate must be a positive number, got -1",
    );
    await expect(trainSine({ ...base, clip: 0 })).rejects.toThrow("clip must be a positive number");
    await expect(trainSine({ ...base, context: 49 })).rejects.toThrow(
      "context must be an integer in [1, 48], got 49",
    );
  });
});
