// Shapes and views: view/reshape/squeeze share data; permute, expand, slices, cat and stack.

import { broadcastIndex, gatherStrided, reduceTo } from "./broadcast.js";
import { alloc, dtypeOf, promoteTypes } from "./dtype.js";
import { record, result } from "./engine.js";
import { normDim, sameShape, shapeNumel, shapeStr } from "./shape.js";
import { contiguousStrides, cpuOnly, Tensor } from "./tensor.js";
import { deviceClone, deviceJoin, devicePermuteFlat, deviceReshape, deviceView } from "./device.js";

function inferShape(shape: readonly number[], numel: number, from: readonly number[]): number[] {
  const out = shape.slice();
  let infer = -1;
  let known = 1;
  out.forEach((d, i) => {
    if (d === -1) {
      if (infer >= 0) throw new Error("only one dimension can be inferred");
      infer = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw new Error(`invalid shape dimension ${d} in ${shapeStr(shape)}`);
    } else known *= d;
  });
  if (infer >= 0) {
    if (known === 0 || numel % known !== 0) {
      throw new Error(
        `shape '${shapeStr(shape)}' is invalid for input of size ${numel} (shape ${shapeStr(from)})`,
      );
    }
    out[infer] = numel / known;
  } else if (known !== numel) {
    throw new Error(
      `shape '${shapeStr(shape)}' is invalid for input of size ${numel} (shape ${shapeStr(from)})`,
    );
  }
  return out;
}

/** The same data under a new shape (one dimension may be -1); shares memory with `a`. */
export function view(a: Tensor, shape: readonly number[]): Tensor {
  const s = inferShape(shape, a.numel, a.shape);
  if (a._gpu !== null) return deviceReshape(a, s);
  return result(a.data, s, [a], "ViewBackward0", (g) => [g]);
}

export function reshape(a: Tensor, shape: readonly number[]): Tensor {
  const s = inferShape(shape, a.numel, a.shape);
  if (a._gpu !== null) return deviceReshape(a, s);
  return result(a.data, s, [a], "ReshapeAliasBackward0", (g) => [g]);
}

export function flatten(a: Tensor, startDim = 0, endDim = -1): Tensor {
  if (a.ndim === 0) return reshape(a, [1]);
  const s = normDim(startDim, a.ndim);
  const e = normDim(endDim, a.ndim);
  if (s > e) throw new Error("flatten() has invalid args: start_dim cannot come after end_dim");
  const shape = [...a.shape.slice(0, s), shapeNumel(a.shape.slice(s, e + 1)), ...a.shape.slice(e + 1)];
  return reshape(a, shape);
}

/** Removes size-1 dimensions (all, or only `dim`). */
export function squeeze(a: Tensor, dim?: number): Tensor {
  let shape: number[];
  if (dim === undefined) shape = a.shape.filter((d) => d !== 1);
  else {
    const d = normDim(dim, a.ndim);
    shape = a.ndim > 0 && a.shape[d] === 1 ? a.shape.filter((_, i) => i !== d) : a.shape.slice();
  }
  if (a._gpu !== null) return deviceReshape(a, shape);
  return result(a.data, shape, [a], dim === undefined ? "SqueezeBackward0" : "SqueezeBackward1", (g) => [g]);
}

/** Inserts a size-1 dimension at `dim`. */
export function unsqueeze(a: Tensor, dim: number): Tensor {
  const d = normDim(dim, a.ndim, 1);
  const shape = a.shape.slice();
  shape.splice(d, 0, 1);
  if (a._gpu !== null) return deviceReshape(a, shape);
  return result(a.data, shape, [a], "UnsqueezeBackward0", (g) => [g]);
}

function permuteData(x: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const inStrides = contiguousStrides(shape);
  const out = alloc(dtypeOf(x), x.length) as Float32Array;
  return gatherStrided(
    x,
    perm.map((p) => shape[p]),
    perm.map((p) => inStrides[p]),
    0,
    out,
  );
}

/** Reorders dimensions: a view sharing `a`'s storage, as PyTorch's. */
export function permute(a: Tensor, dims: readonly number[]): Tensor {
  return permuteAs(a, dims, "PermuteBackward0");
}

/** `permute` under the node name of the op that asked for it (transpose and t have their own). */
function permuteAs(a: Tensor, dims: readonly number[], name: string): Tensor {
  if (dims.length !== a.ndim) {
    throw new Error(
      `permute(sparse_coo): number of dimensions in the tensor input does not match the length of the desired ordering of dimensions i.e. input.dim() = ${a.ndim} is not equal to len(dims) = ${dims.length}`,
    );
  }
  const perm = dims.map((d) => normDim(d, a.ndim));
  const shape = new Array<number>(perm.length);
  const inv = new Array<number>(perm.length).fill(-1);
  for (let i = 0; i < perm.length; i++) {
    const p = perm[i];
    if (inv[p] !== -1) throw new Error(`permute(): repeated dim in ${shapeStr(dims)}`);
    inv[p] = i;
    shape[i] = a.shape[p];
  }
  // a view: the same storage under permuted strides
  const st = a.stride();
  if (a._gpu !== null) {
    return deviceView(
      a,
      shape,
      perm.map((p) => st[p]),
      0,
      name,
    );
  }
  const out = viewOf(
    a,
    shape,
    perm.map((p) => st[p]),
    0,
  );
  // moving only size-1 dimensions (a batch of one transposed to batch-first, say) leaves the elements in
  // the same order: the gradient passes through, as a reshape's does, with no copy
  let order = -1;
  let same = true;
  for (const p of perm) {
    if (a.shape[p] === 1) continue;
    if (p < order) same = false;
    order = p;
  }
  return record(out, [a], name, same ? (g) => [g] : (g) => [permuteData(g, shape, inv)]);
}

export function transpose(a: Tensor, dim0: number, dim1: number): Tensor {
  return transposeAs(a, dim0, dim1, "TransposeBackward0");
}

/** The transpose of a tensor of at most 2 dimensions (a 0-d or 1-d tensor keeps its shape), as `torch.t`. */
export function t(a: Tensor): Tensor {
  if (a.ndim > 2) throw new Error(`t() expects a tensor with <= 2 dimensions, but self is ${a.ndim}D`);
  return transposeAs(a, 0, a.ndim < 2 ? 0 : 1, "TBackward0");
}

function transposeAs(a: Tensor, dim0: number, dim1: number, name: string): Tensor {
  if (a.ndim === 0) {
    normDim(dim0, 0);
    normDim(dim1, 0);
    return result(a.data, a.shape, [a], name, (g) => [g]);
  }
  const d0 = normDim(dim0, a.ndim);
  const d1 = normDim(dim1, a.ndim);
  const perm = a.shape.map((_, i) => i);
  perm[d0] = d1;
  perm[d1] = d0;
  return permuteAs(a, perm, name);
}

/**
 * A view of `a`'s storage: `shape` under `strides`, starting `offset` elements after `a` starts (shares
 * memory with `a`, as PyTorch's views).
 */
function viewOf(a: Tensor, shape: readonly number[], strides: readonly number[], offset: number): Tensor {
  cpuOnly(a, "a view (transpose, permute, select, narrow, expand)");
  return Tensor._view(a._data, shape, strides, a._offset + offset);
}

/** Broadcasts to `shape` (-1 keeps a dimension), as a view (stride 0); the gradient sums back. */
export function expand(a: Tensor, shape: readonly number[]): Tensor {
  const lead = shape.length - a.ndim;
  if (lead < 0) {
    throw new Error(
      `expand: the number of sizes provided (${shape.length}) must be greater or equal to the number of dimensions in the tensor (${a.ndim})`,
    );
  }
  const target = shape.map((d, i) => (d === -1 ? (i < lead ? Number.NaN : a.shape[i - lead]) : d));
  target.forEach((d, i) => {
    const src = i < lead ? 1 : a.shape[i - lead];
    if (Number.isNaN(d) || (src !== 1 && src !== d)) {
      throw new Error(
        `The expanded size of the tensor (${shape[i]}) must match the existing size (${src}) at non-singleton dimension ${i}.  Target sizes: ${shapeStr(shape)}.  Tensor sizes: ${shapeStr(a.shape)}`,
      );
    }
  });
  // a view: stride 0 along the broadcast dimensions
  const st = a.stride();
  const strides = target.map((d, i) => (i < lead || (a.shape[i - lead] === 1 && d !== 1) ? 0 : st[i - lead]));
  if (a._gpu !== null) return deviceView(a, target, strides, 0, "ExpandBackward0");
  return record(viewOf(a, target, strides, 0), [a], "ExpandBackward0", (g) => [
    reduceTo(g, broadcastIndex(a.shape, target), a.numel),
  ]);
}

/** The slice [start, start + length) along `dim`: a view sharing `a`'s storage. */
export function narrow(a: Tensor, dim: number, start: number, length: number): Tensor {
  if (a.ndim === 0) throw new Error("narrow() cannot be applied to a 0-dim tensor.");
  const d = normDim(dim, a.ndim);
  const size = a.shape[d];
  if (start < 0) start += size;
  if (
    !Number.isInteger(start) ||
    !Number.isInteger(length) ||
    start < 0 ||
    length < 0 ||
    start + length > size
  ) {
    throw new Error(`start (${start}) + length (${length}) exceeds dimension size (${size}) of dim ${d}`);
  }
  const shape = a.shape.slice();
  shape[d] = length;
  return sliceAs(a, d, start, length, shape, "SliceBackward0");
}

/**
 * Elements [start, start + length) along `d`, shaped `shape` (the same elements, with or without dim `d`),
 * as the node `name`: a view sharing `a`'s storage.
 */
function sliceAs(a: Tensor, d: number, start: number, length: number, shape: number[], name: string): Tensor {
  const size = a.shape[d];
  const inner = shapeNumel(a.shape.slice(d + 1));
  const outer = shapeNumel(a.shape.slice(0, d));
  const n = a.numel;
  // a view: the same strides (without d's for select), starting `start` steps along d
  const st = a.stride();
  const strides = shape.length === a.ndim ? st : st.filter((_, i) => i !== d);
  if (a._gpu !== null) return deviceView(a, shape, strides, start * st[d], name);
  const out = viewOf(a, shape, strides, start * st[d]);
  return record(out, [a], name, (g) => {
    const gx = new Float32Array(n);
    for (let o = 0; o < outer; o++)
      gx.set(g.subarray(o * length * inner, (o + 1) * length * inner), (o * size + start) * inner);
    return [gx];
  });
}

/** The `index`-th slice along `dim`, without that dimension. */
export function select(a: Tensor, dim: number, index: number): Tensor {
  if (a.ndim === 0) throw new Error("select() cannot be applied to a 0-dim tensor.");
  const d = normDim(dim, a.ndim);
  const size = a.shape[d];
  if (!Number.isInteger(index) || index < -size || index >= size) {
    throw new Error(
      `select(): index ${index} out of range for tensor of size ${shapeStr(a.shape)} at dimension ${d}`,
    );
  }
  const shape = a.shape.filter((_, i) => i !== d);
  return sliceAs(a, d, index < 0 ? index + size : index, 1, shape, "SelectBackward0");
}

export function unbind(a: Tensor, dim = 0): Tensor[] {
  const d = normDim(dim, a.ndim);
  const shape = a.shape.filter((_, i) => i !== d);
  const out: Tensor[] = [];
  for (let i = 0; i < a.shape[d]; i++) out.push(sliceAs(a, d, i, 1, shape, "UnbindBackward0"));
  return out;
}

/** Splits into pieces of `splitSize` along `dim` (the last may be smaller), or into the given sizes. */
export function split(a: Tensor, splitSize: number | number[], dim = 0): Tensor[] {
  const d = normDim(dim, a.ndim);
  const size = a.shape[d];
  const sizes: number[] = [];
  if (Array.isArray(splitSize)) {
    const total = splitSize.reduce((s, v) => s + v, 0);
    if (total !== size) {
      throw new Error(
        `split_with_sizes expects split_sizes to sum exactly to ${size} (input tensor's size at dimension ${d}), but got split_sizes=${shapeStr(splitSize)}`,
      );
    }
    sizes.push(...splitSize);
  } else {
    if (!(splitSize > 0) && size > 0)
      throw new Error(`split expects split_size be non-negative, but got split_size=${splitSize}`);
    for (let s = 0; s < size; s += splitSize) sizes.push(Math.min(splitSize, size - s));
    if (size === 0) sizes.push(0);
  }
  // PyTorch's node names: split_with_sizes for a list of sizes, split for one size
  const name = Array.isArray(splitSize) ? "SplitWithSizesBackward0" : "SplitBackward0";
  const out: Tensor[] = [];
  let start = 0;
  for (const s of sizes) {
    const shape = a.shape.slice();
    shape[d] = s;
    out.push(sliceAs(a, d, start, s, shape, name));
    start += s;
  }
  return out;
}

/** Splits into `chunks` pieces of equal size (ceil), the last possibly smaller, as PyTorch. */
export function chunk(a: Tensor, chunks: number, dim = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks <= 0)
    throw new Error(`chunk expects \`chunks\` to be greater than 0, got: ${chunks}`);
  const d = normDim(dim, a.ndim);
  const size = a.shape[d];
  const each = Math.ceil(size / chunks);
  // an empty dimension gives `chunks` empty pieces, as PyTorch
  if (each === 0) return split(a, Array(chunks).fill(0), d);
  return split(a, each, d);
}

/** Concatenates along `dim`; every other dimension must agree. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error("torch.cat(): expected a non-empty list of Tensors");
  const ref = tensors[0];
  const d = normDim(dim, ref.ndim);
  for (const [k, t] of tensors.entries()) {
    if (t.ndim !== ref.ndim || t.shape.some((s, i) => i !== d && s !== ref.shape[i])) {
      throw new Error(
        `Sizes of tensors must match except in dimension ${d}. Expected ${shapeStr(ref.shape)} (except dim ${d}) but got ${shapeStr(t.shape)} for tensor number ${k} in the list.`,
      );
    }
  }
  const inner = shapeNumel(ref.shape.slice(d + 1));
  const outer = shapeNumel(ref.shape.slice(0, d));
  const sizes = tensors.map((t) => t.shape[d]);
  const total = sizes.reduce((s, v) => s + v, 0);
  const shape = ref.shape.slice();
  shape[d] = total;
  return joinAs(tensors, outer, sizes, inner, shape, "CatBackward0");
}

/**
 * Joins the tensors as `outer` blocks of `sizes[k]·inner` elements each, side by side (cat, and stack as a
 * cat of size-1 dimensions), into a tensor of `shape`, as the node `name`.
 */
function joinAs(
  tensors: readonly Tensor[],
  outer: number,
  sizes: readonly number[],
  inner: number,
  shape: number[],
  name: string,
): Tensor {
  if (tensors.some((t) => t._gpu !== null)) return deviceJoin(tensors, outer, sizes, inner, shape, name);
  const total = sizes.reduce((s, v) => s + v, 0);
  const out = alloc(promoteTypes(...tensors.map((t) => t.dtype)), outer * total * inner) as Float32Array;
  let off = 0;
  for (let k = 0; k < tensors.length; k++) {
    const src = tensors[k].data;
    const len = sizes[k] * inner;
    for (let o = 0; o < outer; o++) out.set(src.subarray(o * len, (o + 1) * len), o * total * inner + off);
    off += len;
  }
  return result(out, shape, tensors, name, (g) => {
    const grads: (Float32Array | null)[] = [];
    let off2 = 0;
    for (let k = 0; k < tensors.length; k++) {
      const len = sizes[k] * inner;
      if (tensors[k].requiresGrad) {
        const gk = new Float32Array(outer * len);
        for (let o = 0; o < outer; o++)
          gk.set(g.subarray(o * total * inner + off2, o * total * inner + off2 + len), o * len);
        grads.push(gk);
      } else grads.push(null);
      off2 += len;
    }
    return grads;
  });
}

/** Stacks equally shaped tensors along a new dimension `dim`. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error("stack expects a non-empty TensorList");
  const ref = tensors[0];
  for (const [k, t] of tensors.entries()) {
    if (!sameShape(t.shape, ref.shape)) {
      throw new Error(
        `stack expects each tensor to be equal size, but got ${shapeStr(ref.shape)} at entry 0 and ${shapeStr(t.shape)} at entry ${k}`,
      );
    }
  }
  const d = normDim(dim, ref.ndim, 1);
  // a cat of the tensors with a size-1 dimension inserted at d, as one node
  const shape = ref.shape.slice();
  shape.splice(d, 0, tensors.length);
  const outer = shapeNumel(ref.shape.slice(0, d));
  const inner = shapeNumel(ref.shape.slice(d));
  return joinAs(
    tensors,
    outer,
    tensors.map(() => 1),
    inner,
    shape,
    "StackBackward0",
  );
}

/** A copy with its own memory; the gradient passes through. */
export function clone(a: Tensor): Tensor {
  if (a._gpu !== null) return deviceClone(a);
  return result(a.data.slice(), a.shape, [a], "CloneBackward0", (g) => [g]);
}

// ---------------------------------------------------------------- flip and roll

/** For each element of the output, the flat index of the input element it copies (a permutation of 0..n-1). */
function remap(shape: readonly number[], at: (d: number, i: number) => number): Int32Array {
  const nd = shape.length;
  const n = shapeNumel(shape);
  const st = new Array<number>(nd);
  let s = 1;
  for (let d = nd - 1; d >= 0; d--) {
    st[d] = s;
    s *= shape[d];
  }
  const src = new Int32Array(n);
  const counter = new Array<number>(nd).fill(0);
  for (let i = 0; i < n; i++) {
    let off = 0;
    for (let d = 0; d < nd; d++) off += at(d, counter[d]) * st[d];
    src[i] = off;
    for (let d = nd - 1; d >= 0; d--) {
      if (++counter[d] < shape[d]) break;
      counter[d] = 0;
    }
  }
  return src;
}

/** Copies `a` through `src` (out[i] = a[src[i]]) as the node `name`; the gradient goes back the same way. */
function gatherFlat(a: Tensor, src: Int32Array, name: string): Tensor {
  if (a._gpu !== null) return devicePermuteFlat(a, src, name);
  const x = a.data;
  const n = src.length;
  const out = alloc(a.dtype, n) as Float32Array;
  for (let i = 0; i < n; i++) out[i] = x[src[i]];
  return result(out, a.shape, [a], name, (g) => {
    const gx = new Float32Array(n);
    for (let i = 0; i < n; i++) gx[src[i]] = g[i];
    return [gx];
  });
}

/** Reverses the order of elements along each of `dims`, as `torch.flip`. */
export function flip(a: Tensor, dims: number | readonly number[]): Tensor {
  const list = typeof dims === "number" ? [dims] : dims;
  const rev = new Array<boolean>(a.ndim).fill(false);
  for (const dim of list) {
    const d = normDim(dim, a.ndim);
    if (rev[d]) throw new Error(`dim ${d} appears multiple times in the list of dims`);
    rev[d] = true;
  }
  return gatherFlat(
    a,
    remap(a.shape, (d, i) => (rev[d] ? a.shape[d] - 1 - i : i)),
    "FlipBackward0",
  );
}

/**
 * Rolls elements along `dims` by `shifts` (elements leaving one end come back at the other), as
 * `torch.roll`; without `dims` the tensor is rolled flattened and keeps its shape.
 */
export function roll(
  a: Tensor,
  shifts: number | readonly number[],
  dims?: number | readonly number[],
): Tensor {
  const sh = typeof shifts === "number" ? [shifts] : shifts.slice();
  if (dims === undefined || (Array.isArray(dims) && dims.length === 0)) {
    if (sh.length !== 1) throw new Error(`shifts and dimensions must align. shifts: ${sh.length}, dims:0`);
    // rolled as if flattened, in one node as PyTorch's
    const n = a.numel;
    const src = new Int32Array(n);
    for (let i = 0; i < n; i++) src[i] = (((i - sh[0]) % n) + n) % n;
    return gatherFlat(a, src, "RollBackward0");
  }
  const ds = typeof dims === "number" ? [dims] : dims;
  if (sh.length !== ds.length)
    throw new Error(`shifts and dimensions must align. shifts: ${sh.length}, dims:${ds.length}`);
  const by = new Array<number>(a.ndim).fill(0);
  ds.forEach((dim, k) => {
    const d = normDim(dim, a.ndim);
    by[d] += sh[k];
  });
  return gatherFlat(
    a,
    remap(a.shape, (d, i) => {
      const size = a.shape[d];
      return by[d] === 0 ? i : (((i - by[d]) % size) + size) % size;
    }),
    "RollBackward0",
  );
}
