// The ported PyTorch tutorials (examples/*.ts; test/examples-seq.test.ts runs them on the CPU against
// test/fixtures/data/examples12, made by running the PyTorch programs) trained on the webgpu device with
// each example's `runAsync({ device: "webgpu" })`: the model moved with `.to("webgpu")`, the float inputs
// too, the integer ids left on the CPU, each loss read with `await`. SwiftShader runs on the CPU, so each
// example trains for a short prefix of its steps. Per example: each loss of that prefix against PyTorch's
// (relative error, the worst), the same against the CPU path's run of the same prefix, the final outputs
// (tensors: relative error; ids and names: equal or not) against the CPU path's, the device's dispatches
// and reads, and the time; or the error that refused the example. webgpu-examples.test.ts asserts them.
// With `--full`, each example trains as long as examples-seq.test.ts trains it on the CPU (minutes on
// SwiftShader), every loss the fixture holds compared. A child process of the tests (run.ts says why).

import * as charLm from "../../examples/char-lm.js";
import * as classifier from "../../examples/name-classifier.js";
import * as packedGru from "../../examples/packed-gru.js";
import * as tagger from "../../examples/pos-tagger.js";
import * as seq2seq from "../../examples/seq2seq-attention.js";
import { backendName, backendReady, type Tensor } from "../../src/index.js";
import { fromJson, loadFixture, type TensorJson } from "../helpers.js";
import { type ExampleCheck as Check, relErr } from "./fixtures-common.js";
import { deviceOrExit, finish } from "./setup.js";

const ctx = await deviceOrExit();
const FULL = process.argv.includes("--full");
/** the prefix (default) or the CPU test's length (--full) */
const len = (prefix: number, full: number) => (FULL ? full : prefix);
// the CPU path's kernels: the default backend once it is final (wasm starts compiling at load, and kernels
// run before it is ready take the ts backend, whose sums round differently)
await backendReady();

type Fixture = Record<string, unknown>;
const fixture = (name: string) => loadFixture<Fixture>("examples12", name);

/** max over i of |got_i − want_i| / |want_i| over want's length (Infinity where got is shorter, or a NaN) */
function lossErr(got: number[], want: number[]): number {
  if (got.length < want.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const e = Math.abs(got[i] - want[i]) / Math.abs(want[i]);
    worst = e <= worst ? worst : Number.isNaN(e) ? Number.POSITIVE_INFINITY : e;
  }
  return worst;
}
const tensorErr = (got: Tensor, want: Tensor) =>
  relErr(got.data as Float32Array, want.data as Float32Array, got.shape, want.shape);
const tensorJsonErr = (got: Tensor, want: TensorJson) =>
  relErr(got.data as Float32Array, fromJson(want).data as Float32Array, got.shape, want.shape);

const results: Record<string, Check> = {};
const refused: Record<string, string> = {};

interface Run {
  losses: number[];
}
/**
 * Runs `gpu` (the example on webgpu) and `cpu` (the same prefix on the CPU), compares the losses with
 * `want` and hands both results to `compare` for the outputs.
 */
async function check<R extends Run>(
  name: string,
  gpu: () => Promise<R>,
  cpu: () => R,
  want: number[],
  compare: (g: R, c: R) => Pick<Check, "outputs" | "same">,
): Promise<void> {
  try {
    const before = ctx.stats();
    const t0 = performance.now();
    const g = await gpu();
    const ms = performance.now() - t0;
    const after = ctx.stats();
    const c = cpu();
    results[name] = {
      steps: g.losses.length,
      "losses vs PyTorch": lossErr(g.losses, want),
      "losses vs CPU": lossErr(g.losses, c.losses),
      ...compare(g, c),
      dispatches: after.dispatches - before.dispatches,
      reads: after.reads - before.reads,
      ms: Math.round(ms),
    };
  } catch (e) {
    refused[name] = e instanceof Error ? e.message : String(e);
  }
}

// pos-tagger: 3 epochs of its 2 sentences; the scores before training are PyTorch's (seed 1)
{
  const f = fixture("pos_tagger");
  const epochs = len(3, 300);
  await check(
    "pos-tagger",
    () => tagger.runAsync(epochs, "webgpu"),
    () => tagger.run(epochs),
    (f.losses as number[]).slice(0, 2 * epochs),
    (g, c) => ({
      outputs: {
        "scores before training vs PyTorch": tensorJsonErr(g.before, f.before as TensorJson),
        "scores after training vs CPU": tensorErr(g.after, c.after),
        ...(FULL && {
          "last loss vs PyTorch": lossErr(g.losses.slice(-1), [f.lastLoss as number]),
          "scores after training vs PyTorch": tensorJsonErr(g.after, f.after as TensorJson),
        }),
      },
      same: {
        "predicted tags": JSON.stringify(g.predicted) === JSON.stringify(c.predicted),
        ...(FULL && {
          "predicted tags as PyTorch's": JSON.stringify(g.predicted) === JSON.stringify(f.predicted),
        }),
      },
    }),
  );
}

// char-lm: 2-layer LSTM, Adam, the gradient norm clipped on the device; dropout off as in the CPU test
{
  const f = fixture("char_lm");
  const steps = len(3, 50);
  let onDevice = false;
  await check(
    "char-lm",
    async () => {
      const r = await charLm.runAsync({ steps, dropout: 0, device: "webgpu" });
      onDevice = r.model.parameters().every((p) => p.device === "webgpu");
      await r.model.toAsync("cpu"); // as the example does before writing its checkpoint
      return r;
    },
    () => charLm.run({ steps, dropout: 0 }),
    (f.losses as number[]).slice(0, steps),
    (g, c) => {
      const want = c.model.stateDict();
      let weights = 0;
      for (const [k, w] of Object.entries(g.model.stateDict()))
        weights = Math.max(weights, tensorErr(w, want[k]));
      return {
        outputs: {
          "probe logits vs CPU": tensorErr(g.probeLogits, c.probeLogits),
          "weights vs CPU": weights,
          ...(FULL && {
            "probe logits vs PyTorch": tensorJsonErr(g.probeLogits, f.probeLogits as TensorJson),
          }),
        },
        same: {
          ...(FULL && { "sampled names as PyTorch's": JSON.stringify(g.names) === JSON.stringify(f.names) }),
          "sampled names": JSON.stringify(g.names) === JSON.stringify(c.names),
          "model trained on webgpu": onDevice,
          "state dict keys":
            JSON.stringify(Object.keys(g.model.stateDict())) === JSON.stringify(Object.keys(want)),
        },
      };
    },
  );
}

// char-lm with inter-layer dropout 0.1: the masks drawn on the CPU from the same generator as PyTorch's
{
  const f = fixture("char_lm");
  const steps = len(2, 20);
  await check(
    "char-lm dropout",
    () => charLm.runAsync({ steps, dropout: 0.1, device: "webgpu" }),
    () => charLm.run({ steps, dropout: 0.1 }),
    (f.dropoutLosses as number[]).slice(0, steps),
    (g, c) => ({
      outputs: { "probe logits vs CPU": tensorErr(g.probeLogits, c.probeLogits) },
      same: {
        "sampled names": JSON.stringify(g.names) === JSON.stringify(c.names),
        ...(FULL && {
          "sampled names as PyTorch's": JSON.stringify(g.names) === JSON.stringify(f.dropoutNames),
        }),
      },
    }),
  );
}

// name-classifier: the hand-made RNN cell over one-hot letters, one name per step
{
  const f = fixture("name_classifier");
  const nIters = len(10, 300);
  await check(
    "name-classifier",
    () => classifier.runAsync({ nIters, device: "webgpu" }),
    () => classifier.run({ nIters }),
    (f.losses as number[]).slice(0, nIters),
    (g, c) => ({
      outputs: {
        "probe outputs vs CPU": tensorErr(g.outputs, c.outputs),
        ...(FULL && { "probe outputs vs PyTorch": tensorJsonErr(g.outputs, f.outputs as TensorJson) }),
      },
      same: {},
    }),
  );
}

// packed-gru: one epoch (8 batches) of the packed bidirectional GRU, Adam
{
  const f = fixture("packed_gru");
  await check(
    "packed-gru",
    () => packedGru.runAsync({ epochs: len(1, 7), device: "webgpu" }),
    () => packedGru.run({ epochs: len(1, 7) }),
    (f.losses as number[]).slice(0, len(8, 56)),
    (g, c) => ({
      outputs: {
        "epoch loss vs PyTorch": lossErr(g.epochLosses, (f.epochLosses as number[]).slice(0, len(1, 7))),
        "predictions vs CPU": tensorErr(g.pred, c.pred),
        ...(FULL && { "predictions vs PyTorch": tensorJsonErr(g.pred, f.pred as TensorJson) }),
      },
      same: {
        "learning rates": JSON.stringify(g.lrs) === JSON.stringify(c.lrs),
        ...(FULL && { "learning rates as PyTorch's": JSON.stringify(g.lrs) === JSON.stringify(f.lrs) }),
      },
    }),
  );
}

// seq2seq-attention: the encoder and the attention decoder (bmm over the encoder outputs), dropout off as
// in the CPU test; teacher forcing or greedy decoding, drawn per pair
{
  const f = fixture("seq2seq_attention");
  const nIters = len(5, 200);
  await check(
    "seq2seq-attention",
    () => seq2seq.runAsync({ nIters, dropoutP: 0, device: "webgpu" }),
    () => seq2seq.run({ nIters, dropoutP: 0 }),
    (f.losses as number[]).slice(0, nIters),
    (g, c) => {
      const outputs: Record<string, number> = {};
      g.attentions.forEach((a, i) => {
        outputs[`attention ${i} vs CPU`] = tensorErr(a, c.attentions[i]);
        if (FULL) outputs[`attention ${i} vs PyTorch`] = tensorJsonErr(a, (f.attentions as TensorJson[])[i]);
      });
      const same: Record<string, boolean> = {
        decoded: JSON.stringify(g.decoded) === JSON.stringify(c.decoded),
      };
      if (FULL) same["decoded as PyTorch's"] = JSON.stringify(g.decoded) === JSON.stringify(f.decoded);
      return { outputs, same };
    },
  );
}

finish(ctx, { results, refused, cpuBackend: backendName() });
