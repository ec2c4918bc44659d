// Matrix products: matmul (with PyTorch's 1-D and batch rules) and the fused linear layer, on the gemm kernel.

import { gemm } from "../kernels/backend.js";
import { broadcastIndex, broadcastShapes } from "./broadcast.js";
import { deviceBatchedMatmul, deviceLinear, deviceMatmul, onDevice } from "./device.js";
import { alloc, scalarTypeName } from "./dtype.js";
import { result } from "./engine.js";
import { shapeNumel, shapeStr } from "./shape.js";
import type { Tensor } from "./tensor.js";

/**
 * Matrix product with PyTorch's rules: 1-D·1-D is a dot product, 1-D operands gain and lose a
 * dimension, and leading (batch) dimensions broadcast.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (onDevice(a, b)) return deviceMatmul(a, b);
  return matmulAs(a, b, "MmBackward0");
}

/**
 * Batched matrix product of (B, M, K) and (B, K, N), without broadcasting, as `torch.bmm`.
 */
export function bmm(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 3) throw new Error("batch1 must be a 3D tensor");
  if (b.ndim !== 3) throw new Error("batch2 must be a 3D tensor");
  if (b.shape[0] !== a.shape[0] || b.shape[1] !== a.shape[2]) {
    throw new Error(
      `Expected size for first two dimensions of batch2 tensor to be: [${a.shape[0]}, ${a.shape[2]}] but got: [${b.shape[0]}, ${b.shape[1]}].`,
    );
  }
  if (onDevice(a, b)) return deviceBatchedMatmul(a, b);
  return matmulAs(a, b, "BmmBackward0");
}

/** (M, K)·(K, N) at the given offsets, for integer tensors (no kernel: they are small and rare). */
function intGemm(
  M: number,
  N: number,
  K: number,
  A: ArrayLike<number>,
  ao: number,
  B: ArrayLike<number>,
  bo: number,
  C: Float64Array,
  co: number,
): void {
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += A[ao + i * K + k] * B[bo + k * N + j];
      C[co + i * N + j] = s;
    }
}

function matmulAs(a: Tensor, b: Tensor, name: string): Tensor {
  if (a.dtype !== b.dtype) {
    throw new Error(`expected scalar type ${scalarTypeName(a.dtype)} but found ${scalarTypeName(b.dtype)}`);
  }
  const isFloat = a.dtype === "float32";
  if (a.ndim === 0 || b.ndim === 0) {
    throw new Error(
      `both arguments to matmul need to be at least 1D, but they are ${a.ndim}D and ${b.ndim}D`,
    );
  }
  const aShape = a.ndim === 1 ? [1, a.shape[0]] : a.shape;
  const bShape = b.ndim === 1 ? [b.shape[0], 1] : b.shape;
  const M = aShape[aShape.length - 2];
  const K = aShape[aShape.length - 1];
  const K2 = bShape[bShape.length - 2];
  const N = bShape[bShape.length - 1];
  if (K !== K2) {
    throw new Error(
      `mat1 and mat2 shapes cannot be multiplied (${M}x${K} and ${K2}x${N}); got ${shapeStr(a.shape)} @ ${shapeStr(b.shape)}`,
    );
  }
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const batch = broadcastShapes(aBatch, bBatch);
  const nb = shapeNumel(batch);
  const ai = broadcastIndex(aBatch, batch);
  const bi = broadcastIndex(bBatch, batch);
  const outFull = [...batch, M, N];
  const out = alloc(isFloat ? "float32" : "int64", nb * M * N) as Float32Array;
  const A = a.data;
  const B = b.data;
  for (let t = 0; t < nb; t++) {
    const ao = (ai === null ? t : ai[t]) * M * K;
    const bo = (bi === null ? t : bi[t]) * K * N;
    if (isFloat) gemm(false, false, M, N, K, A, ao, K, B, bo, N, 0, out, t * M * N, N);
    else intGemm(M, N, K, A, ao, B, bo, out as unknown as Float64Array, t * M * N);
  }
  let shape = outFull;
  if (a.ndim === 1 && b.ndim === 1) shape = [];
  else if (a.ndim === 1) shape = [...batch, N];
  else if (b.ndim === 1) shape = [...batch, M];
  return result(out, shape, [a, b], name, (g) => {
    let ga: Float32Array | null = null;
    let gb: Float32Array | null = null;
    if (a.requiresGrad) {
      ga = new Float32Array(a.numel);
      for (let t = 0; t < nb; t++) {
        const ao = (ai === null ? t : ai[t]) * M * K;
        // dA (M, K) += dC (M, N) · Bᵀ
        gemm(false, true, M, K, N, g, t * M * N, N, B, (bi === null ? t : bi[t]) * K * N, N, 1, ga, ao, K);
      }
    }
    if (b.requiresGrad) {
      gb = new Float32Array(b.numel);
      for (let t = 0; t < nb; t++) {
        const bo = (bi === null ? t : bi[t]) * K * N;
        // dB (K, N) += Aᵀ · dC (M, N)
        gemm(true, false, K, N, M, A, (ai === null ? t : ai[t]) * M * K, K, g, t * M * N, N, 1, gb, bo, N);
      }
    }
    return [ga, gb];
  });
}

/** x · Wᵀ + b in one node (x (..., in), W (out, in), b (out)), as `F.linear`. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const inF = weight.shape[1];
  const outF = weight.shape[0];
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== inF) {
    const rows = x.ndim <= 1 ? 1 : shapeNumel(x.shape.slice(0, -1));
    throw new Error(
      `mat1 and mat2 shapes cannot be multiplied (${rows}x${x.shape[x.ndim - 1] ?? 1} and ${inF}x${outF}); expected input with last dimension ${inF}, got ${shapeStr(x.shape)}`,
    );
  }
  if (onDevice(x, weight) || (bias != null && bias._gpu !== null))
    return deviceLinear(x, weight, bias ?? null);
  const rows = x.numel / inF;
  const out = new Float32Array(rows * outF);
  const X = x.data;
  const W = weight.data;
  if (bias) {
    const bd = bias.data;
    if (outF >= 16) for (let r = 0; r < rows; r++) out.set(bd, r * outF);
    else for (let r = 0, o = 0; r < rows; r++) for (let j = 0; j < outF; j++) out[o++] = bd[j];
  }
  gemm(false, true, rows, outF, inF, X, 0, inF, W, 0, inF, bias ? 1 : 0, out, 0, outF);
  const shape = x.shape.slice();
  shape[shape.length - 1] = outF;
  const inputs = bias ? [x, weight, bias] : [x, weight];
  return result(out, shape, inputs, "AddmmBackward0", (g, into) => {
    let dx: Float32Array | null = null;
    let dW: Float32Array | null = null;
    let db: Float32Array | null = null;
    if (x.requiresGrad) {
      dx = new Float32Array(x.numel);
      gemm(false, false, rows, inF, outF, g, 0, outF, W, 0, inF, 0, dx, 0, inF);
    }
    // parameter gradients go straight into a leaf's .grad where the engine offers it (then null here)
    if (weight.requiresGrad) {
      const to = into?.(weight) ?? null;
      const d = to ?? new Float32Array(weight.numel);
      gemm(true, false, outF, inF, rows, g, 0, outF, X, 0, inF, to !== null ? 1 : 0, d, 0, inF);
      dW = to !== null ? null : d;
    }
    if (bias?.requiresGrad) {
      const to = into?.(bias) ?? null;
      const d = to ?? new Float32Array(outF);
      for (let r = 0; r < rows; r++) for (let j = 0; j < outF; j++) d[j] += g[r * outF + j];
      db = to !== null ? null : d;
    }
    return bias ? [dx, dW, db] : [dx, dW];
  });
}
