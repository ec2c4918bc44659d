// exportOnnx: a module as an ONNX model (bytes), browser-safe. Recurrent layers become ONNX's own
// RNN / LSTM / GRU operators, one node per layer (both directions in one node), so runtimes use their
// fused kernels; the gate blocks are reordered from PyTorch's (LSTM i,f,g,o; GRU r,z,n) to ONNX's (LSTM
// i,o,f,c; GRU z,r,h) and PyTorch's GRU, whose b_hn sits inside the reset product, is linear_before_reset=1.
//
// What a graph computes is what `module.forward(input)` computes in evaluation mode (no dropout):
//   RNN / GRU:  input [, h0] -> output, hn          LSTM: input [, h0, c0] -> output, hn, cn
//   Linear, activations, Sequential, Embedding (int64 indices in), Softmax / LogSoftmax: input -> output
// h0 / c0 are graph inputs (or, by option, inputs with a default of zeros, or left out), so a stream can
// be carried across calls by feeding back the hn / cn of the previous one.
// The batch and sequence axes are dynamic ("batch", "sequence"); the example input fixes the rest.
//
// Legend: T = time, B = batch, I = input, H = hidden, G = gates·H, L = layers, D = directions.

import { Tensor } from "../../core/tensor.js";
import { Embedding } from "../../nn/embedding.js";
import { LogSoftmax, Softmax, softmaxDim } from "../../nn/layers.js";
import { Dropout, Linear, ReLU, Sequential, Sigmoid, Tanh } from "../../nn/linear.js";
import type { Module } from "../../nn/module.js";
import { GATES, LSTM, RNNBase, RNNCellBase, type RNNMode } from "../../nn/rnn.js";
import { type Dim, FLOAT, GraphBuilder, INT64 } from "./proto.js";

export interface ExportOnnxOptions {
  /** The ONNX opset (17 or newer; default 17). */
  opsetVersion?: number;
  /** The graph inputs' names (default: input, h0, c0). */
  inputNames?: string[];
  /** The graph outputs' names (default: output, hn, cn). */
  outputNames?: string[];
  /** The graph's name (default: the module's class name). */
  graphName?: string;
  /** Written into the model (e.g. what it was trained on). */
  docString?: string;
  /** Written as producer_version. */
  producerVersion?: string;
  /**
   * How a recurrent layer's initial states h0 / c0 enter the graph:
   * - "inputs" (default): ordinary graph inputs (L·D, batch, H), which every runtime feeds; pass zeros to
   *   start a stream, the outputs hn / cn of the previous call to carry it on.
   * - "optional": graph inputs with a default of zeros (ONNX's overridable initializers, of batch 1 and
   *   broadcast to the input's batch): leave them out to start from zeros. onnxruntime's Python and C APIs
   *   can feed them; onnxruntime-web (1.31) cannot, as its JS API lists only inputs without a default.
   * - "zeros": no state inputs; every call starts from zeros (hn / cn are still outputs).
   */
  initialStates?: "inputs" | "optional" | "zeros";
}

/** A value in the graph under construction: its name and shape (symbolic where dynamic). */
export interface Value {
  name: string;
  shape: Dim[];
}

/** Emits the nodes of a module applied to `x` under `scope` (the module's dotted path, as '/'-joined). */
export type Emitter = (g: GraphBuilder, m: Module, x: Value, scope: string) => Value;

const emitters = new Map<string, Emitter>();
const inputShapes = new Map<string, (m: Module, x: Tensor) => Dim[]>();

/**
 * Teaches exportOnnx a module type (by its printed name), for modules defined outside nn; `inputShape`
 * gives the graph input's symbolic shape when the module comes first.
 */
export function registerOnnxEmitter(
  typeName: string,
  emit: Emitter,
  inputShape?: (m: Module, x: Tensor) => Dim[],
): void {
  emitters.set(typeName, emit);
  if (inputShape) inputShapes.set(typeName, inputShape);
}

export class OnnxExportError extends Error {
  override name = "OnnxExportError";
}

function typeNameOf(m: Module): string {
  const ctor = m.constructor as { typeName?: string; name: string };
  return Object.hasOwn(ctor, "typeName") && ctor.typeName ? ctor.typeName : ctor.name;
}

const modeName = (mode: RNNMode) => (mode === "LSTM" ? "LSTM" : mode === "GRU" ? "GRU" : "RNN");

/** Row blocks of a (G·H, ...) weight or (G·H) bias in a new order: block k of the result is block order[k]. */
function reorderBlocks(w: Float32Array, blocks: number, order: readonly number[]): Float32Array {
  const size = w.length / blocks;
  const out = new Float32Array(w.length);
  for (let k = 0; k < order.length; k++)
    out.set(w.subarray(order[k] * size, (order[k] + 1) * size), k * size);
  return out;
}

/** ONNX's gate order, as indices into PyTorch's: LSTM i,f,g,o -> i,o,f,c; GRU r,z,n -> z,r,h. */
const ONNX_ORDER: Record<RNNMode, number[]> = {
  RNN_TANH: [0],
  RNN_RELU: [0],
  LSTM: [0, 3, 1, 2],
  GRU: [1, 0, 2],
};

function checkRecurrent(m: RNNBase): void {
  if (m.projSize > 0)
    throw new OnnxExportError(
      `LSTM with proj_size=${m.projSize} cannot be exported: ONNX's LSTM operator has no projection (weight_hr), and unrolling it into a loop of generic ops would lose the fused kernel; export an LSTM without proj_size`,
    );
}

export interface RecurrentOut {
  y: Value; // (T, B, D·H) or (B, T, D·H) as the module's layout
  hn: string; // (L·D, B, H)
  cn: string | null; // (L·D, B, H)
}

/**
 * The nodes of a recurrent stack over x (in the module's layout); h0 / c0 name (L·D, B, H) values, or
 * null for zeros.
 */
export function emitRecurrent(
  g: GraphBuilder,
  m: RNNBase,
  x: Value,
  scope: string,
  h0: string | null,
  c0: string | null,
): RecurrentOut {
  checkRecurrent(m);
  const L = m.numLayers;
  const D = m.numDirections;
  const H = m.hiddenSize;
  const G = GATES[m.mode] * H;
  const op = modeName(m.mode);
  const [Tdim, Bdim] = m.batchFirst ? [x.shape[1], x.shape[0]] : [x.shape[0], x.shape[1]];
  let seq = m.batchFirst ? g.node("Transpose", [x.name], scope, { perm: { ints: [1, 0, 2] } })[0] : x.name;
  const order = ONNX_ORDER[m.mode];
  const blocks = order.length;
  const pre = scope ? `${scope.replaceAll("/", ".")}.` : "";
  const hs: string[] = [];
  const cs: string[] = [];
  for (let l = 0; l < L; l++) {
    const inSize = l === 0 ? m.inputSize : D * H;
    const W = new Float32Array(D * G * inSize); // (D, G, I)
    const R = new Float32Array(D * G * H); // (D, G, H)
    const Bv = new Float32Array(D * 2 * G); // (D, 2G): Wb then Rb
    for (let d = 0; d < D; d++) {
      const w = m.layerWeights(l, d === 1);
      W.set(reorderBlocks(w.wIh.data, blocks, order), d * G * inSize);
      R.set(reorderBlocks(w.wHh.data, blocks, order), d * G * H);
      if (w.bIh) Bv.set(reorderBlocks(w.bIh.data, blocks, order), d * 2 * G);
      if (w.bHh) Bv.set(reorderBlocks(w.bHh.data, blocks, order), d * 2 * G + G);
    }
    const sfx = `_l${l}`;
    const inputs = [
      seq,
      g.floats(`${pre}W${sfx}`, W, [D, G, inSize]),
      g.floats(`${pre}R${sfx}`, R, [D, G, H]),
      m.bias ? g.floats(`${pre}B${sfx}`, Bv, [D, 2 * G]) : "",
      "", // sequence_lens: every sequence has the full length
    ];
    const slice = (s: string) =>
      L === 1
        ? s
        : g.node(
            "Slice",
            [s, g.ints("starts", [l * D]), g.ints("ends", [(l + 1) * D]), g.ints("axes", [0])],
            scope,
          )[0];
    inputs.push(h0 === null ? "" : slice(h0));
    if (m.mode === "LSTM" && c0 !== null) inputs.push(slice(c0));
    while (inputs[inputs.length - 1] === "") inputs.pop();
    const attrs: Record<string, { i: number } | { s: string } | { strings: string[] }> = {
      hidden_size: { i: H },
      direction: { s: D === 2 ? "bidirectional" : "forward" },
    };
    if (m.mode === "GRU") attrs.linear_before_reset = { i: 1 };
    if (m.mode === "RNN_TANH" || m.mode === "RNN_RELU") {
      const act = m.mode === "RNN_TANH" ? "Tanh" : "Relu";
      attrs.activations = { strings: D === 2 ? [act, act] : [act] };
    }
    const outs = g.node(op, inputs, scope, attrs, m.mode === "LSTM" ? 3 : 2);
    // Y (T, D, B, H) -> the next layer's input (T, B, D·H)
    seq =
      D === 1
        ? g.node("Squeeze", [outs[0], g.ints("axes", [1])], scope)[0]
        : g.node(
            "Reshape",
            [
              g.node("Transpose", [outs[0]], scope, { perm: { ints: [0, 2, 1, 3] } })[0],
              g.ints("shape", [0, 0, -1]),
            ],
            scope,
          )[0];
    hs.push(outs[1]);
    if (m.mode === "LSTM") cs.push(outs[2]);
  }
  const y = m.batchFirst ? g.node("Transpose", [seq], scope, { perm: { ints: [1, 0, 2] } })[0] : seq;
  const cat = (xs: string[]) =>
    xs.length === 1 ? xs[0] : g.node("Concat", xs, scope, { axis: { i: 0 } })[0];
  return {
    y: { name: y, shape: m.batchFirst ? [Bdim, Tdim, D * H] : [Tdim, Bdim, D * H] },
    hn: hs.length === 0 ? "" : cat(hs),
    cn: cs.length === 0 ? null : cat(cs),
  };
}

function emitLinear(g: GraphBuilder, m: Linear, x: Value, scope: string): Value {
  const pre = scope ? `${scope.replaceAll("/", ".")}.` : "";
  const last = x.shape[x.shape.length - 1];
  if (last !== m.inFeatures)
    throw new OnnxExportError(`Linear(${m.inFeatures}, ${m.outFeatures}) got an input of ${last} features`);
  const shape = [...x.shape.slice(0, -1), m.outFeatures];
  if (x.shape.length === 2) {
    // PyTorch's form for 2-D input: Gemm with transB
    const w = g.floats(`${pre}weight`, m.weight.data, m.weight.shape);
    const ins = [x.name, w];
    if (m.bias) ins.push(g.floats(`${pre}bias`, m.bias.data, m.bias.shape));
    return {
      name: g.node("Gemm", ins, scope, { alpha: { f: 1 }, beta: { f: 1 }, transB: { i: 1 } })[0],
      shape,
    };
  }
  // N-D: MatMul with the transposed weight (I, O), then Add
  const [O, I] = m.weight.shape;
  const wt = new Float32Array(I * O);
  for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) wt[i * O + o] = m.weight.data[o * I + i];
  let y = g.node("MatMul", [x.name, g.floats(`${pre}weight_t`, wt, [I, O])], scope)[0];
  if (m.bias) y = g.node("Add", [y, g.floats(`${pre}bias`, m.bias.data, m.bias.shape)], scope)[0];
  return { name: y, shape };
}

function unary(op: string): Emitter {
  return (g, _m, x, scope) => ({ name: g.node(op, [x.name], scope)[0], shape: x.shape });
}

const join = (scope: string, k: string) => (scope ? `${scope}/${k}` : k);

/** Emits a module that maps one tensor to one tensor (recurrent layers give their output sequence). */
export function emitModule(g: GraphBuilder, m: Module, x: Value, scope: string): Value {
  if (m instanceof RNNBase) return emitRecurrent(g, m, x, scope, null, null).y;
  if (m instanceof Linear) return emitLinear(g, m, x, scope);
  if (m instanceof Tanh) return unary("Tanh")(g, m, x, scope);
  if (m instanceof ReLU) return unary("Relu")(g, m, x, scope);
  if (m instanceof Sigmoid) return unary("Sigmoid")(g, m, x, scope);
  if (m instanceof Dropout) return x; // evaluation mode
  if (m instanceof Softmax || m instanceof LogSoftmax) {
    const axis = softmaxDim(x.shape.length, m.dim);
    const op = m instanceof Softmax ? "Softmax" : "LogSoftmax";
    return { name: g.node(op, [x.name], scope, { axis: { i: axis } })[0], shape: x.shape };
  }
  if (m instanceof Embedding) {
    if (m.maxNorm !== null)
      throw new OnnxExportError(
        `Embedding with max_norm=${m.maxNorm} cannot be exported: it renormalizes the looked-up rows of its weight in place at every call, which an ONNX graph (whose weights are constants) cannot do; export it without max_norm (after renormalizing the weight once)`,
      );
    const pre = scope ? `${scope.replaceAll("/", ".")}.` : "";
    const w = g.floats(`${pre}weight`, m.weight.data, m.weight.shape);
    return { name: g.node("Gather", [w, x.name], scope)[0], shape: [...x.shape, m.embeddingDim] };
  }
  if (m instanceof Sequential) {
    let y = x;
    for (const [k, c] of m.namedChildren()) y = emitModule(g, c, y, join(scope, k));
    return y;
  }
  const name = typeNameOf(m);
  const custom = emitters.get(name);
  if (custom) return custom(g, m, x, scope);
  if (m instanceof RNNCellBase)
    throw new OnnxExportError(
      `${name} cannot be exported: a cell is one time step driven by the caller's loop; export the matching RNN/LSTM/GRU layer (same weights under weight_ih_l0, ...) instead`,
    );
  throw new OnnxExportError(
    `${name} cannot be exported to ONNX: supported are RNN, LSTM, GRU, Linear, Embedding, Tanh, ReLU, Sigmoid, Softmax, LogSoftmax, Dropout, Sequential of these${emitters.size ? `, ${[...emitters.keys()].join(", ")}` : ""}`,
  );
}

/** The symbolic shape of the graph input: batch and time dynamic, the feature sizes fixed. */
function inputShape(m: Module, x: Tensor): Dim[] {
  const s: Dim[] = [...x.shape];
  const first = m instanceof Sequential ? m.children()[0] : m;
  if (first instanceof Embedding) return x.ndim === 1 ? ["sequence"] : ["batch", "sequence", ...s.slice(2)];
  if (first instanceof RNNBase && x.ndim === 2) return ["sequence", x.shape[1]];
  if (first instanceof RNNBase && x.ndim === 3) {
    s[first.batchFirst ? 0 : 1] = "batch";
    s[first.batchFirst ? 1 : 0] = "sequence";
  } else if (x.ndim >= 2) {
    // (N, *, features): every dimension but the features is dynamic
    s[0] = "batch";
    for (let i = 1; i < x.ndim - 1; i++) s[i] = `dim${i}`;
  }
  const custom = first ? inputShapes.get(typeNameOf(first)) : undefined;
  return custom ? custom(first, x) : s;
}

/**
 * The module as an ONNX model (bytes of a ModelProto): what `module.forward(exampleInput)` computes, in
 * evaluation mode. The example input fixes the input's rank and feature sizes; batch and sequence stay
 * dynamic. Throws OnnxExportError naming what cannot be expressed.
 */
export function exportOnnx(
  module: Module,
  exampleInput: Tensor,
  options: ExportOnnxOptions = {},
): Uint8Array {
  const opset = options.opsetVersion ?? 17;
  if (!Number.isInteger(opset) || opset < 17)
    throw new OnnxExportError(`opsetVersion must be an integer of at least 17, got ${opset}`);
  if (!(exampleInput instanceof Tensor))
    throw new OnnxExportError(`exampleInput must be a Tensor, got ${typeof exampleInput}`);
  // run it once, as torch.onnx.export traces: shape errors surface here with the module's own message
  const wasTraining = module.training;
  module.eval();
  try {
    (module as unknown as { forward(x: Tensor): unknown }).forward(exampleInput);
  } finally {
    module.train(wasTraining);
  }
  const g = new GraphBuilder();
  const inNames = options.inputNames ?? [];
  const outNames = options.outputNames ?? [];
  if (exampleInput.dtype === "bool")
    throw new OnnxExportError("exampleInput must be float32 (or int64 indices for an Embedding), got bool");
  const inElem = exampleInput.dtype === "int64" ? INT64 : FLOAT;
  const shape = inputShape(module, exampleInput);
  const x: Value = { name: g.input(inNames[0] ?? "input", inElem, shape), shape };
  if (module instanceof RNNBase) {
    checkRecurrent(module);
    if (exampleInput.ndim !== 3 && exampleInput.ndim !== 2)
      throw new OnnxExportError(
        `the example input of a ${modeName(module.mode)} must be 3-D (${module.batchFirst ? "B, T, I" : "T, B, I"}) or unbatched 2-D (T, I), got ${exampleInput.ndim}-D`,
      );
    // unbatched (T, I): a batch of one inside, as PyTorch runs it; states (L·D, H)
    const unbatched = exampleInput.ndim === 2;
    const batchAxis = module.batchFirst ? 0 : 1;
    const LD = module.numLayers * module.numDirections;
    const H = module.hiddenSize;
    const stateShape: Dim[] = unbatched ? [LD, H] : [LD, "batch", H];
    const how = options.initialStates ?? "inputs";
    if (how !== "inputs" && how !== "optional" && how !== "zeros")
      throw new OnnxExportError(
        `initialStates must be "inputs", "optional" or "zeros", got ${JSON.stringify(how)}`,
      );
    let target = "";
    if (how === "optional" && !unbatched) {
      // zeros of batch 1 by default, broadcast to the input's batch
      const batchOf = g.node("Shape", [x.name], "", {
        start: { i: batchAxis },
        end: { i: batchAxis + 1 },
      })[0];
      const one = g.ints("one", [1]);
      target = g.node("Concat", [one, batchOf, one], "", { axis: { i: 0 } })[0];
    }
    const unsq = (v: string, axis: number) => g.node("Unsqueeze", [v, g.ints("axes", [axis])], "")[0];
    const sq = (v: string, axis: number) => g.node("Squeeze", [v, g.ints("axes", [axis])], "")[0];
    const state = (name: string) => {
      if (how === "zeros") return null;
      g.input(name, FLOAT, stateShape);
      if (how === "optional") g.initializers.push(zerosInit(name, unbatched ? [LD, H] : [LD, 1, H]));
      if (unbatched) return unsq(name, 1);
      return how === "inputs" ? name : g.node("Expand", [name, target], "")[0];
    };
    const h0 = state(inNames[1] ?? "h0");
    const c0 = module instanceof LSTM ? state(inNames[2] ?? "c0") : null;
    const xin: Value = unbatched
      ? {
          name: unsq(x.name, batchAxis),
          shape: module.batchFirst ? [1, x.shape[0], x.shape[1]] : [x.shape[0], 1, x.shape[1]],
        }
      : x;
    const r = emitRecurrent(g, module, xin, "", h0, c0);
    const y = unbatched ? sq(r.y.name, batchAxis) : r.y.name;
    const yShape = unbatched ? [r.y.shape[module.batchFirst ? 1 : 0], r.y.shape[2]] : r.y.shape;
    g.output(outNames[0] ?? "output", y, FLOAT, yShape);
    g.output(outNames[1] ?? "hn", unbatched ? sq(r.hn, 1) : r.hn, FLOAT, stateShape);
    if (r.cn !== null) g.output(outNames[2] ?? "cn", unbatched ? sq(r.cn, 1) : r.cn, FLOAT, stateShape);
  } else {
    const y = emitModule(g, module, x, "");
    g.output(outNames[0] ?? "output", y.name, FLOAT, y.shape);
  }
  return g.encode({
    graphName: options.graphName ?? typeNameOf(module),
    opset,
    producerVersion: options.producerVersion,
    docString: options.docString,
  });
}

function zerosInit(name: string, dims: number[]) {
  return {
    name,
    dims,
    dataType: FLOAT,
    rawData: new Uint8Array(dims.reduce((a, b) => a * b, 1) * 4),
  };
}
