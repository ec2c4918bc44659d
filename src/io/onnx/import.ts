// importOnnx: an ONNX model of recurrent layers, linear layers and activations (as PyTorch 1.13's
// torch.onnx.export writes them, and as exportOnnx does) as a Module: the layers are rebuilt as nn.LSTM,
// nn.GRU, nn.RNN and nn.Linear under PyTorch's parameter names, found from the nodes' scopes (`/lstm/LSTM`
// holds `lstm.weight_ih_l0`, ...), and forward() runs the graph's glue (Transpose, Squeeze, Unsqueeze,
// Slice, Concat, Reshape, Gather, Shape, ...) with our ops around those layers, so the graph is
// differentiable in the rebuilt parameters (fine-tuning) and the layers can be taken out (streaming).
// Any other operator is refused with a message naming the node.
//
// Legend: T = time, B = batch, I = input, H = hidden, G = gates·H, D = directions.

import * as F from "../../core/ops.js";
import { Tensor } from "../../core/tensor.js";
import { Embedding } from "../../nn/embedding.js";
import { Linear } from "../../nn/linear.js";
import { Module, Parameter } from "../../nn/module.js";
import { GATES, GRU, LSTM, RNN, type RNNBase, type RNNMode } from "../../nn/rnn.js";
import { fusedLayer } from "../../nn/rnn_fused.js";
import { attrValue, decodeModel, FLOAT, INT64, tensorValues } from "./proto.js";
import type { onnx as O } from "onnx-proto";

export class OnnxImportError extends Error {
  override name = "OnnxImportError";
}

/** Operators the importer runs: the glue PyTorch writes around recurrent and linear layers. */
const GLUE = new Set([
  "Constant",
  "Identity",
  "Shape",
  "Gather",
  "Unsqueeze",
  "Squeeze",
  "Concat",
  "Slice",
  "Transpose",
  "Reshape",
  "Expand",
  "ConstantOfShape",
  "Cast",
  "Add",
  "Sub",
  "Mul",
  "Div",
  "MatMul",
  "Gemm",
  "Tanh",
  "Relu",
  "Sigmoid",
  "Softmax",
  "LogSoftmax",
  "Dropout",
]);
const RECURRENT = new Set(["LSTM", "GRU", "RNN"]);

/** PyTorch's gate order as indices into ONNX's: LSTM i,o,f,c -> i,f,g,o; GRU z,r,h -> r,z,n. */
const TORCH_ORDER: Record<string, number[]> = { LSTM: [0, 2, 3, 1], GRU: [1, 0, 2], RNN: [0] };

/** A value while the graph runs: a float tensor, or int64 values (shapes, indices) held as floats. */
interface Val {
  t: Tensor;
  int: boolean;
}

function scopeOf(nodeName: string): string {
  // "/lstm/LSTM_1" -> "lstm"; "/LSTM" -> ""; "/encoder/rnn/GRU" -> "encoder.rnn"
  const parts = nodeName.split("/").filter((p) => p !== "");
  return parts.slice(0, -1).join(".");
}

function describe(n: O.INodeProto): string {
  return `node "${n.name || "(unnamed)"}" (op type ${n.opType})`;
}

function reorder(w: Float64Array, blocks: number, order: readonly number[]): Float32Array {
  const size = w.length / blocks;
  const out = new Float32Array(w.length);
  for (let k = 0; k < order.length; k++)
    out.set(w.subarray(order[k] * size, (order[k] + 1) * size), k * size);
  return out;
}

/** One recurrent node's place in its module: layer index and the module. */
interface RecRole {
  module: RNNBase;
  layer: number;
}
/** One linear node's module: Gemm (weight as is or transposed) or MatMul / the Add after it. */
interface LinRole {
  module: Linear;
  part: "gemm" | "matmul" | "bias";
  /** For "bias": the input that is the product (the other one is the bias initializer). */
  product?: number;
}

/** A model read from ONNX bytes. */
export class OnnxModel extends Module {
  static readonly typeName = "OnnxModel";
  /** The graph's input and output names, in order. */
  readonly inputNames: string[];
  readonly outputNames: string[];
  /** The rebuilt layers by PyTorch's dotted module name ("" for a graph that is one layer). */
  readonly layers: Record<string, Module> = {};
  private readonly graph: O.IGraphProto;
  private readonly consts = new Map<string, Val>();
  private readonly rec = new Map<O.INodeProto, RecRole>();
  private readonly lin = new Map<O.INodeProto, LinRole>();
  private readonly custom = new Map<O.INodeProto, (x: Val) => Tensor>();

  /** The default-domain opset the graph was written for. */
  readonly opset: number;

  constructor(graph: O.IGraphProto, opset = 17) {
    super();
    this.graph = graph;
    this.opset = opset;
    const inits = new Map<string, O.ITensorProto>();
    for (const t of graph.initializer ?? []) inits.set(t.name ?? "", t);
    // inputs with an initializer of the same name are optional: the initializer is their default
    this.inputNames = (graph.input ?? []).map((v) => v.name ?? "");
    this.outputNames = (graph.output ?? []).map((v) => v.name ?? "");
    const nodes = graph.node ?? [];
    for (const n of nodes) {
      const op = n.opType ?? "";
      if ((n.domain ?? "") !== "" && n.domain !== "ai.onnx")
        throw new OnnxImportError(
          `unsupported ${describe(n)}: operators of domain "${n.domain}" are not supported`,
        );
      if (!GLUE.has(op) && !RECURRENT.has(op))
        throw new OnnxImportError(
          `unsupported ${describe(n)}: importOnnx reads recurrent models (LSTM, GRU, RNN, Gemm/MatMul, activations, and the glue PyTorch writes around them)`,
        );
    }
    const producer = new Map<string, O.INodeProto>();
    for (const n of nodes) for (const o of n.output ?? []) producer.set(o, n);
    const initVal = (name: string) => {
      const t = inits.get(name);
      if (!t) return null;
      const v = tensorValues(t);
      return {
        name,
        dims: v.dims,
        data: Float32Array.from(v.data),
        int: v.dataType !== FLOAT && v.dataType !== 11,
      };
    };
    const used = new Set<string>();
    // layers in the order their first node appears (PyTorch's registration order, as it runs forward)
    const pending: { at: number; scope: string; m: Module }[] = [];
    const place = (n: O.INodeProto, scope: string, m: Module) =>
      pending.push({ at: nodes.indexOf(n), scope, m });
    // recurrent layers, grouped by scope into one module each
    const groups = new Map<string, O.INodeProto[]>();
    for (const n of nodes) {
      if (!RECURRENT.has(n.opType ?? "")) continue;
      const s = scopeOf(n.name ?? "");
      if (!groups.has(s)) groups.set(s, []);
      groups.get(s)!.push(n);
    }
    for (const [scope, group] of groups) {
      const op = group[0].opType!;
      if (group.some((n) => n.opType !== op))
        throw new OnnxImportError(
          `scope "${scope}" mixes ${[...new Set(group.map((n) => n.opType))].join(" and ")} nodes`,
        );
      const mode = this.recurrentMode(group[0]);
      const layers = group.map((n) => this.readLayer(n, mode, initVal));
      const D = layers[0].D;
      const H = layers[0].H;
      const bias = layers[0].bias;
      for (const [l, r] of layers.entries()) {
        if (r.D !== D || r.H !== H || r.bias !== bias || (l > 0 && r.I !== D * H))
          throw new OnnxImportError(
            `${describe(group[l])} does not stack on the layer before it (hidden ${r.H}, directions ${r.D}, input ${r.I}, bias ${r.bias})`,
          );
      }
      // batch_first: PyTorch writes a Transpose (1, 0, 2) of the module's input before its first layer
      const first = producer.get(group[0].input?.[0] ?? "");
      const perm = first?.opType === "Transpose" ? attrOf(first, "perm") : null;
      const batchFirst =
        Array.isArray(perm) &&
        perm.join() === "1,0,2" &&
        scopeOf(first!.name ?? "") === scope &&
        group.length > 0;
      const opts = { numLayers: group.length, bidirectional: D === 2, bias, batchFirst };
      const m: RNNBase =
        mode === "LSTM"
          ? new LSTM(layers[0].I, H, opts)
          : mode === "GRU"
            ? new GRU(layers[0].I, H, opts)
            : new RNN(layers[0].I, H, { ...opts, nonlinearity: mode === "RNN_RELU" ? "relu" : "tanh" });
      const self = m as unknown as Record<string, Parameter>;
      for (const [l, r] of layers.entries()) {
        for (let d = 0; d < D; d++) {
          const sfx = `_l${l}${d === 1 ? "_reverse" : ""}`;
          self[`weight_ih${sfx}`] = new Parameter(r.wIh[d], [GATES[mode] * H, r.I]);
          self[`weight_hh${sfx}`] = new Parameter(r.wHh[d], [GATES[mode] * H, H]);
          if (bias) {
            self[`bias_ih${sfx}`] = new Parameter(r.bIh[d], [GATES[mode] * H]);
            self[`bias_hh${sfx}`] = new Parameter(r.bHh[d], [GATES[mode] * H]);
          }
        }
        this.rec.set(group[l], { module: m, layer: l });
        for (const k of [1, 2, 3]) used.add(group[l].input?.[k] ?? "");
      }
      place(group[0], scope, m.eval());
    }
    // linear layers: Gemm with an initializer weight, or MatMul by an initializer then Add of one
    const consumers = new Map<string, O.INodeProto[]>();
    for (const n of nodes)
      for (const i of n.input ?? []) {
        if (!consumers.has(i)) consumers.set(i, []);
        consumers.get(i)!.push(n);
      }
    for (const n of nodes) {
      if (n.opType === "Gemm") {
        const w = initVal(n.input?.[1] ?? "");
        const transA = attrOf(n, "transA") ?? 0;
        const transB = attrOf(n, "transB") ?? 0;
        const alpha = attrOf(n, "alpha") ?? 1;
        const beta = attrOf(n, "beta") ?? 1;
        if (!w || transA !== 0 || alpha !== 1 || beta !== 1 || w.dims.length !== 2)
          throw new OnnxImportError(
            `unsupported ${describe(n)}: expected a linear layer, x · Wᵀ + b with W an initializer (transA=0, alpha=beta=1)`,
          );
        const [O_, I_] = transB === 1 ? w.dims : [w.dims[1], w.dims[0]];
        const c = n.input?.[2] ? initVal(n.input[2]) : null;
        if (n.input?.[2] && (!c || c.data.length !== O_))
          throw new OnnxImportError(
            `unsupported ${describe(n)}: its bias must be an initializer of ${O_} values`,
          );
        const m = new Linear(I_, O_, { bias: c !== null });
        m.weight = new Parameter(transB === 1 ? w.data : transpose2(w.data, w.dims[0], w.dims[1]), [O_, I_]);
        if (c && m.bias) m.bias = new Parameter(c.data, [O_]);
        used.add(w.name);
        if (c) used.add(c.name);
        this.lin.set(n, { module: m, part: "gemm" });
        place(n, scopeOf(n.name ?? ""), m);
      } else if (n.opType === "MatMul") {
        const w = initVal(n.input?.[1] ?? "");
        if (!w) continue; // a product of two computed values: runs as glue
        if (w.dims.length !== 2)
          throw new OnnxImportError(`unsupported ${describe(n)}: a weight of rank ${w.dims.length}`);
        const [I_, O_] = w.dims;
        const next = consumers.get(n.output?.[0] ?? "") ?? [];
        const add = next.length === 1 && next[0].opType === "Add" ? next[0] : null;
        const other = add ? (add.input ?? []).find((i) => i !== n.output?.[0]) : undefined;
        const b = other !== undefined ? initVal(other) : null;
        const hasBias = b !== null && b.dims.length === 1 && b.dims[0] === O_;
        const m = new Linear(I_, O_, { bias: hasBias });
        m.weight = new Parameter(transpose2(w.data, I_, O_), [O_, I_]);
        used.add(w.name);
        this.lin.set(n, { module: m, part: "matmul" });
        if (hasBias && add && b && m.bias) {
          m.bias = new Parameter(b.data, [O_]);
          used.add(b.name);
          this.lin.set(add, { module: m, part: "bias", product: add.input?.[0] === b.name ? 1 : 0 });
        }
        place(n, scopeOf(n.name ?? ""), m);
      } else if (n.opType === "Gather") {
        const w = initVal(n.input?.[0] ?? "");
        if (!w || w.int) continue; // indexing shapes: glue
        // a lookup of rows of a float weight: an embedding
        if ((attrOf(n, "axis") ?? 0) !== 0 || w.dims.length !== 2)
          throw new OnnxImportError(
            `unsupported ${describe(n)}: a lookup into the initializer ${w.name} that is not an embedding (rows of a 2-D weight)`,
          );
        const m = new Embedding(w.dims[0], w.dims[1], { weight: new Tensor(w.data, w.dims) });
        used.add(w.name);
        this.custom.set(n, (idx) => m.forward(idx.t.dtype === "int64" ? idx.t : idx.t.to("int64")));
        place(n, scopeOf(n.name ?? ""), m);
      }
    }
    pending.sort((a, b) => a.at - b.at);
    for (const p of pending) this.addLayer(p.scope, p.m);
    for (const [name, t] of inits) {
      if (used.has(name)) continue;
      const v = tensorValues(t);
      this.consts.set(name, {
        t: new Tensor(Float32Array.from(v.data), v.dims),
        int: v.dataType !== FLOAT && v.dataType !== 11,
      });
    }
  }

  private addLayer(scope: string, m: Module): void {
    if (this.layers[scope] !== undefined && this.layers[scope] !== m)
      throw new OnnxImportError(
        `two layers share the scope "${scope || "(root)"}": ${this.layers[scope].toString()} and ${m.toString()}`,
      );
    this.layers[scope] = m;
    const self = this as unknown as Record<string, unknown>;
    if (scope === "") {
      // a graph that is one layer: its parameters are the model's own, under the layer's names
      for (const [k, p] of m.namedParameters()) self[k] = p;
    } else self[scope] = m;
  }

  private recurrentMode(n: O.INodeProto): RNNMode {
    if (n.opType === "LSTM") return "LSTM";
    if (n.opType === "GRU") return "GRU";
    const acts = attrOf(n, "activations");
    const a = Array.isArray(acts) && acts.length > 0 ? String(acts[0]) : "Tanh";
    if (a !== "Tanh" && a !== "Relu")
      throw new OnnxImportError(
        `unsupported ${describe(n)}: activation ${a} (PyTorch's RNN has tanh or relu)`,
      );
    return a === "Relu" ? "RNN_RELU" : "RNN_TANH";
  }

  private readLayer(
    n: O.INodeProto,
    mode: RNNMode,
    initVal: (name: string) => { name: string; dims: number[]; data: Float32Array } | null,
  ) {
    const bad = (why: string) => new OnnxImportError(`unsupported ${describe(n)}: ${why}`);
    const H = attrOf(n, "hidden_size") as number;
    const dir = (attrOf(n, "direction") as string | null) ?? "forward";
    if (dir !== "forward" && dir !== "bidirectional")
      throw bad(`direction "${dir}" (PyTorch runs forward, or both)`);
    if ((attrOf(n, "layout") ?? 0) !== 0) throw bad("layout=1 (PyTorch writes layout 0 with Transposes)");
    if (attrOf(n, "clip") !== null) throw bad("clip (PyTorch's layers do not clip)");
    if ((attrOf(n, "input_forget") ?? 0) !== 0) throw bad("input_forget=1");
    if (mode === "GRU" && attrOf(n, "linear_before_reset") !== 1)
      throw bad("linear_before_reset=0 (PyTorch's GRU is linear_before_reset=1)");
    const acts = attrOf(n, "activations");
    const want = mode === "LSTM" ? ["Sigmoid", "Tanh", "Tanh"] : mode === "GRU" ? ["Sigmoid", "Tanh"] : null;
    if (want && Array.isArray(acts) && acts.length > 0) {
      const per = acts.length / (dir === "bidirectional" ? 2 : 1);
      if (acts.some((a, i) => a !== want[i % per])) throw bad(`activations ${acts.join(", ")}`);
    }
    const ins = n.input ?? [];
    if (mode === "LSTM" && ins[7]) throw bad("peephole weights P (PyTorch's LSTM has none)");
    if (ins[4]) throw bad("sequence_lens (the importer runs full-length sequences)");
    const W = initVal(ins[1] ?? "");
    const R = initVal(ins[2] ?? "");
    const B = ins[3] ? initVal(ins[3]) : null;
    if (!W || !R || (ins[3] && !B)) throw bad("W, R and B must be initializers");
    const D = dir === "bidirectional" ? 2 : 1;
    const G = GATES[mode] * H;
    const I = W.dims[2];
    if (W.dims.join() !== [D, G, I].join() || R.dims.join() !== [D, G, H].join())
      throw bad(`weights of shapes [${W.dims}] and [${R.dims}] for hidden_size ${H}`);
    const order = TORCH_ORDER[n.opType!];
    const blocks = order.length;
    const w64 = (a: Float32Array, d: number, len: number) =>
      Float64Array.from(a.subarray(d * len, (d + 1) * len));
    const wIh: Float32Array[] = [];
    const wHh: Float32Array[] = [];
    const bIh: Float32Array[] = [];
    const bHh: Float32Array[] = [];
    for (let d = 0; d < D; d++) {
      wIh.push(reorder(w64(W.data, d, G * I), blocks, order));
      wHh.push(reorder(w64(R.data, d, G * H), blocks, order));
      if (B) {
        const b = w64(B.data, d, 2 * G);
        bIh.push(reorder(b.subarray(0, G), blocks, order));
        bHh.push(reorder(b.subarray(G), blocks, order));
      }
    }
    return { D, H, I, bias: B !== null, wIh, wHh, bIh, bHh };
  }

  /** Runs the graph on inputs given by name; returns every graph output by name. */
  run(feeds: Record<string, Tensor>): Record<string, Tensor> {
    const env = new Map<string, Val>(this.consts);
    const inputTypes = new Map<string, number>();
    for (const v of this.graph.input ?? [])
      inputTypes.set(v.name ?? "", v.type?.tensorType?.elemType ?? FLOAT);
    for (const name of this.inputNames) {
      const t = feeds[name];
      if (t === undefined && this.consts.has(name)) continue;
      if (t === undefined)
        throw new OnnxImportError(`missing input "${name}": the graph takes ${this.inputNames.join(", ")}`);
      env.set(name, { t, int: inputTypes.get(name) === INT64 });
    }
    for (const [name, t] of Object.entries(feeds)) {
      if (!this.inputNames.includes(name)) {
        if (this.consts.has(name)) env.set(name, { t, int: this.consts.get(name)!.int });
        else
          throw new OnnxImportError(`unknown input "${name}": the graph takes ${this.inputNames.join(", ")}`);
      }
    }
    for (const n of this.graph.node ?? []) {
      const get = (k: number): Val | null => {
        const name = n.input?.[k];
        if (!name) return null;
        const v = env.get(name);
        if (!v) throw new OnnxImportError(`${describe(n)} reads "${name}", which nothing computed before it`);
        return v;
      };
      const outs = this.runNode(n, get);
      outs.forEach((v, k) => {
        const name = n.output?.[k];
        if (name) env.set(name, v);
      });
    }
    const out: Record<string, Tensor> = {};
    for (const name of this.outputNames) out[name] = env.get(name)!.t;
    return out;
  }

  /** The graph's outputs for inputs given in the graph's order: one tensor, or an array of them. */
  forward(...inputs: Tensor[]): Tensor | Tensor[] {
    const feeds: Record<string, Tensor> = {};
    inputs.forEach((t, i) => {
      if (i >= this.inputNames.length)
        throw new OnnxImportError(`the graph takes ${this.inputNames.length} input(s), got ${inputs.length}`);
      feeds[this.inputNames[i]] = t;
    });
    const out = this.run(feeds);
    const list = this.outputNames.map((k) => out[k]);
    return list.length === 1 ? list[0] : list;
  }

  private runNode(n: O.INodeProto, get: (k: number) => Val | null): Val[] {
    const op = n.opType!;
    const X = (): Val => get(0)!;
    const f = (t: Tensor): Val[] => [{ t, int: false }];
    const same = (t: Tensor): Val[] => [{ t, int: X().int }];
    const ints = (v: Val | null): number[] => (v ? Array.from(v.t.data) : []);
    const axisOf = (a: number, rank: number) => (a < 0 ? a + rank : a);
    const bad = (why: string) => new OnnxImportError(`unsupported ${describe(n)}: ${why}`);
    switch (op) {
      case "Constant": {
        const v = attrOf(n, "value") as O.ITensorProto | null;
        if (!v || typeof v !== "object") throw bad("only `value` constants are supported");
        const tv = tensorValues(v);
        return [
          {
            t: new Tensor(Float32Array.from(tv.data), tv.dims),
            int: tv.dataType !== FLOAT && tv.dataType !== 11,
          },
        ];
      }
      case "Identity":
      case "Dropout":
        return [X()];
      case "Cast": {
        const to = attrOf(n, "to");
        return [{ t: X().t, int: to !== FLOAT && to !== 11 }];
      }
      case "Shape": {
        const r = X().t.ndim;
        const s = axisOf((attrOf(n, "start") as number | null) ?? 0, r);
        const e = axisOf((attrOf(n, "end") as number | null) ?? r, r);
        const dims = X().t.shape.slice(Math.max(0, s), Math.min(r, e));
        return [{ t: new Tensor(Float32Array.from(dims), [dims.length]), int: true }];
      }
      case "Gather": {
        const custom = this.custom.get(n);
        if (custom) return f(custom(get(1)!));
        const idx = get(1)!;
        const axis = axisOf((attrOf(n, "axis") as number | null) ?? 0, X().t.ndim);
        const size = X().t.shape[axis];
        const at = (i: number) => F.select(X().t, axis, i < 0 ? i + size : i);
        if (idx.t.ndim === 0) return same(at(idx.t.data[0]));
        const picked = F.stack(Array.from(idx.t.data, at), axis);
        const shape = [...X().t.shape.slice(0, axis), ...idx.t.shape, ...X().t.shape.slice(axis + 1)];
        return same(F.reshape(picked, shape));
      }
      case "Unsqueeze": {
        let t = X().t;
        // opset 13 on: axes as an input; before: as an attribute
        const given = get(1) ? ints(get(1)) : ((attrOf(n, "axes") as number[] | null) ?? []);
        const axes = given.map((a) => axisOf(a, t.ndim + given.length)).sort((a, b) => a - b);
        for (const a of axes) t = F.unsqueeze(t, a);
        return same(t);
      }
      case "Squeeze": {
        let t = X().t;
        const given = get(1) ? ints(get(1)) : (attrOf(n, "axes") as number[] | null);
        const axes = given
          ? given.map((a) => axisOf(a, t.ndim))
          : t.shape.flatMap((d, i) => (d === 1 ? [i] : []));
        for (const a of axes.sort((p, q) => q - p)) t = F.squeeze(t, a);
        return same(t);
      }
      case "Concat": {
        const vs = (n.input ?? []).map((_, k) => get(k)!).filter((v) => v.t.numel > 0 || v.t.ndim > 1);
        const axis = axisOf(attrOf(n, "axis") as number, vs[0].t.ndim);
        return [
          {
            t:
              vs.length === 1
                ? vs[0].t
                : F.cat(
                    vs.map((v) => v.t),
                    axis,
                  ),
            int: vs[0].int,
          },
        ];
      }
      case "Slice": {
        let t = X().t;
        const starts = ints(get(1));
        const ends = ints(get(2));
        const axes = get(3) ? ints(get(3)) : starts.map((_, i) => i);
        const steps = get(4) ? ints(get(4)) : starts.map(() => 1);
        axes.forEach((a0, i) => {
          const a = axisOf(a0, t.ndim);
          if (steps[i] !== 1) throw bad(`step ${steps[i]} (only step 1 is supported)`);
          const size = t.shape[a];
          const clamp = (v: number) => Math.max(0, Math.min(size, v < 0 ? v + size : v));
          const s = clamp(starts[i]);
          const e = clamp(ends[i]);
          t = F.narrow(t, a, s, Math.max(0, e - s));
        });
        return same(t);
      }
      case "Transpose": {
        const perm = (attrOf(n, "perm") as number[] | null) ?? X().t.shape.map((_, i) => X().t.ndim - 1 - i);
        return same(F.permute(X().t, perm));
      }
      case "Reshape": {
        const want = ints(get(1));
        if (attrOf(n, "allowzero") === 1) throw bad("allowzero=1");
        const shape = want.map((d, i) => (d === 0 ? X().t.shape[i] : d));
        return same(F.reshape(X().t, shape));
      }
      case "Expand": {
        const want = ints(get(1));
        const r = Math.max(want.length, X().t.ndim);
        const xs = [...Array(r - X().t.ndim).fill(1), ...X().t.shape];
        const ws = [...Array(r - want.length).fill(1), ...want];
        const shape = xs.map((d, i) => (d === 1 ? ws[i] : d));
        let t = X().t;
        while (t.ndim < r) t = F.unsqueeze(t, 0);
        return same(F.expand(t, shape));
      }
      case "ConstantOfShape": {
        const shape = ints(X());
        const v = attrOf(n, "value") as O.ITensorProto | null;
        const tv = v ? tensorValues(v) : { data: new Float64Array(1), dataType: FLOAT };
        const numel = shape.reduce((a, b) => a * b, 1);
        return [
          { t: new Tensor(new Float32Array(numel).fill(tv.data[0]), shape), int: tv.dataType === INT64 },
        ];
      }
      case "Add":
      case "Sub":
      case "Mul":
      case "Div": {
        const role = this.lin.get(n);
        if (role && role.part === "bias") return f(F.add(get(role.product!)!.t, role.module.bias!));
        const a = get(0)!;
        const b = get(1)!;
        const fn = op === "Add" ? F.add : op === "Sub" ? F.sub : op === "Mul" ? F.mul : F.div;
        let t = fn(a.t, b.t);
        if (a.int && b.int && op === "Div") t = new Tensor(t.data.map(Math.trunc), t.shape);
        return [{ t, int: a.int && b.int }];
      }
      case "MatMul": {
        const role = this.lin.get(n);
        if (role) return f(F.matmul(X().t, F.t(role.module.weight)));
        return f(F.matmul(X().t, get(1)!.t));
      }
      case "Gemm": {
        const m = this.lin.get(n)!.module;
        return f(F.linear(X().t, m.weight, m.bias));
      }
      case "Tanh":
        return f(F.tanh(X().t));
      case "Relu":
        return f(F.relu(X().t));
      case "Sigmoid":
        return f(F.sigmoid(X().t));
      case "Softmax":
      case "LogSoftmax": {
        const t = X().t;
        const axis = axisOf((attrOf(n, "axis") as number | null) ?? (this.opset < 13 ? 1 : -1), t.ndim);
        // before opset 13 the input was flattened to 2-D at axis: the same only when axis is the last dim
        if (this.opset < 13 && axis !== t.ndim - 1)
          throw bad(
            `opset ${this.opset} ${op} over dims ${axis}.. of a ${t.ndim}-D input (export with opset 13+)`,
          );
        return f(op === "Softmax" ? F.softmax(t, axis) : F.logSoftmax(t, axis));
      }
      case "LSTM":
      case "GRU":
      case "RNN":
        return this.runRecurrent(n, X().t, get(5)?.t ?? null, op === "LSTM" ? (get(6)?.t ?? null) : null);
      default:
        throw bad("not supported");
    }
  }

  /** One ONNX recurrent node: X (T, B, I), initial_h / initial_c (D, B, H) -> Y (T, D, B, H), Y_h, Y_c. */
  private runRecurrent(n: O.INodeProto, X: Tensor, h0: Tensor | null, c0: Tensor | null): Val[] {
    const { module: m, layer } = this.rec.get(n)!;
    const [T, B, I] = X.shape;
    const D = m.numDirections;
    const H = m.hiddenSize;
    const zeros = () => new Tensor(new Float32Array(B * H), [B, H]);
    const ys: Tensor[] = [];
    const hs: Tensor[] = [];
    const cs: Tensor[] = [];
    const x = F.reshape(X, [T * B, I]);
    const batchSizes = new Int32Array(T).fill(B);
    for (let d = 0; d < D; d++) {
      const r = fusedLayer({
        mode: m.mode,
        x,
        batchSizes,
        full: true,
        h0: h0 ? F.select(h0, 0, d) : zeros(),
        c0: m.mode === "LSTM" ? (c0 ? F.select(c0, 0, d) : zeros()) : null,
        ...m.layerWeights(layer, d === 1),
        reverse: d === 1,
      });
      ys.push(F.reshape(r.y, [T, B, H]));
      hs.push(r.hN);
      if (r.cN) cs.push(r.cN);
    }
    const out: Val[] = [
      { t: F.stack(ys, 1), int: false },
      { t: F.stack(hs, 0), int: false },
    ];
    if (m.mode === "LSTM") out.push({ t: F.stack(cs, 0), int: false });
    return out;
  }
}

function transpose2(w: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = w[r * cols + c];
  return out;
}

function attrOf(n: O.INodeProto, name: string): ReturnType<typeof attrValue> {
  const a = (n.attribute ?? []).find((x) => x.name === name);
  return a ? attrValue(a) : null;
}

/**
 * Reads an ONNX model (bytes of a ModelProto) of recurrent and linear layers as an OnnxModel. Refuses
 * any other operator with a message naming the node (its name and op type).
 */
export function importOnnx(bytes: Uint8Array): OnnxModel {
  if (!(bytes instanceof Uint8Array))
    throw new OnnxImportError(`expected the model's bytes (Uint8Array), got ${typeof bytes}`);
  let model: O.ModelProto;
  try {
    model = decodeModel(bytes);
  } catch (e) {
    throw new OnnxImportError(`not an ONNX model (the bytes are not a ModelProto): ${(e as Error).message}`);
  }
  if (!model.graph || (model.graph.node ?? []).length === 0)
    throw new OnnxImportError("not an ONNX model: it has no graph (or an empty one)");
  const opset = (model.opsetImport ?? []).find((o) => (o.domain ?? "") === "" || o.domain === "ai.onnx");
  const v = opset ? Number(opset.version) : 0;
  if (v < 9)
    throw new OnnxImportError(`opset ${v || "(none)"} is too old: importOnnx reads opset 9 and newer`);
  return new OnnxModel(model.graph, v);
}
