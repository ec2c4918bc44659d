// ONNX both ways. Export: every graph runs in onnxruntime (onnxruntime-web's WebAssembly backend, in Node)
// and must give our modules' outputs (1e-5 relative) for every recurrent mode and option, at batch and
// sequence lengths other than the example's, with and without given initial states. Import: files that
// PyTorch 1.13's torch.onnx.export wrote (test/fixtures/gen/onnx.py) must rebuild PyTorch's state_dict
// and reproduce PyTorch's outputs; and our own exports must import back to the same module.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as ort from "onnxruntime-web";
import { beforeAll, describe, expect, it } from "vitest";
import { randint, randn } from "../src/core/creation.js";
import { manualSeed } from "../src/core/random.js";
import { noGrad, Tensor } from "../src/core/tensor.js";
import { exportOnnx, OnnxExportError } from "../src/io/onnx/export.js";
import { importOnnx, OnnxImportError } from "../src/io/onnx/import.js";
import { decodeModel } from "../src/io/onnx/proto.js";
import { Embedding } from "../src/nn/embedding.js";
import { LogSoftmax, Softmax } from "../src/nn/layers.js";
import { Module } from "../src/nn/module.js";
import { Dropout, Linear, ReLU, Sequential, Sigmoid, Tanh } from "../src/nn/linear.js";
import { GRU, LSTM, LSTMCell, RNN, type RNNBase, type RNNOptions } from "../src/nn/rnn.js";
import { expectClose, FIXTURES, fromJson, type TensorJson } from "./helpers.js";

const TOL = { atol: 1e-6, rtol: 1e-5 };

beforeAll(() => {
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = "error";
});

async function runOrt(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, Tensor>> {
  const s = await ort.InferenceSession.create(bytes);
  const f: Record<string, ort.Tensor> = {};
  for (const [k, t] of Object.entries(feeds))
    f[k] =
      t.dtype === "int64"
        ? new ort.Tensor(
            "int64",
            BigInt64Array.from(t.data, (v) => BigInt(v)),
            t.shape,
          )
        : new ort.Tensor("float32", t.data as Float32Array, t.shape);
  const r = await s.run(f);
  const out: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(r)) out[k] = new Tensor(v.data as Float32Array, [...v.dims]);
  await s.release();
  return out;
}

const zerosLike = (t: Tensor) => new Tensor(new Float32Array(t.numel), t.shape);

type Ctor = new (i: number, h: number, o: RNNOptions) => RNNBase;
const MODES: [string, Ctor, RNNOptions][] = [
  ["RNN tanh", RNN as Ctor, {}],
  ["RNN relu", RNN as Ctor, { nonlinearity: "relu" }],
  ["LSTM", LSTM as Ctor, {}],
  ["GRU", GRU as Ctor, {}],
];
const OPTIONS: [string, RNNOptions][] = [
  ["1 layer", {}],
  ["3 layers", { numLayers: 3 }],
  ["bidirectional", { bidirectional: true }],
  ["2 layers bidirectional batchFirst", { numLayers: 2, bidirectional: true, batchFirst: true }],
  ["batchFirst no bias", { batchFirst: true, bias: false }],
  ["2 layers no bias bidirectional", { numLayers: 2, bias: false, bidirectional: true }],
];

describe("exportOnnx: recurrent layers in onnxruntime", () => {
  for (const [mname, Cls, mopts] of MODES) {
    for (const [oname, opts] of OPTIONS) {
      it(`${mname}, ${oname}`, async () => {
        manualSeed(7);
        const m = new Cls(3, 5, { ...mopts, ...opts });
        const bf = opts.batchFirst ?? false;
        const shape = (T: number, B: number) => (bf ? [B, T, 3] : [T, B, 3]);
        const bytes = exportOnnx(m, randn(...shape(4, 2)));
        const optional = exportOnnx(m, randn(...shape(4, 2)), { initialStates: "optional" });
        const zeros = exportOnnx(m, randn(...shape(4, 2)), { initialStates: "zeros" });
        const LD = m.numLayers * m.numDirections;
        const isLstm = m instanceof LSTM;
        for (const [T, B, withState] of [
          [7, 3, false],
          [1, 5, true],
          [9, 1, true],
        ] as const) {
          const x = randn(...shape(T, B));
          const h0 = randn(LD, B, 5);
          const c0 = randn(LD, B, 5);
          const [ours, st] = noGrad(() =>
            isLstm
              ? (m as LSTM).forward(x, withState ? [h0, c0] : null)
              : (m as RNN).forward(x, withState ? h0 : null),
          );
          const feeds: Record<string, Tensor> = { input: x };
          feeds.h0 = withState ? h0 : zerosLike(h0);
          if (isLstm) feeds.c0 = withState ? c0 : zerosLike(c0);
          // states as inputs; or left out (zeros), from the graphs that allow it
          const r = await runOrt(
            withState ? bytes : T === 7 ? optional : zeros,
            withState ? feeds : { input: x },
          );
          const what = `T=${T} B=${B} states ${withState ? "given" : "default"}`;
          expectClose(r.output, ours, { ...TOL, what: `${what}: output` });
          const [hn, cn] = Array.isArray(st) ? st : [st, null];
          expectClose(r.hn, hn, { ...TOL, what: `${what}: hn` });
          if (cn) expectClose(r.cn, cn, { ...TOL, what: `${what}: cn` });
          else expect(r.cn).toBeUndefined();
        }
      });
    }
  }

  it("carries a stream across calls: final states fed back as the next call's initial states", async () => {
    manualSeed(3);
    const m = new LSTM(2, 4, { numLayers: 2 });
    const bytes = exportOnnx(m, randn(3, 1, 2));
    const x = randn(10, 2, 2);
    const [whole] = noGrad(() => m.forward(x));
    const z = new Tensor(new Float32Array(2 * 2 * 4), [2, 2, 4]);
    const first = await runOrt(bytes, { input: x.narrow(0, 0, 6), h0: z, c0: z });
    const second = await runOrt(bytes, { input: x.narrow(0, 6, 4), h0: first.hn, c0: first.cn });
    expectClose(second.output, whole.narrow(0, 6, 4), TOL);
  });

  it("unbatched (T, I) input with (L·D, H) states, as PyTorch runs it", async () => {
    manualSeed(9);
    for (const m of [
      new LSTM(3, 4, { numLayers: 2, bidirectional: true, batchFirst: true }),
      new GRU(3, 4, { numLayers: 2 }),
    ]) {
      const x = randn(6, 3);
      const h0 = randn(m.numLayers * m.numDirections, 4);
      const c0 = randn(m.numLayers * m.numDirections, 4);
      const isLstm = m instanceof LSTM;
      const [y, st] = noGrad(() => (isLstm ? (m as LSTM).forward(x, [h0, c0]) : (m as GRU).forward(x, h0)));
      const feeds: Record<string, Tensor> = { input: x, h0 };
      if (isLstm) feeds.c0 = c0;
      const r = await runOrt(exportOnnx(m, randn(2, 3)), feeds);
      expectClose(r.output, y, TOL);
      expectClose(r.hn, Array.isArray(st) ? st[0] : st, TOL);
      if (isLstm) expectClose(r.cn, (st as Tensor[])[1], TOL);
    }
  });

  it("declares dynamic batch and sequence axes, opset 17, and the optional states", () => {
    const m = new GRU(3, 5, { batchFirst: true, numLayers: 2 });
    const model = decodeModel(exportOnnx(m, randn(2, 4, 3), { initialStates: "optional" }));
    expect(Number(model.opsetImport[0].version)).toBe(17);
    const g = model.graph!;
    const dims = (name: string) =>
      g
        .input!.find((i) => i.name === name)!
        .type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));
    expect(dims("input")).toEqual(["batch", "sequence", 3]);
    expect(dims("h0")).toEqual([2, "batch", 5]);
    expect(g.initializer!.some((t) => t.name === "h0")).toBe(true); // the default: zeros
    expect(g.node!.filter((n) => n.opType === "GRU").length).toBe(2);
    const gru = g.node!.find((n) => n.opType === "GRU")!;
    expect(Number(gru.attribute!.find((a) => a.name === "linear_before_reset")!.i)).toBe(1);
    expect(g.output!.map((o) => o.name)).toEqual(["output", "hn"]);
    expect(
      decodeModel(exportOnnx(m, randn(2, 4, 3), { opsetVersion: 18 })).opsetImport[0].version.toString(),
    ).toBe("18");
  });
});

describe("exportOnnx: Linear, activations, Sequential", () => {
  it("an MLP on 2-D and 3-D input", async () => {
    manualSeed(1);
    const m = new Sequential(
      new Linear(3, 8),
      new Tanh(),
      new Dropout(0.5),
      new Linear(8, 6),
      new ReLU(),
      new Linear(6, 2, { bias: false }),
      new Sigmoid(),
    );
    for (const [ex, x] of [
      [randn(4, 3), randn(9, 3)],
      [randn(2, 5, 3), randn(3, 7, 3)],
    ]) {
      const bytes = exportOnnx(m, ex);
      const r = await runOrt(bytes, { input: x });
      m.eval();
      expectClose(
        r.output,
        noGrad(() => m.forward(x)),
        TOL,
      );
      m.train();
    }
  });
});

describe("exportOnnx: Embedding, Softmax, LogSoftmax", () => {
  it("a token classifier on int64 indices, and back through importOnnx", async () => {
    manualSeed(2);
    const m = new Sequential(
      new Embedding(11, 4, { paddingIdx: 0 }),
      new Linear(4, 6),
      new Tanh(),
      new Linear(6, 5),
      new LogSoftmax(-1),
    );
    const bytes = exportOnnx(m, randint(0, 11, [2, 3], { dtype: "int64" }));
    const x = randint(0, 11, [4, 7], { dtype: "int64" });
    const r = await runOrt(bytes, { input: x });
    const ours = noGrad(() => m.forward(x));
    expectClose(r.output, ours, TOL);
    const back = importOnnx(bytes);
    expect(Object.keys(back.stateDict())).toEqual(Object.keys(m.stateDict()));
    expectClose(noGrad(() => back.forward(x)) as Tensor, ours, TOL);
  });
  it("Softmax with PyTorch's implicit dim (1 for 2-D input)", async () => {
    manualSeed(4);
    const m = new Sequential(new Linear(3, 4), new Softmax());
    const x = randn(6, 3);
    const r = await runOrt(exportOnnx(m, randn(2, 3)), { input: x });
    expectClose(
      r.output,
      noGrad(() => m.forward(x)),
      TOL,
    );
  });
});

describe("exportOnnx refuses what ONNX cannot express", () => {
  it("Embedding with maxNorm", () => {
    expect(() =>
      exportOnnx(new Embedding(5, 3, { maxNorm: 1 }), randint(0, 5, [2], { dtype: "int64" })),
    ).toThrow(/max_norm=1 cannot be exported/);
  });
  it("LSTM with projSize", () => {
    expect(() => exportOnnx(new LSTM(3, 5, { projSize: 2 }), randn(2, 1, 3))).toThrow(
      /proj_size=2 cannot be exported: ONNX's LSTM operator has no projection/,
    );
  });
  it("cells, and modules it does not know", () => {
    expect(() => exportOnnx(new LSTMCell(3, 4), randn(2, 3))).toThrow(
      /LSTMCell cannot be exported: a cell is one time step/,
    );
    class Scale extends Module {
      forward(x: Tensor): Tensor {
        return x.mul(2);
      }
    }
    expect(() => exportOnnx(new Sequential(new Linear(2, 2), new Scale()), randn(1, 2))).toThrow(
      /Scale cannot be exported to ONNX: supported are RNN, LSTM, GRU, Linear/,
    );
  });
  it("an opset below 17, and an example input the module rejects", () => {
    expect(() => exportOnnx(new Linear(2, 2), randn(1, 2), { opsetVersion: 13 })).toThrow(OnnxExportError);
    expect(() => exportOnnx(new LSTM(3, 4), randn(2, 1, 5))).toThrow(/Expected 3, got 5/);
    expect(() => exportOnnx(new LSTM(3, 4), randn(3))).toThrow(/Expected input to be 2-D or 3-D/);
  });
});

// ---------------------------------------------------------------- import

interface OnnxFixture {
  inputs: string[];
  outputs: string[];
  state_dict: Record<string, TensorJson>;
  cases: { inputs: TensorJson[]; outputs: TensorJson[] }[];
}
const dir = join(FIXTURES, "onnx");
const load = (name: string) => ({
  bytes: new Uint8Array(readFileSync(join(dir, `${name}.onnx`))),
  fx: JSON.parse(readFileSync(join(dir, `${name}.json`), "utf8")) as OnnxFixture,
});

describe("importOnnx: PyTorch 1.13's exports", () => {
  const expectedLayers: Record<string, string[]> = {
    lstm_bi_bf: [
      "LSTM(3, 5, num_layers=2, batch_first=True, bidirectional=True)",
      "Linear(in_features=10, out_features=2, bias=True)",
    ],
    gru_last: ["GRU(3, 5, num_layers=2)", "Linear(in_features=5, out_features=4, bias=True)"],
    rnn_relu_bi: ["RNN(4, 6, bias=False, bidirectional=True)"],
    lstm_plain: ["LSTM(2, 4, num_layers=3)"],
    mlp: [
      "Linear(in_features=3, out_features=8, bias=True)",
      "Linear(in_features=8, out_features=5, bias=True)",
    ],
    gru_opset11: [
      "GRU(3, 4, batch_first=True, bidirectional=True)",
      "Linear(in_features=8, out_features=3, bias=True)",
    ],
    tagger: [
      "Embedding(11, 4)",
      "LSTM(4, 6, batch_first=True)",
      "Linear(in_features=6, out_features=11, bias=True)",
    ],
  };
  for (const [name, layers] of Object.entries(expectedLayers)) {
    it(name, () => {
      const { bytes, fx } = load(name);
      const m = importOnnx(bytes);
      expect(Object.values(m.layers).map((l) => l.toString())).toEqual(layers);
      expect(m.inputNames).toEqual(fx.inputs);
      expect(m.outputNames).toEqual(fx.outputs);
      const sd = m.stateDict();
      expect(Object.keys(sd).sort()).toEqual(Object.keys(fx.state_dict).sort());
      for (const [k, t] of Object.entries(fx.state_dict))
        expectClose(sd[k], t, { atol: 0, rtol: 0, what: k });
      for (const c of fx.cases) {
        const outs = noGrad(() => m.forward(...c.inputs.map((t) => fromJson(t))));
        const list = Array.isArray(outs) ? outs : [outs];
        for (const [k, o] of c.outputs.entries()) expectClose(list[k], o, { ...TOL, what: fx.outputs[k] });
      }
    });
  }

  it("onnxruntime itself reproduces PyTorch's outputs on PyTorch's files (so it is a fair judge of ours)", async () => {
    for (const name of [
      "lstm_bi_bf",
      "gru_last",
      "rnn_relu_bi",
      "lstm_plain",
      "mlp",
      "tagger",
      "gru_opset11",
    ]) {
      const { bytes, fx } = load(name);
      for (const c of fx.cases) {
        const feeds: Record<string, Tensor> = {};
        fx.inputs.forEach((k, i) => {
          const t = fromJson(c.inputs[i]);
          feeds[k] = name === "tagger" ? t.to("int64") : t;
        });
        const r = await runOrt(bytes, feeds);
        for (const [k, o] of c.outputs.entries())
          expectClose(r[fx.outputs[k]], o, { ...TOL, what: `${name} ${fx.outputs[k]}` });
      }
    }
  });

  it("the imported layers are the modules: the LSTM alone gives PyTorch's output", () => {
    const { bytes, fx } = load("lstm_plain");
    const m = importOnnx(bytes);
    const lstm = m.layers[""] as LSTM;
    const [x, h0, c0] = fx.cases[0].inputs.map((t) => fromJson(t));
    const [out, [hn, cn]] = noGrad(() => lstm.forward(x, [h0, c0]));
    expectClose(out, fx.cases[0].outputs[0], TOL);
    expectClose(hn, fx.cases[0].outputs[1], TOL);
    expectClose(cn, fx.cases[0].outputs[2], TOL);
  });

  it("is differentiable in the rebuilt parameters (fine-tuning)", () => {
    const { bytes, fx } = load("gru_last");
    const m = importOnnx(bytes);
    const [logp] = m.forward(fromJson(fx.cases[0].inputs[0])) as Tensor[];
    logp.sum().backward();
    for (const [k, p] of m.namedParameters()) expect(p.grad, k).not.toBeNull();
  });

  it("refuses an unsupported node, naming it and its op type", () => {
    const bytes = new Uint8Array(readFileSync(join(dir, "unsupported.onnx")));
    expect(() => importOnnx(bytes)).toThrow(OnnxImportError);
    expect(() => importOnnx(bytes)).toThrow(
      /unsupported node "\/1\/LayerNormalization" \(op type LayerNormalization\)/,
    );
    expect(() => importOnnx(new Uint8Array([1, 2, 3]))).toThrow(/not an ONNX model/);
  });
});

describe("round trip: exportOnnx then importOnnx", () => {
  it("gives back the layers, parameters and outputs", () => {
    manualSeed(5);
    const m = new GRU(3, 4, { numLayers: 2, bidirectional: true, batchFirst: true });
    const back = importOnnx(exportOnnx(m, randn(2, 3, 3)));
    expect(back.layers[""].toString()).toBe(m.toString());
    const sd = back.stateDict();
    for (const [k, t] of Object.entries(m.stateDict())) expectClose(sd[k], t, { atol: 0, rtol: 0, what: k });
    const x = randn(5, 6, 3);
    const h0 = randn(4, 5, 4);
    const [y, hn] = back.forward(x, h0) as Tensor[];
    const [yo, ho] = noGrad(() => m.forward(x, h0));
    expectClose(y, yo, TOL);
    expectClose(hn, ho, TOL);
  });
  it("with the states optional (a zero default) or left out", () => {
    manualSeed(6);
    const m = new LSTM(2, 3, { numLayers: 2 });
    const x = randn(4, 5, 2);
    const [yo] = noGrad(() => m.forward(x));
    for (const how of ["optional", "zeros"] as const) {
      const back = importOnnx(exportOnnx(m, randn(3, 2, 2), { initialStates: how }));
      expect(back.inputNames).toEqual(how === "optional" ? ["input", "h0", "c0"] : ["input"]);
      const [y] = noGrad(() => back.forward(x)) as Tensor[];
      expectClose(y, yo, TOL);
    }
  });
});
