// Checks the PyTorch recurrent fixtures themselves (test/fixtures/data/rnn, made by
// test/fixtures/gen/rnn.py): every case loads, shapes agree with the config, parameter names follow
// PyTorch's scheme, every parameter has a gradient, the recorded loss is the documented weighted sum, the
// packed layout matches the padded one, h_n is the last valid step of `output`, and the cells (and
// single-layer layers unrolled from them) follow the gate equations in RNN_FIXTURES.md.

import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Tensor } from "../src/core/tensor.js";
import { expectClose, FIXTURES } from "./helpers.js";
import {
  type CellConfig,
  type LayerConfig,
  loadRnnCase,
  loadRnnErrors,
  loadRnnReprs,
  RNN_CASES,
  type RnnCase,
  readSafetensorsFile,
} from "./rnn-fixtures.js";

const GATES = { RNN: 1, RNNCell: 1, LSTM: 4, LSTMCell: 4, GRU: 3, GRUCell: 3 } as const;
const cases = RNN_CASES.map(loadRnnCase);
const layers = cases.filter((c) => c.config.kind === "layer") as (RnnCase & { config: LayerConfig })[];
const cells = cases.filter((c) => c.config.kind === "cell") as (RnnCase & { config: CellConfig })[];

/** PyTorch's parameter names and shapes, in named_parameters() order. */
function expectedParams(c: RnnCase): [string, number[]][] {
  const cfg = c.config;
  const G = GATES[cfg.cls] * cfg.hidden_size;
  const H = cfg.hidden_size;
  if (cfg.kind === "cell") {
    const ps: [string, number[]][] = [
      ["weight_ih", [G, cfg.input_size]],
      ["weight_hh", [G, H]],
    ];
    return cfg.bias ? [...ps, ["bias_ih", [G]], ["bias_hh", [G]]] : ps;
  }
  const D = cfg.bidirectional ? 2 : 1;
  const Hout = cfg.proj_size > 0 ? cfg.proj_size : H;
  const out: [string, number[]][] = [];
  for (let k = 0; k < cfg.num_layers; k++) {
    for (const sfx of D === 2 ? ["", "_reverse"] : [""]) {
      out.push([`weight_ih_l${k}${sfx}`, [G, k === 0 ? cfg.input_size : D * Hout]]);
      out.push([`weight_hh_l${k}${sfx}`, [G, Hout]]);
      if (cfg.bias) out.push([`bias_ih_l${k}${sfx}`, [G]], [`bias_hh_l${k}${sfx}`, [G]]);
      if (cfg.proj_size > 0) out.push([`weight_hr_l${k}${sfx}`, [cfg.proj_size, H]]);
    }
  }
  return out;
}

function dot(a: Tensor, b: Tensor): number {
  expect(a.shape).toEqual(b.shape);
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += a.data[i] * b.data[i];
  return s;
}

// ---- an independent float64 reference of one cell step, gate order as documented (LSTM i,f,g,o; GRU r,z,n)
const sig = (v: number) => 1 / (1 + Math.exp(-v));
function affine(w: Tensor, b: Tensor | undefined, v: ArrayLike<number>, off: number): number[] {
  const [rows, cols] = w.shape;
  const out = new Array<number>(rows).fill(0);
  for (let r = 0; r < rows; r++) {
    let s = b ? b.data[r] : 0;
    for (let k = 0; k < cols; k++) s += w.data[r * cols + k] * v[off + k];
    out[r] = s;
  }
  return out;
}
function cellStep(
  cls: string,
  relu: boolean,
  w: Map<string, Tensor>,
  sfx: string,
  x: ArrayLike<number>,
  xOff: number,
  h: number[],
  c: number[],
): { h: number[]; c: number[] } {
  const gi = affine(w.get(`weight_ih${sfx}`)!, w.get(`bias_ih${sfx}`), x, xOff);
  const gh = affine(w.get(`weight_hh${sfx}`)!, w.get(`bias_hh${sfx}`), h, 0);
  const H = h.length;
  if (cls.startsWith("RNN"))
    return { h: gi.map((v, j) => (relu ? Math.max(0, v + gh[j]) : Math.tanh(v + gh[j]))), c };
  if (cls.startsWith("LSTM")) {
    const g = gi.map((v, j) => v + gh[j]);
    const c2 = c.map((cv, j) => sig(g[H + j]) * cv + sig(g[j]) * Math.tanh(g[2 * H + j]));
    return { h: c2.map((cv, j) => sig(g[3 * H + j]) * Math.tanh(cv)), c: c2 };
  }
  return {
    h: h.map((hv, j) => {
      const r = sig(gi[j] + gh[j]);
      const z = sig(gi[H + j] + gh[H + j]);
      const n = Math.tanh(gi[2 * H + j] + r * gh[2 * H + j]);
      return (1 - z) * n + z * hv;
    }),
    c,
  };
}
const rowOf = (t: Tensor | null, off: number, n: number): number[] =>
  t === null ? new Array<number>(n).fill(0) : Array.from(t.data.subarray(off, off + n));

describe("rnn fixtures: coverage", () => {
  it("has at least 45 cases covering the brief", () => {
    expect(cases.length).toBeGreaterThanOrEqual(45);
    const has = (p: (c: LayerConfig) => boolean) => layers.some((c) => p(c.config));
    for (const mode of ["RNN_TANH", "RNN_RELU", "LSTM", "GRU"])
      expect(
        has((c) => c.mode === mode),
        mode,
      ).toBe(true);
    for (const cls of ["RNNCell", "LSTMCell", "GRUCell"])
      expect(
        cells.some((c) => c.config.cls === cls),
        cls,
      ).toBe(true);
    expect(cells.some((c) => c.config.cls === "RNNCell" && c.config.nonlinearity === "relu")).toBe(true);
    for (const L of [1, 2, 3])
      expect(
        has((c) => c.num_layers === L),
        `num_layers ${L}`,
      ).toBe(true);
    expect(has((c) => c.bidirectional) && has((c) => c.batch_first)).toBe(true);
    expect(has((c) => c.proj_size > 0 && c.bidirectional && c.num_layers === 2)).toBe(true);
    expect(has((c) => !c.batched) && cells.some((c) => !c.config.batched)).toBe(true);
    expect(has((c) => !c.bias) && cells.some((c) => !c.config.bias)).toBe(true);
    expect(has((c) => c.packed && c.enforce_sorted === false)).toBe(true);
    expect(has((c) => c.packed && c.enforce_sorted === true)).toBe(true);
    expect(has((c) => c.packed && c.bidirectional) && has((c) => c.packed && c.num_layers > 1)).toBe(true);
    expect(has((c) => c.states_given) && has((c) => !c.states_given)).toBe(true);
    expect(has((c) => c.dropout > 0 && !c.training) && has((c) => c.training && c.dropout === 0)).toBe(true);
    expect(layers.every((c) => !(c.config.training && c.config.dropout > 0))).toBe(true);
    expect(has((c) => c.seq_len === 1) && has((c) => c.seq_len === 7)).toBe(true);
    expect(has((c) => c.batch_size === 1) && has((c) => (c.batch_size ?? 0) >= 3)).toBe(true);
    expect(has((c) => c.input_size !== c.hidden_size)).toBe(true);
  });
});

describe.each(cases.map((c) => [c.name, c] as const))("rnn fixture %s", (_name, c) => {
  const cfg = c.config;
  const isLstm = cfg.cls === "LSTM" || cfg.cls === "LSTMCell";

  it("constructor args and repr agree with the config", () => {
    expect(c.ctor.cls).toBe(cfg.cls);
    expect(c.ctor.args).toEqual([cfg.input_size, cfg.hidden_size]);
    const kw = c.ctor.kwargs;
    expect(kw.bias ?? true).toBe(cfg.bias);
    expect(kw.nonlinearity ?? (cfg.cls === "RNN" || cfg.cls === "RNNCell" ? "tanh" : null)).toBe(
      cfg.nonlinearity,
    );
    if (cfg.kind === "layer") {
      expect(kw.num_layers ?? 1).toBe(cfg.num_layers);
      expect(kw.batch_first ?? false).toBe(cfg.batch_first);
      expect(kw.dropout ?? 0).toBe(cfg.dropout);
      expect(kw.bidirectional ?? false).toBe(cfg.bidirectional);
      expect(kw.proj_size ?? 0).toBe(cfg.proj_size);
      expect(cfg.mode).toBe(
        cfg.cls === "RNN" ? (cfg.nonlinearity === "relu" ? "RNN_RELU" : "RNN_TANH") : cfg.cls,
      );
    }
    expect(cfg.repr.startsWith(`${cfg.cls}(${cfg.input_size}, ${cfg.hidden_size}`)).toBe(true);
  });

  it("parameter names, order and shapes follow PyTorch's scheme; the file holds exactly these", () => {
    const exp = expectedParams(c);
    expect(c.paramNames).toEqual(exp.map(([n]) => n));
    for (const [n, shape] of exp) expect(c.weights.get(n)!.shape, n).toEqual(shape);
    const file = readSafetensorsFile(join(FIXTURES, "rnn", `${c.name}.safetensors`));
    expect([...file.keys()].sort()).toEqual([...c.paramNames].sort());
    for (const w of c.weights.values()) expect(w.data.every((v) => Math.abs(v) <= 0.6 && v !== 0)).toBe(true);
  });

  it("every parameter has a finite gradient of its own shape, zero exactly where no state reached it", () => {
    expect([...c.grads.keys()]).toEqual(c.paramNames);
    // weight_hh only ever multiplies a zero state when no state is given and there is a single step
    const zeroStates = !cfg.states_given && (cfg.kind === "cell" || cfg.seq_len === 1);
    for (const n of c.paramNames) {
      const g = c.grads.get(n)!;
      expect(g.shape, n).toEqual(c.weights.get(n)!.shape);
      expect(g.data.every(Number.isFinite), n).toBe(true);
      expect(
        g.data.some((v) => v !== 0),
        n,
      ).toBe(!(zeroStates && n.startsWith("weight_hh")));
    }
  });

  it("inputs, states, outputs, weightings and gradients have the configured shapes", () => {
    const H = cfg.hidden_size;
    const B = cfg.batch_size;
    expect(B === null).toBe(!cfg.batched);
    expect(c.gradInput.shape).toEqual(c.input.shape);
    expect(c.h0 !== null).toBe(cfg.states_given);
    expect(c.c0 !== null).toBe(cfg.states_given && isLstm);
    expect(c.gradH0?.shape ?? null).toEqual(c.h0?.shape ?? null);
    expect(c.gradC0?.shape ?? null).toEqual(c.c0?.shape ?? null);
    expect(c.cN !== null).toBe(isLstm);
    expect(c.wH.shape).toEqual(c.hN.shape);
    expect(c.wC?.shape ?? null).toEqual(c.cN?.shape ?? null);
    if (cfg.kind === "cell") {
      const lead = B === null ? [] : [B];
      expect(c.input.shape).toEqual([...lead, cfg.input_size]);
      expect(c.hN.shape).toEqual([...lead, H]);
      if (c.h0) expect(c.h0.shape).toEqual([...lead, H]);
      if (c.cN) expect(c.cN.shape).toEqual([...lead, H]);
      expect(c.output).toBeNull();
      expect(c.packed).toBeNull();
      return;
    }
    const D = cfg.bidirectional ? 2 : 1;
    const Hout = cfg.proj_size > 0 ? cfg.proj_size : H;
    const T = cfg.seq_len;
    const seq = (F: number) => (B === null ? [T, F] : cfg.batch_first ? [B, T, F] : [T, B, F]);
    const st = (F: number) => (B === null ? [D * cfg.num_layers, F] : [D * cfg.num_layers, B, F]);
    expect(c.input.shape).toEqual(seq(cfg.input_size));
    expect(c.output!.shape).toEqual(seq(D * Hout));
    expect(c.hN.shape).toEqual(st(Hout));
    if (c.h0) expect(c.h0.shape).toEqual(st(Hout));
    if (c.cN) expect(c.cN.shape).toEqual(st(H));
    if (c.c0) expect(c.c0.shape).toEqual(st(H));
    if (cfg.packed) {
      const n = cfg.lengths!.reduce((a, b) => a + b, 0);
      expect(Math.max(...cfg.lengths!)).toBe(T);
      expect(c.packed!.data.shape).toEqual([n, D * Hout]);
      expect(c.packed!.inputData.shape).toEqual([n, cfg.input_size]);
      expect(c.wOutput!.shape).toEqual([n, D * Hout]);
      expect(c.wOutputPadded!.shape).toEqual(c.output!.shape);
    } else {
      expect(c.packed).toBeNull();
      expect(c.wOutput!.shape).toEqual(c.output!.shape);
      expect(c.wOutputPadded).toBeNull();
    }
  });

  it("the recorded loss is the documented weighted sum of the outputs", () => {
    let loss = dot(c.hN, c.wH) + (c.cN ? dot(c.cN, c.wC!) : 0);
    if (c.packed) {
      const viaPadded = loss + dot(c.output!, c.wOutputPadded!);
      loss += dot(c.packed.data, c.wOutput!);
      expectClose(viaPadded, c.loss, { atol: 1e-5, rtol: 1e-5, what: "loss via padded output" });
    } else if (c.output) loss += dot(c.output, c.wOutput!);
    expectClose(loss, c.loss, { atol: 1e-5, rtol: 1e-5, what: "loss" });
  });

  if (cfg.kind === "layer") {
    const B = cfg.batch_size ?? 1;
    const T = cfg.seq_len;
    const lengths = cfg.lengths ?? new Array<number>(B).fill(T);
    // offset of the feature row (t, b) in a (T, B, F) / (B, T, F) / (T, F) tensor
    const row = (t: number, b: number, F: number) => (cfg.batch_first ? b * T + t : t * B + b) * F;

    if (cfg.packed) {
      it("packed: batch_sizes, sort order, and data laid out as the padded tensors", () => {
        const p = c.packed!;
        expect(p.batchSizes).toEqual(
          Array.from({ length: T }, (_, t) => lengths.filter((l) => l > t).length),
        );
        const order = p.sortedIndices ?? lengths.map((_, i) => i);
        expect(p.sortedIndices === null).toBe(cfg.enforce_sorted);
        expect([...order].sort()).toEqual(lengths.map((_, i) => i));
        for (let j = 1; j < B; j++) expect(lengths[order[j - 1]]).toBeGreaterThanOrEqual(lengths[order[j]]);
        if (p.unsortedIndices) for (let i = 0; i < B; i++) expect(order[p.unsortedIndices[i]]).toBe(i);
        const F = p.data.shape[1];
        const I = cfg.input_size;
        let k = 0;
        for (let t = 0; t < T; t++) {
          for (let j = 0; j < p.batchSizes[t]; j++, k++) {
            const b = order[j];
            expect(rowOf(p.data, k * F, F)).toEqual(rowOf(c.output!, row(t, b, F), F));
            expect(rowOf(c.wOutput!, k * F, F)).toEqual(rowOf(c.wOutputPadded!, row(t, b, F), F));
            expect(rowOf(p.inputData, k * I, I)).toEqual(rowOf(c.input, row(t, b, I), I));
          }
          for (let b = 0; b < B; b++) {
            if (t < lengths[b]) continue;
            expect(
              rowOf(c.output!, row(t, b, F), F).every((v) => v === 0),
              "padding of output",
            ).toBe(true);
            expect(rowOf(c.wOutputPadded!, row(t, b, F), F).every((v) => v === 0)).toBe(true);
            expect(
              rowOf(c.gradInput, row(t, b, I), I).every((v) => v === 0),
              "grad at padding",
            ).toBe(true);
          }
        }
        expect(k).toBe(p.data.shape[0]);
      });
    }

    it("h_n of the last layer is the output at each sequence's last valid step (reverse: step 0)", () => {
      const D = cfg.bidirectional ? 2 : 1;
      const Hout = c.hN.shape[c.hN.shape.length - 1];
      for (let b = 0; b < B; b++) {
        for (let d = 0; d < D; d++) {
          const t = d === 0 ? lengths[b] - 1 : 0;
          const out = rowOf(c.output!, row(t, b, D * Hout) + d * Hout, Hout);
          expect(rowOf(c.hN, ((cfg.num_layers - 1) * D + d) * B * Hout + b * Hout, Hout)).toEqual(out);
        }
      }
    });

    if (cfg.num_layers === 1 && !cfg.bidirectional && cfg.proj_size === 0 && !cfg.packed) {
      it("a single unidirectional layer equals its cell unrolled over time (float64 reference)", () => {
        const H = cfg.hidden_size;
        const I = cfg.input_size;
        const relu = cfg.nonlinearity === "relu";
        for (let b = 0; b < B; b++) {
          let s = { h: rowOf(c.h0, b * H, H), c: rowOf(c.c0, b * H, H) };
          for (let t = 0; t < T; t++) {
            s = cellStep(cfg.cls, relu, c.weights, "_l0", c.input.data, row(t, b, I), s.h, s.c);
            expectClose(rowOf(c.output!, row(t, b, H), H), s.h, {
              atol: 2e-5,
              what: `output[t=${t}, b=${b}]`,
            });
          }
          if (c.cN) expectClose(rowOf(c.cN, b * H, H), s.c, { atol: 2e-5, what: `c_n[b=${b}]` });
        }
      });
    }
  } else {
    it("the cell's h' (and c') follow the documented gate equations (float64 reference)", () => {
      const H = cfg.hidden_size;
      const I = cfg.input_size;
      const B = cfg.batch_size ?? 1;
      for (let b = 0; b < B; b++) {
        const s = cellStep(
          cfg.cls,
          cfg.nonlinearity === "relu",
          c.weights,
          "",
          c.input.data,
          b * I,
          rowOf(c.h0, b * H, H),
          rowOf(c.c0, b * H, H),
        );
        expectClose(rowOf(c.hN, b * H, H), s.h, { atol: 2e-5, what: `h'[${b}]` });
        if (c.cN) expectClose(rowOf(c.cN, b * H, H), s.c, { atol: 2e-5, what: `c'[${b}]` });
      }
    });
  }
});

describe("rnn fixtures: errors.json and reprs.json", () => {
  it("records a message for every bad input the brief lists", () => {
    const errs = new Map(loadRnnErrors().map((e) => [e.name, e]));
    for (const n of [
      "layer_wrong_input_size",
      "layer_wrong_h0_layers",
      "layer_input_1d",
      "layer_input_4d",
      "layer_batched_input_2d_state",
      "proj_size_equal_hidden",
      "proj_size_on_rnn",
      "proj_size_on_gru",
      "unknown_nonlinearity_layer",
      "dropout_above_one",
      "dropout_negative",
      "dropout_with_one_layer",
    ]) {
      expect(errs.get(n)?.message, n).toBeTruthy();
    }
    expect(errs.get("layer_wrong_h0_layers")!.message).toBe(
      "Expected hidden size (4, 3, 20), got [1, 3, 20]",
    );
    expect(errs.get("dropout_with_one_layer")!.kind).toBe("warning");
    for (const e of errs.values()) {
      expect(e.kind === "warning" || e.exception.endsWith("Error"), e.name).toBe(true);
      if (e.stage === "forward") expect(e.input_shape, e.name).not.toBeNull();
      if (e.stage !== "pack") expect(e.ctor?.args.length, e.name).toBe(2);
    }
  });

  it("records str(module) with structured constructor args", () => {
    const reprs = loadRnnReprs();
    const strs = reprs.map((r) => r.repr);
    for (const s of [
      "RNN(100, 20)",
      "RNN(100, 20, num_layers=4)",
      "RNNCell(100, 20)",
      "RNNCell(100, 20, bias=False, nonlinearity=relu)",
      "LSTM(10, 20, proj_size=5, num_layers=2, batch_first=True, dropout=0.5, bidirectional=True)",
    ]) {
      expect(strs).toContain(s);
    }
    for (const r of reprs) {
      expect(r.repr.startsWith(`${r.ctor.cls}(`), r.snippet).toBe(true);
      if ("args" in r.ctor) expect(r.repr.startsWith(`${r.ctor.cls}(${r.ctor.args.join(", ")}`)).toBe(true);
    }
    const net = reprs.find((r) => r.ctor.cls === "Net")!;
    expect(net.repr.split("\n")).toEqual([
      "Net(",
      "  (rnn): RNN(10, 20, batch_first=True)",
      "  (fc): Linear(in_features=20, out_features=1, bias=True)",
      ")",
    ]);
  });
});
