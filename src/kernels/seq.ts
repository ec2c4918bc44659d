// Kernel pairs of the sequence-model layers: embedding lookup, layer normalization, negative log
// likelihood, 1-D convolution. Each forward is followed by its backward with the same argument order;
// backward kernels ADD into their d-prefixed buffers (as llm.c's do), so a caller may hand them a
// parameter's own gradient.
//
// N = looked-up indices (or rows), V = vocabulary, D = embedding or normalized size, M = rows normalized,
// C = classes, S = positions after the class dimension, B = batch, Ci/Co = in/out channels, K = kernel
// width, L = input length, Lo = output length, G = groups

/** out[n, :] = W[idx[n], :]. */
export function embeddingForward(
  W: Float32Array, // (V, D)
  idx: Int32Array, // (N)
  out: Float32Array, // (N, D)
  D: number,
): void {
  for (let n = 0; n < idx.length; n++) out.set(W.subarray(idx[n] * D, idx[n] * D + D), n * D);
}

/**
 * dW[idx[n], :] += dout[n, :], skipping rows equal to `paddingIdx` (−1: none), each divided by the
 * index's count in the batch when `scaleByFreq` (as `scale_grad_by_freq`).
 */
export function embeddingBackward(
  dW: Float32Array, // (V, D)
  idx: Int32Array, // (N)
  dout: Float32Array, // (N, D)
  D: number,
  paddingIdx: number,
  scaleByFreq: boolean,
): void {
  let counts: Map<number, number> | null = null;
  if (scaleByFreq) {
    counts = new Map();
    for (const i of idx) counts.set(i, (counts.get(i) ?? 0) + 1);
  }
  for (let n = 0; n < idx.length; n++) {
    const v = idx[n];
    if (v === paddingIdx) continue;
    const scale = counts === null ? 1 : 1 / counts.get(v)!;
    const o = v * D;
    const go = n * D;
    for (let j = 0; j < D; j++) dW[o + j] += dout[go + j] * scale;
  }
}

/** Rescales, in place, each row W[i] named in `idx` whose p-norm exceeds maxNorm to norm maxNorm (as embedding_renorm_). */
export function embeddingRenorm(
  W: Float32Array, // (V, D)
  idx: Int32Array, // (N)
  D: number,
  maxNorm: number,
  p: number,
): void {
  const done = new Set<number>();
  for (const v of idx) {
    if (done.has(v)) continue;
    done.add(v);
    const o = v * D;
    let s = 0;
    for (let j = 0; j < D; j++) {
      const a = Math.abs(W[o + j]);
      s = p === Number.POSITIVE_INFINITY ? Math.max(s, a) : s + a ** p;
    }
    const norm = p === Number.POSITIVE_INFINITY ? s : s ** (1 / p);
    if (norm > maxNorm) {
      const scale = maxNorm / (norm + 1e-7);
      for (let j = 0; j < D; j++) W[o + j] *= scale;
    }
  }
}

/** y = (x − mean)·rstd·w + b per row; keeps mean and rstd = 1/sqrt(var + eps) for the backward. */
export function layerNormForward(
  x: Float32Array, // (M, D)
  w: Float32Array | null, // (D)
  b: Float32Array | null, // (D)
  y: Float32Array, // (M, D)
  mean: Float64Array, // (M)
  rstd: Float64Array, // (M)
  M: number,
  D: number,
  eps: number,
): void {
  for (let m = 0; m < M; m++) {
    const o = m * D;
    let s = 0;
    for (let j = 0; j < D; j++) s += x[o + j];
    const mu = s / D;
    let v = 0;
    for (let j = 0; j < D; j++) v += (x[o + j] - mu) ** 2;
    const r = 1 / Math.sqrt(v / D + eps);
    mean[m] = mu;
    rstd[m] = r;
    for (let j = 0; j < D; j++) {
      const xh = (x[o + j] - mu) * r;
      y[o + j] = (w === null ? xh : xh * w[j]) + (b === null ? 0 : b[j]);
    }
  }
}

/** dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) with dx̂ = dy·w; dw += Σ dy·x̂, db += Σ dy. */
export function layerNormBackward(
  x: Float32Array, // (M, D)
  w: Float32Array | null, // (D)
  mean: Float64Array, // (M)
  rstd: Float64Array, // (M)
  dy: Float32Array, // (M, D)
  dx: Float32Array | null, // (M, D)
  dw: Float32Array | null, // (D)
  db: Float32Array | null, // (D)
  M: number,
  D: number,
): void {
  for (let m = 0; m < M; m++) {
    const o = m * D;
    const mu = mean[m];
    const r = rstd[m];
    let sumG = 0;
    let sumGX = 0;
    for (let j = 0; j < D; j++) {
      const xh = (x[o + j] - mu) * r;
      const g = w === null ? dy[o + j] : dy[o + j] * w[j];
      sumG += g;
      sumGX += g * xh;
      if (dw !== null) dw[j] += dy[o + j] * xh;
      if (db !== null) db[j] += dy[o + j];
    }
    if (dx === null) continue;
    const mg = sumG / D;
    const mgx = sumGX / D;
    for (let j = 0; j < D; j++) {
      const xh = (x[o + j] - mu) * r;
      const g = w === null ? dy[o + j] : dy[o + j] * w[j];
      dx[o + j] += r * (g - mg - xh * mgx);
    }
  }
}

/**
 * loss[n, s] = −w[t]·x[n, t, s] with t = target[n, s]; 0 where the target is −1 (ignored). Returns the
 * summed weight of the targets not ignored (the "mean" denominator).
 */
export function nllForward(
  x: Float32Array, // (N, C, S)
  target: Int32Array, // (N, S) class index, −1 where ignored
  weight: Float32Array | null, // (C)
  loss: Float64Array, // (N, S)
  N: number,
  C: number,
  S: number,
): number {
  let total = 0;
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const col = n * S + s;
      const t = target[col];
      if (t < 0) {
        loss[col] = 0;
        continue;
      }
      const wt = weight === null ? 1 : weight[t];
      total += wt;
      loss[col] = -wt * x[(n * C + t) * S + s];
    }
  }
  return total;
}

/** dx[n, t, s] += −w[t]·dloss[n, s]. */
export function nllBackward(
  target: Int32Array, // (N, S)
  weight: Float32Array | null, // (C)
  dloss: Float64Array, // (N, S)
  dx: Float32Array, // (N, C, S)
  N: number,
  C: number,
  S: number,
): void {
  for (let n = 0; n < N; n++) {
    for (let s = 0; s < S; s++) {
      const t = target[n * S + s];
      if (t < 0) continue;
      dx[(n * C + t) * S + s] += -(weight === null ? 1 : weight[t]) * dloss[n * S + s];
    }
  }
}

/** The geometry of a 1-D convolution. */
export interface Conv1dDims {
  B: number;
  Ci: number;
  Co: number;
  K: number;
  L: number;
  Lo: number;
  G: number;
  stride: number;
  /** zeros added on the left (the right side's padding only changes Lo) */
  padLeft: number;
  dilation: number;
}

/** y[b, o, t] = bias[o] + Σ_{c, k} W[o, c, k]·x[b, g·Ci/G + c, t·stride − padLeft + k·dilation]. */
export function conv1dForward(
  d: Conv1dDims,
  x: Float32Array, // (B, Ci, L)
  W: Float32Array, // (Co, Ci/G, K)
  bias: Float32Array | null, // (Co)
  y: Float32Array, // (B, Co, Lo)
): void {
  const { B, Ci, Co, K, L, Lo, G, stride, padLeft, dilation } = d;
  const cpg = Ci / G;
  const opg = Co / G;
  for (let b = 0; b < B; b++) {
    for (let o = 0; o < Co; o++) {
      const g = Math.floor(o / opg);
      const yo = (b * Co + o) * Lo;
      for (let t = 0; t < Lo; t++) {
        let s = bias === null ? 0 : bias[o];
        for (let c = 0; c < cpg; c++) {
          const xo = (b * Ci + g * cpg + c) * L;
          const wo = (o * cpg + c) * K;
          for (let k = 0; k < K; k++) {
            const i = t * stride - padLeft + k * dilation;
            if (i >= 0 && i < L) s += W[wo + k] * x[xo + i];
          }
        }
        y[yo + t] = s;
      }
    }
  }
}

/** dx += Σ W·dy, dW += Σ x·dy, dbias += Σ_{b, t} dy (the transposes of the forward's sums). */
export function conv1dBackward(
  d: Conv1dDims,
  x: Float32Array, // (B, Ci, L)
  W: Float32Array, // (Co, Ci/G, K)
  dy: Float32Array, // (B, Co, Lo)
  dx: Float32Array | null, // (B, Ci, L)
  dW: Float32Array | null, // (Co, Ci/G, K)
  dbias: Float32Array | null, // (Co)
): void {
  const { B, Ci, Co, K, L, Lo, G, stride, padLeft, dilation } = d;
  const cpg = Ci / G;
  const opg = Co / G;
  for (let b = 0; b < B; b++) {
    for (let o = 0; o < Co; o++) {
      const g = Math.floor(o / opg);
      const yo = (b * Co + o) * Lo;
      for (let t = 0; t < Lo; t++) {
        const gy = dy[yo + t];
        if (dbias !== null) dbias[o] += gy;
        for (let c = 0; c < cpg; c++) {
          const xo = (b * Ci + g * cpg + c) * L;
          const wo = (o * cpg + c) * K;
          for (let k = 0; k < K; k++) {
            const i = t * stride - padLeft + k * dilation;
            if (i < 0 || i >= L) continue;
            if (dW !== null) dW[wo + k] += x[xo + i] * gy;
            if (dx !== null) dx[xo + i] += W[wo + k] * gy;
          }
        }
      }
    }
  }
}
