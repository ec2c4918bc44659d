// Typed access to the PyTorch recurrent-layer fixtures (test/fixtures/data/rnn, format in
// test/fixtures/RNN_FIXTURES.md, generator test/fixtures/gen/rnn.py). Not a test file: the RNN, LSTM,
// GRU and cell tests import it. Every call builds fresh tensors, so tests may mutate them freely.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Tensor } from "../src/core/tensor.js";
import { Linear } from "../src/nn/linear.js";
import { GRU, GRUCell, LSTM, LSTMCell, RNN, type RNNBase, RNNCell, type RNNCellBase } from "../src/nn/rnn.js";
import { FIXTURES, fromJson, loadFixture, type TensorJson } from "./helpers.js";

const AREA = "rnn";

/** A constructor call: `new <cls>(...args, kwargs)` in PyTorch's argument names. */
export interface CtorSpec {
  cls: "RNN" | "LSTM" | "GRU" | "RNNCell" | "LSTMCell" | "GRUCell" | "Linear";
  args: number[];
  kwargs: {
    num_layers?: number;
    nonlinearity?: string;
    bias?: boolean;
    batch_first?: boolean;
    dropout?: number;
    bidirectional?: boolean;
    proj_size?: number;
  };
}

export interface LayerConfig {
  kind: "layer";
  cls: "RNN" | "LSTM" | "GRU";
  mode: "RNN_TANH" | "RNN_RELU" | "LSTM" | "GRU";
  input_size: number;
  hidden_size: number;
  num_layers: number;
  nonlinearity: "tanh" | "relu" | null; // null for LSTM / GRU
  bias: boolean;
  batch_first: boolean;
  dropout: number;
  bidirectional: boolean;
  proj_size: number;
  training: boolean; // module.train() (true) or module.eval() (false)
  packed: boolean;
  lengths: number[] | null; // per batch element, in the input's own (unsorted) order
  enforce_sorted: boolean | null;
  states_given: boolean;
  batched: boolean;
  seq_len: number;
  batch_size: number | null; // null when unbatched
  repr: string;
}

export interface CellConfig {
  kind: "cell";
  cls: "RNNCell" | "LSTMCell" | "GRUCell";
  input_size: number;
  hidden_size: number;
  nonlinearity: "tanh" | "relu" | null; // null for LSTMCell / GRUCell
  bias: boolean;
  states_given: boolean;
  batched: boolean;
  batch_size: number | null;
  repr: string;
}

export interface PackedFixture {
  inputData: Tensor; // (sum(lengths), input_size)  the packed input's data
  data: Tensor; // (sum(lengths), D*H_out)           the packed output's data
  batchSizes: number[]; // (max(lengths))
  sortedIndices: number[] | null; // null when enforce_sorted=True
  unsortedIndices: number[] | null;
}

export interface RnnCase {
  name: string;
  seed: number;
  config: LayerConfig | CellConfig;
  ctor: CtorSpec;
  paramNames: string[]; // named_parameters() order
  weights: Map<string, Tensor>; // the state_dict, iterated in paramNames order
  input: Tensor; // padded input for packed cases
  h0: Tensor | null;
  c0: Tensor | null;
  output: Tensor | null; // layers only; padded (pad_packed_sequence) for packed cases
  hN: Tensor; // h_n, or h' for cells
  cN: Tensor | null; // c_n, or c' for LSTMCell
  packed: PackedFixture | null;
  wOutput: Tensor | null; // weighting of `output`, or of `packed.data` for packed cases
  wOutputPadded: Tensor | null; // packed cases: wOutput scattered to the padded layout (0 at padding)
  wH: Tensor;
  wC: Tensor | null;
  loss: number; // sum(output*wOutput) + sum(hN*wH) + sum(cN*wC)
  grads: Map<string, Tensor>; // d loss / d parameter, paramNames order
  gradInput: Tensor;
  gradH0: Tensor | null;
  gradC0: Tensor | null;
}

type T = TensorJson | null;
interface CaseJson {
  name: string;
  seed: number;
  config: LayerConfig | CellConfig;
  ctor: CtorSpec;
  param_names: string[];
  weights_file: string;
  input: TensorJson;
  h0: T;
  c0: T;
  output: T;
  h_n: TensorJson;
  c_n: T;
  packed: {
    input_data: TensorJson;
    data: TensorJson;
    batch_sizes: number[];
    sorted_indices: number[] | null;
    unsorted_indices: number[] | null;
  } | null;
  W_output: T;
  W_output_padded: T;
  W_h: TensorJson;
  W_c: T;
  loss: number;
  grads: Record<string, TensorJson>;
  grad_input: TensorJson;
  grad_h0: T;
  grad_c0: T;
}

const opt = (t: T): Tensor | null => (t === null ? null : fromJson(t));

/** The names of every case, in generation order. */
export const RNN_CASES: readonly string[] = loadFixture<{ cases: string[] }>(AREA, "index").cases;

/** Loads one case by name. */
export function loadRnnCase(name: string): RnnCase {
  const j = loadFixture<CaseJson>(AREA, name);
  const file = readSafetensorsFile(join(FIXTURES, AREA, j.weights_file));
  const weights = new Map<string, Tensor>();
  for (const n of j.param_names) {
    const w = file.get(n);
    if (w === undefined) throw new Error(`${j.weights_file}: no tensor named ${n}`);
    weights.set(n, w);
  }
  return {
    name: j.name,
    seed: j.seed,
    config: j.config,
    ctor: j.ctor,
    paramNames: j.param_names,
    weights,
    input: fromJson(j.input),
    h0: opt(j.h0),
    c0: opt(j.c0),
    output: opt(j.output),
    hN: fromJson(j.h_n),
    cN: opt(j.c_n),
    packed:
      j.packed === null
        ? null
        : {
            inputData: fromJson(j.packed.input_data),
            data: fromJson(j.packed.data),
            batchSizes: j.packed.batch_sizes,
            sortedIndices: j.packed.sorted_indices,
            unsortedIndices: j.packed.unsorted_indices,
          },
    wOutput: opt(j.W_output),
    wOutputPadded: opt(j.W_output_padded),
    wH: fromJson(j.W_h),
    wC: opt(j.W_c),
    loss: j.loss,
    grads: new Map(j.param_names.map((n) => [n, fromJson(j.grads[n])])),
    gradInput: fromJson(j.grad_input),
    gradH0: opt(j.grad_h0),
    gradC0: opt(j.grad_c0),
  };
}

/**
 * Minimal safetensors reader (float32 only): u64 little-endian header length, a JSON header
 * {name: {dtype, shape, data_offsets: [begin, end]}} (offsets relative to the end of the header),
 * then the raw little-endian data. Deliberately independent of src/io.
 */
export function readSafetensorsFile(path: string): Map<string, Tensor> {
  const bytes = readFileSync(path);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLen).toString("utf8")) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const out = new Map<string, Tensor>();
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    if (info.dtype !== "F32") throw new Error(`${path}: ${name} has dtype ${info.dtype}, expected F32`);
    const [begin, end] = info.data_offsets;
    const data = new Float32Array((end - begin) / 4);
    for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(8 + headerLen + begin + 4 * i, true);
    out.set(name, new Tensor(data, info.shape));
  }
  return out;
}

/** One bad construction or bad input, with the message PyTorch gave. */
export interface RnnErrorCase {
  name: string;
  stage: "construct" | "forward" | "pack";
  kind: "error" | "warning";
  exception: string; // Python exception (or warning) class, e.g. "RuntimeError", "UserWarning"
  message: string; // str(e) in PyTorch 1.13
  snippet: string; // the Python expression that produced it
  note: string | null;
  ctor?: CtorSpec; // construct / forward stages
  input_shape: number[] | null;
  hx_shapes?: number[][] | null; // [h0] or [h0, c0]
  lengths?: number[]; // pack stage
  batch_first?: boolean;
  enforce_sorted?: boolean;
}

export function loadRnnErrors(): RnnErrorCase[] {
  return loadFixture<{ cases: RnnErrorCase[] }>(AREA, "errors").cases;
}

/** A module to print: a plain constructor call, or a `Net` holding named child modules. */
export type ReprCtor = CtorSpec | { cls: "Net"; children: { name: string; ctor: CtorSpec }[] };

export interface RnnReprCase {
  ctor: ReprCtor;
  snippet: string;
  repr: string; // str(module) in PyTorch 1.13
}

export function loadRnnReprs(): RnnReprCase[] {
  return loadFixture<{ modules: RnnReprCase[] }>(AREA, "reprs").modules;
}

export type AnyRnn = RNNBase | RNNCellBase | Linear;

/** The module of a constructor call (weights from its own seed: load the fixture's). */
export function build(c: CtorSpec): AnyRnn {
  const k = c.kwargs;
  const opts = {
    numLayers: k.num_layers,
    nonlinearity: k.nonlinearity as "tanh" | "relu" | undefined,
    bias: k.bias,
    batchFirst: k.batch_first,
    dropout: k.dropout,
    bidirectional: k.bidirectional,
    projSize: k.proj_size,
  };
  const [i, h] = c.args;
  switch (c.cls) {
    case "RNN":
      return new RNN(i, h, opts);
    case "LSTM":
      return new LSTM(i, h, opts);
    case "GRU":
      return new GRU(i, h, opts);
    case "RNNCell":
      return new RNNCell(i, h, { bias: k.bias, nonlinearity: opts.nonlinearity });
    case "LSTMCell":
      return new LSTMCell(i, h, { bias: k.bias });
    case "GRUCell":
      return new GRUCell(i, h, { bias: k.bias });
    case "Linear":
      return new Linear(i, h, { bias: k.bias });
  }
}
