// The indexing ops on the webgpu device (kernels/webgpu/index-ops.ts): gather, scatter, scatterAdd,
// indexSelect, maskedFill, all / any, the integer cumsum, and sort / argsort / topk, with the gradients of
// their CPU versions (indexing.ts, sorting.ts) and the same node names. The callers check the shapes as on
// the CPU; the index values stay on the device and are checked there, as PyTorch's CUDA kernels assert:
// the kernel flags the first index out of range (context.ts's indexCheck()) and the next read back
// rejects with the CPU's words for it (IndexCheckError), raised asynchronously; the op's results (NaN, 0
// from an int64 or bool source, nothing scattered) are not valid meanwhile.

import { coerce, type DType } from "./dtype.js";
import { deviceIndexTensor, deviceTensor, IndexStorage, mixedDevices } from "./device.js";
import { recordDevice } from "./engine.js";
import { shapeNumel } from "./shape.js";
import { Tensor, type TensorLike } from "./tensor.js";
import type { WebGPUContext } from "../kernels/webgpu/index.js";
import {
  contiguous,
  gpuIndexCheck,
  gpuIndexGather,
  gpuIndexScatter,
  gpuIntCumsum,
  gpuRank,
  gpuTruth,
  gpuWhere,
} from "../kernels/webgpu/index-ops.js";
import { gpuSum, gpuSumTo } from "../kernels/webgpu/ops.js";

const NAN_WORD = 0x7fc00000;

/** The 32-bit words of a device tensor: float32 values, or an int64 / bool tensor's integers. */
function words(t: Tensor): GPUBuffer {
  const s = t._gpu!;
  return s instanceof IndexStorage ? s.indices : s.buffer;
}

/** A new device tensor of `dtype` over `buf`. */
function wrap(ctx: WebGPUContext, buf: GPUBuffer, shape: readonly number[], dtype: DType): Tensor {
  return dtype === "float32" ? deviceTensor(ctx, buf, shape) : deviceIndexTensor(ctx, buf, shape, dtype);
}

/** The context of the tensors, all on the device (PyTorch's error where one is on the CPU). */
function ctxOf(...ts: Tensor[]): WebGPUContext {
  for (const t of ts) if (t._gpu === null) throw mixedDevices("webgpu", "cpu");
  return ts[0]._gpu!.ctx;
}

/** One value of `dtype` as a 1-word device buffer. */
function scalarWord(ctx: WebGPUContext, v: number, dtype: DType): GPUBuffer {
  const c = coerce(v, dtype);
  return dtype === "float32" ? ctx.upload(Float32Array.of(c)) : ctx.upload(Int32Array.of(c));
}

/** `torch.gather` on the device (shapes checked by the caller): GatherBackward0 scatters g back, added. */
export function deviceGather(a: Tensor, d: number, index: Tensor): Tensor {
  const ctx = ctxOf(a, index);
  const ashape = a.ndim === 0 ? [1] : a.shape;
  const S = index.ndim === 0 ? [1] : index.shape;
  const istr = contiguous(S);
  const y = gpuIndexGather(ctx, words(a), words(index), {
    S,
    astr: contiguous(ashape),
    istr,
    ostr: istr,
    d,
    size: ashape[d],
    oob: a.dtype === "float32" ? NAN_WORD : 0,
    check: "gather",
  });
  const out = wrap(ctx, y, index.shape, a.dtype);
  return recordDevice(out, [a], "GatherBackward0", (g) => [
    deviceTensor(
      ctx,
      gpuIndexScatter(ctx, null, words(g), words(index), {
        T: ashape,
        S,
        istr,
        vstr: istr,
        d,
        mode: "add",
        check: "gather",
      }),
      a.shape,
    ),
  ]);
}

/**
 * `torch.scatter` (src a tensor of a's dtype, or a number) and `torch.scatter_add` (`add`) on the device,
 * shapes checked by the caller. The gradients as the CPU's: a's is g with zeros at the written places
 * (scatter) or g itself (scatter_add); src's is g gathered at the index.
 */
export function deviceScatter(
  a: Tensor,
  d: number,
  index: Tensor,
  src: Tensor | number,
  add: boolean,
): Tensor {
  const op = add ? ("scatter_add" as const) : ("scatter" as const);
  const s = src instanceof Tensor ? src : null;
  const ctx = s === null ? ctxOf(a, index) : ctxOf(a, index, s);
  if (s !== null && s.dtype !== a.dtype) {
    throw new Error(`${op}(): Expected self.dtype to be equal to src.dtype`);
  }
  if (s !== null && s.ndim === 0 && s.requiresGrad) {
    // each index position would write the one gradient element: a race on the device
    throw new Error(
      `${op} on webgpu: the gradient of a 0-d src is not supported yet (give src the index's shape)`,
    );
  }
  if (add && a.dtype !== "float32") {
    throw new Error(`${op} on webgpu: expected a float32 tensor, got ${a.dtype}`);
  }
  const ashape = a.ndim === 0 ? [1] : a.shape;
  const S = index.ndim === 0 ? [1] : index.shape;
  const istr = contiguous(S);
  const srcShape = s === null || s.ndim === 0 ? null : s.shape;
  const vstr = srcShape === null ? S.map(() => 0) : contiguous(srcShape);
  const v = s === null ? scalarWord(ctx, src as number, a.dtype) : words(s);
  const y = gpuIndexScatter(ctx, words(a), v, words(index), {
    T: ashape,
    S,
    istr,
    vstr,
    d,
    mode: add ? "add" : "last",
    check: op,
  });
  if (s === null) ctx.release(v);
  const out = wrap(ctx, y, a.shape, a.dtype);
  const inputs = s === null ? [a] : [a, s];
  const name = add ? "ScatterAddBackward0" : s === null ? "ScatterBackward1" : "ScatterBackward0";
  return recordDevice(out, inputs, name, (g) => {
    let ga: Tensor | null = null;
    if (a.requiresGrad) {
      if (add) ga = g;
      else {
        const zero = ctx.upload(new Float32Array(1));
        const spec = { T: ashape, S, istr, vstr: S.map(() => 0), d, mode: "last" as const, check: op };
        ga = deviceTensor(ctx, gpuIndexScatter(ctx, words(g), zero, words(index), spec), a.shape);
        ctx.release(zero);
      }
    }
    if (s === null) return [ga];
    let gs: Tensor | null = null;
    if (s.requiresGrad) {
      const spec = { S, astr: contiguous(ashape), istr, ostr: vstr, d, size: ashape[d], oob: 0, check: op };
      gs = deviceTensor(ctx, gpuIndexGather(ctx, words(g), words(index), spec, s.numel), s.shape);
    }
    return [ga, gs];
  });
}

/** `torch.index_select` on the device (index a 1-D or 0-d int64; checked by the caller). */
export function deviceIndexSelect(a: Tensor, d: number, index: Tensor): Tensor {
  const ctx = ctxOf(a, index);
  const ashape = a.ndim === 0 ? [1] : a.shape;
  const k = index.numel;
  const S = ashape.slice();
  S[d] = k;
  const istr = S.map((_, i) => (i === d ? 1 : 0));
  const ostr = contiguous(S);
  const y = gpuIndexGather(ctx, words(a), words(index), {
    S,
    astr: contiguous(ashape),
    istr,
    ostr,
    d,
    size: ashape[d],
    oob: a.dtype === "float32" ? NAN_WORD : 0,
    check: "index_select",
  });
  // an empty output (a has size 0 along another dim) reads no index: check them on their own
  if (shapeNumel(S) === 0) gpuIndexCheck(ctx, words(index), k, d, ashape[d], "index_select");
  const shape = a.ndim === 0 ? [] : S;
  const out = wrap(ctx, y, shape, a.dtype);
  return recordDevice(out, [a], "IndexSelectBackward0", (g) => [
    deviceTensor(
      ctx,
      gpuIndexScatter(ctx, null, words(g), words(index), {
        T: ashape,
        S,
        istr,
        vstr: ostr,
        d,
        mode: "add",
        check: "index_select",
      }),
      a.shape,
    ),
  ]);
}

/**
 * `torch.masked_fill` on the device: `value` a number, or a 0-d tensor (on the device, or a CPU one that
 * needs no gradient, as PyTorch takes a CPU scalar tensor) that then receives the filled places' gradient.
 */
export function deviceMaskedFill(
  a: Tensor,
  mask: Tensor,
  value: TensorLike,
  shape: readonly number[],
): Tensor {
  const ctx = ctxOf(a, mask);
  if (mask.dtype === "float32") {
    // the device reads the mask's words (an int64 one's too: nonzero is true, as on the CPU)
    throw new Error("masked_fill on webgpu: expected a bool mask, got float32");
  }
  let v = value instanceof Tensor ? value : null;
  if (v !== null && v._gpu === null) {
    if (v.requiresGrad) throw mixedDevices("webgpu", "cpu");
    value = v.data[0];
    v = null;
  }
  if (v !== null && v.dtype !== a.dtype) {
    throw new Error(
      `masked_fill on webgpu: expected a value tensor of ${a.dtype} (the input's dtype), got ${v.dtype}`,
    );
  }
  const fill = v === null ? scalarWord(ctx, value as number, a.dtype) : words(v);
  const y = gpuWhere(ctx, words(mask), mask.shape, fill, [], words(a), a.shape, shape);
  if (v === null) ctx.release(fill);
  const out = wrap(ctx, y, shape, a.dtype);
  const inputs = v === null ? [a] : [a, v];
  return recordDevice(out, inputs, v === null ? "MaskedFillBackward0" : "MaskedFillBackward1", (g) => {
    const zero = ctx.upload(new Float32Array(1));
    const gb = words(g);
    let ga: Tensor | null = null;
    if (a.requiresGrad) {
      const t = gpuWhere(ctx, words(mask), mask.shape, zero, [], gb, shape, shape);
      ga = deviceTensor(ctx, gpuSumTo(ctx, t, shape, a.shape), a.shape);
      ctx.release(t);
    }
    let gv: Tensor | null = null;
    if (v?.requiresGrad) {
      const t = gpuWhere(ctx, words(mask), mask.shape, gb, shape, zero, [], shape);
      gv = deviceTensor(ctx, gpuSum(ctx, t, shapeNumel(shape)), []);
      ctx.release(t);
    }
    ctx.release(zero);
    return v === null ? [ga] : [ga, gv];
  });
}

/** all / any on the device (dim normalized by the caller, or undefined: every element): bool. */
export function deviceTruth(
  a: Tensor,
  d: number | undefined,
  shape: readonly number[],
  every: boolean,
): Tensor {
  const ctx = ctxOf(a);
  const n = shapeNumel(a.shape);
  const [outer, size, inner] =
    d === undefined || a.ndim === 0
      ? [1, n, 1]
      : [shapeNumel(a.shape.slice(0, d)), a.shape[d], shapeNumel(a.shape.slice(d + 1))];
  const y = gpuTruth(ctx, words(a), a.dtype === "float32", every, outer, size, inner);
  return deviceIndexTensor(ctx, y, shape, "bool");
}

/** cumsum of an int64 or bool tensor on the device: int64 (32-bit on the device; wraps past its range). */
export function deviceIntCumsum(a: Tensor, d: number): Tensor {
  const ctx = ctxOf(a);
  const size = a.ndim === 0 ? 1 : a.shape[d];
  const inner = shapeNumel(a.shape.slice(d + 1));
  const outer = shapeNumel(a.shape.slice(0, d));
  return deviceIndexTensor(ctx, gpuIntCumsum(ctx, words(a), outer, size, inner), a.shape, "int64");
}

/**
 * The first `k` of each line along `d` in order (sort, argsort, topk) on the device, as sorting.ts's
 * `ordered`: [values, int64 indices]; the values' gradient goes back to the indices (`name`).
 */
export function deviceOrdered(
  a: Tensor,
  d: number,
  k: number,
  descending: boolean,
  name: string,
): [Tensor, Tensor] {
  const ctx = ctxOf(a);
  if (a.dtype !== "float32") {
    throw new Error(
      `${name.replace(/Backward0$/, "").toLowerCase()} on webgpu: expected a float32 tensor, got ${a.dtype}`,
    );
  }
  const ashape = a.ndim === 0 ? [1] : a.shape;
  const size = ashape[d];
  const inner = shapeNumel(ashape.slice(d + 1));
  const outer = shapeNumel(ashape.slice(0, d));
  const [v, idx] = gpuRank(ctx, a._gpu!.buffer, outer, size, inner, k, descending);
  const S = ashape.slice();
  S[d] = k;
  const shape = a.ndim === 0 ? [] : S;
  const indices = deviceIndexTensor(ctx, idx, shape, "int64");
  const istr = contiguous(S);
  const values = recordDevice(deviceTensor(ctx, v, shape), [a], name, (g) => [
    deviceTensor(
      ctx,
      gpuIndexScatter(ctx, null, words(g), words(indices), {
        T: ashape,
        S,
        istr,
        vstr: istr,
        d,
        mode: "add",
        check: "scatter_add", // never met: the indices are the ranks' own
      }),
      a.shape,
    ),
  ]);
  return [values, indices];
}
