// The ported PyTorch programs (examples/*.ts beside examples/torch/*.py) against the fixtures that
// test/fixtures/gen/examples12.py makes by running the PyTorch programs: loss curves step by step and
// final outputs.

import { describe, expect, it } from "vitest";
import { run as runCharLm } from "../examples/char-lm.js";
import { run as runClassifier } from "../examples/name-classifier.js";
import { run as runPackedGru } from "../examples/packed-gru.js";
import { run as runTagger } from "../examples/pos-tagger.js";
import { run as runSeq2seq } from "../examples/seq2seq-attention.js";
import { io } from "../src/index.js";
import { expectClose, loadFixture, type TensorJson } from "./helpers.js";

const A = "examples12";
/** Each test trains a model for tens to hundreds of steps: room for a loaded machine. */
const SLOW = 240_000;

describe("examples/pos-tagger.ts (the 'Sequence Models and LSTM Networks' tagger)", () => {
  it(
    "prints PyTorch's model, follows its loss curve and ends with its tag scores",
    () => {
      const f = loadFixture<Record<string, unknown>>(A, "pos_tagger");
      const r = runTagger();
      expect(r.model).toBe(f.model);
      expectClose(r.before, f.before as TensorJson, { atol: 1e-6, what: "scores before training" });
      expect(r.losses).toHaveLength(f.steps as number);
      expectClose(r.losses.slice(0, 50), f.losses as number[], {
        atol: 1e-6,
        rtol: 1e-5,
        what: "first 50 losses",
      });
      expectClose(r.losses[r.losses.length - 1], f.lastLoss as number, {
        atol: 1e-5,
        rtol: 1e-3,
        what: "last loss",
      });
      expectClose(r.after, f.after as TensorJson, { atol: 1e-4, rtol: 1e-4, what: "scores after training" });
      expect(r.predicted).toEqual(f.predicted);
    },
    SLOW,
  );
});

describe("examples/char-lm.ts (Embedding -> 2-layer LSTM -> Linear on first names)", () => {
  const f = loadFixture<Record<string, unknown>>(A, "char_lm");
  it(
    "follows PyTorch's first 50 losses (dropout off), logits and sampled names",
    () => {
      const r = runCharLm({ steps: 50, dropout: 0 });
      expect(r.model.toString()).toBe(f.model);
      expect(r.vocab).toBe(f.vocab);
      expectClose(r.losses, f.losses as number[], { atol: 1e-5, rtol: 1e-5, what: "losses" });
      expectClose(r.probeLogits, f.probeLogits as TensorJson, {
        atol: 1e-4,
        rtol: 1e-4,
        what: "probe logits",
      });
      expect(r.names).toEqual(f.names);
      // the checkpoint: PyTorch's state-dict keys and shapes, so load_state_dict(strict=True) takes it
      const back = io.decodeSafetensors(io.encodeSafetensors(r.model.stateDict()));
      const keys = Object.keys(r.model.stateDict());
      expect(keys).toEqual(f.stateKeys);
      expect(keys.map((k) => back.tensors[k].shape)).toEqual(f.stateShapes);
    },
    SLOW,
  );
  it(
    "with inter-layer dropout draws PyTorch's masks (the same losses)",
    () => {
      const r = runCharLm({ steps: 20, dropout: 0.1 });
      expectClose(r.losses, f.dropoutLosses as number[], {
        atol: 1e-5,
        rtol: 1e-5,
        what: "losses with dropout",
      });
      expect(r.names).toEqual(f.dropoutNames);
    },
    SLOW,
  );
});

describe("examples/name-classifier.ts (the tutorial's character-level RNN classifier)", () => {
  it(
    "follows PyTorch's losses step by step and ends with its outputs",
    () => {
      const f = loadFixture<Record<string, unknown>>(A, "name_classifier");
      const r = runClassifier({ nIters: 300 });
      expect(r.model).toBe(f.model);
      const want = f.losses as number[];
      expectClose(r.losses.slice(0, 50), want.slice(0, 50), {
        atol: 1e-5,
        rtol: 1e-5,
        what: "first 50 losses",
      });
      expectClose(r.losses, want, { atol: 1e-4, rtol: 1e-4, what: "all 300 losses" });
      expectClose(r.outputs, f.outputs as TensorJson, { atol: 1e-4, rtol: 1e-4, what: "outputs" });
    },
    SLOW,
  );
});

describe("examples/packed-gru.ts (packed bidirectional GRU, DataLoader, StepLR)", () => {
  it(
    "draws PyTorch's batches, follows its losses and learning rates, and ends with its predictions",
    () => {
      const f = loadFixture<Record<string, unknown>>(A, "packed_gru");
      const r = runPackedGru({ epochs: 7 });
      expect(r.model).toBe(f.model);
      const want = f.losses as number[];
      expect(r.losses).toHaveLength(want.length);
      expectClose(r.losses.slice(0, 50), want.slice(0, 50), {
        atol: 1e-5,
        rtol: 1e-4,
        what: "first 50 losses",
      });
      expectClose(r.epochLosses, f.epochLosses as number[], { atol: 1e-5, rtol: 1e-4, what: "epoch losses" });
      expect(r.lrs).toEqual(f.lrs);
      expectClose(r.target, f.target as TensorJson, { atol: 1e-6, what: "targets" });
      expectClose(r.pred, f.pred as TensorJson, { atol: 1e-4, rtol: 1e-4, what: "predictions" });
    },
    SLOW,
  );
});

describe("examples/seq2seq-attention.ts (the translation tutorial's encoder and attention decoder)", () => {
  it(
    "follows PyTorch's losses (dropout off) and decodes with its attention weights",
    () => {
      const f = loadFixture<Record<string, unknown>>(A, "seq2seq_attention");
      const r = runSeq2seq({ nIters: 200, dropoutP: 0 });
      expect(r.encoder).toBe(f.encoder);
      expect(r.decoder).toBe(f.decoder);
      const want = f.losses as number[];
      expectClose(r.losses.slice(0, 50), want.slice(0, 50), {
        atol: 1e-5,
        rtol: 1e-5,
        what: "first 50 losses",
      });
      expectClose(r.losses, want, { atol: 1e-4, rtol: 1e-4, what: "all 200 losses" });
      expect(r.decoded).toEqual(f.decoded);
      (f.attentions as TensorJson[]).forEach((a, i) => {
        expectClose(r.attentions[i], a, { atol: 1e-4, rtol: 1e-4, what: `attention ${i}` });
      });
    },
    SLOW,
  );
});
