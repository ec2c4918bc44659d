// ONNX's protobuf messages through onnx-proto (onnx.proto compiled into a static protobufjs module), and a
// small graph builder that names nodes as PyTorch 1.13's exporter does (`/lstm/LSTM`, `/head/Gemm`), so
// that our files read like PyTorch's and our importer finds the modules in both. Browser-safe.

import onnxProto from "onnx-proto";

export const onnx = onnxProto.onnx;
import type { onnx as O } from "onnx-proto";

export const FLOAT = 1; // TensorProto.DataType.FLOAT
export const INT64 = 7; // TensorProto.DataType.INT64
/** The IR version written: 8 (ONNX 1.10+), which every onnxruntime since 1.10 reads. */
export const IR_VERSION = 8;

/** A dimension: a fixed size or a symbolic name (a dynamic axis). */
export type Dim = number | string;

/** Attribute values as builder arguments. */
export type Attr =
  | { i: number }
  | { f: number }
  | { s: string }
  | { ints: number[] }
  | { floats: number[] }
  | { strings: string[] };

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

function attrProto(name: string, a: Attr): O.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if ("i" in a) return { name, type: T.INT, i: a.i };
  if ("f" in a) return { name, type: T.FLOAT, f: a.f };
  if ("s" in a) return { name, type: T.STRING, s: utf8.encode(a.s) };
  if ("ints" in a) return { name, type: T.INTS, ints: a.ints };
  if ("floats" in a) return { name, type: T.FLOATS, floats: a.floats };
  return { name, type: T.STRINGS, strings: a.strings.map((s) => utf8.encode(s)) };
}

/** Float32 values as a little-endian TensorProto. */
export function floatTensor(name: string, data: ArrayLike<number>, dims: readonly number[]): O.ITensorProto {
  const raw = new Uint8Array(data.length * 4);
  const v = new DataView(raw.buffer);
  for (let i = 0; i < data.length; i++) v.setFloat32(4 * i, data[i], true);
  return { name, dims: [...dims], dataType: FLOAT, rawData: raw };
}

/** Int64 values (given as numbers) as a little-endian TensorProto. */
export function int64Tensor(name: string, data: readonly number[], dims: readonly number[]): O.ITensorProto {
  const raw = new Uint8Array(data.length * 8);
  const v = new DataView(raw.buffer);
  for (let i = 0; i < data.length; i++) v.setBigInt64(8 * i, BigInt(data[i]), true);
  return { name, dims: [...dims], dataType: INT64, rawData: raw };
}

export function valueInfo(name: string, elemType: number, shape: readonly Dim[] | null): O.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType,
        shape:
          shape === null
            ? null
            : { dim: shape.map((d) => (typeof d === "number" ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/** Builds one graph: nodes in order, initializers, inputs and outputs. */
export class GraphBuilder {
  readonly nodes: O.INodeProto[] = [];
  readonly initializers: O.ITensorProto[] = [];
  readonly inputs: O.IValueInfoProto[] = [];
  readonly outputs: O.IValueInfoProto[] = [];
  private readonly used = new Map<string, number>();
  private readonly names = new Set<string>();

  /** A name not used yet: `base`, else `base_1`, `base_2`, ... */
  unique(base: string): string {
    let name = base;
    for (let k = this.used.get(base) ?? 0; this.names.has(name); k++) {
      name = `${base}_${k + 1}`;
      this.used.set(base, k + 1);
    }
    this.names.add(name);
    return name;
  }

  /** Adds a node `/scope/Op` and returns its outputs' names. */
  node(
    op: string,
    inputs: readonly string[],
    scope: string,
    attrs: Record<string, Attr> = {},
    nOutputs = 1,
  ): string[] {
    const name = this.unique(scope ? `/${scope}/${op}` : `/${op}`);
    const outputs = Array.from({ length: nOutputs }, (_, k) => this.unique(`${name}_output_${k}`));
    this.nodes.push({
      name,
      opType: op,
      input: [...inputs],
      output: outputs,
      attribute: Object.entries(attrs).map(([k, a]) => attrProto(k, a)),
    });
    return outputs;
  }

  /** A float initializer; returns its (unique) name. */
  floats(name: string, data: ArrayLike<number>, dims: readonly number[]): string {
    const n = this.unique(name);
    this.initializers.push(floatTensor(n, data, dims));
    return n;
  }

  /** An int64 initializer (shapes, axes, indices); returns its name. */
  ints(name: string, data: readonly number[], dims: readonly number[] = [data.length]): string {
    const n = this.unique(name);
    this.initializers.push(int64Tensor(n, data, dims));
    return n;
  }

  input(name: string, elemType: number, shape: readonly Dim[]): string {
    this.names.add(name);
    this.inputs.push(valueInfo(name, elemType, shape));
    return name;
  }

  /** Names the graph output `name`: an Identity from `from` (so outputs carry the caller's names). */
  output(name: string, from: string, elemType: number, shape: readonly Dim[] | null): void {
    this.nodes.push({
      name: this.unique(`/Identity_${name}`),
      opType: "Identity",
      input: [from],
      output: [name],
    });
    this.names.add(name);
    this.outputs.push(valueInfo(name, elemType, shape));
  }

  /** The model's bytes. */
  encode(opts: {
    graphName: string;
    opset: number;
    producerVersion?: string;
    docString?: string;
  }): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [{ domain: "", version: opts.opset }],
      producerName: "recurrent",
      producerVersion: opts.producerVersion ?? "",
      docString: opts.docString ?? "",
      graph: {
        name: opts.graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    // a plain Uint8Array (protobufjs gives a Node Buffer in Node)
    const bytes = onnx.ModelProto.encode(model).finish();
    return new Uint8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  }
}

/** An attribute's value as a plain JS value (ints as numbers, strings decoded). */
export function attrValue(
  a: O.IAttributeProto,
): number | string | number[] | string[] | O.ITensorProto | null {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case T.INT:
      return Number(a.i ?? 0);
    case T.FLOAT:
      return a.f ?? 0;
    case T.STRING:
      return utf8d.decode(a.s ?? new Uint8Array(0));
    case T.INTS:
      return (a.ints ?? []).map(Number);
    case T.FLOATS:
      return [...(a.floats ?? [])];
    case T.STRINGS:
      return (a.strings ?? []).map((s) => utf8d.decode(s));
    case T.TENSOR:
      return a.t ?? null;
    default:
      return null;
  }
}

/** A TensorProto's values as numbers (float32, float64, int32 or int64), with its dims. */
export function tensorValues(t: O.ITensorProto): { dims: number[]; data: Float64Array; dataType: number } {
  const dims = (t.dims ?? []).map(Number);
  const n = dims.reduce((a, b) => a * b, 1);
  const dt = t.dataType ?? 0;
  const out = new Float64Array(n);
  const raw = t.rawData && t.rawData.length > 0 ? t.rawData : null;
  if (t.dataLocation === onnx.TensorProto.DataLocation.EXTERNAL)
    throw new Error(
      `tensor ${t.name}: external data is not supported (save the model with its weights inside)`,
    );
  if (raw) {
    const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const size = dt === FLOAT || dt === 6 ? 4 : dt === INT64 || dt === 11 ? 8 : 0;
    if (size === 0)
      throw new Error(`tensor ${t.name}: data type ${dt} is not supported (float, double, int32, int64 are)`);
    if (raw.byteLength !== n * size)
      throw new Error(`tensor ${t.name}: ${raw.byteLength} bytes of data for ${n} values of ${size} bytes`);
    for (let i = 0; i < n; i++) {
      out[i] =
        dt === FLOAT
          ? v.getFloat32(4 * i, true)
          : dt === 6
            ? v.getInt32(4 * i, true)
            : dt === 11
              ? v.getFloat64(8 * i, true)
              : Number(v.getBigInt64(8 * i, true));
    }
  } else {
    const src: ArrayLike<number | { toNumber(): number }> =
      dt === FLOAT
        ? (t.floatData ?? [])
        : dt === INT64
          ? ((t.int64Data ?? []) as ArrayLike<number | { toNumber(): number }>)
          : dt === 6
            ? (t.int32Data ?? [])
            : dt === 11
              ? (t.doubleData ?? [])
              : [];
    if (src.length !== n)
      throw new Error(`tensor ${t.name}: ${src.length} values for dims [${dims.join(", ")}]`);
    for (let i = 0; i < n; i++) out[i] = Number(src[i]);
  }
  return { dims, data: out, dataType: dt };
}

export function decodeModel(bytes: Uint8Array): O.ModelProto {
  return onnx.ModelProto.decode(bytes);
}
