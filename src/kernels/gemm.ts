// General matrix product on row-major Float32Arrays (plain TypeScript kernel).
// M = rows of op(A) and C, N = columns of op(B) and C, K = the shared dimension.
//
//   C[M, N] = op(A)[M, K] · op(B)[K, N] + beta · C
//
// op(A) = A (stored M×K, row stride lda) or Aᵀ (A stored K×M); likewise for B.

export function gemm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: Float32Array, // (M, K) or (K, M) when transA
  aOff: number,
  lda: number,
  B: Float32Array, // (K, N) or (N, K) when transB
  bOff: number,
  ldb: number,
  beta: number,
  C: Float32Array, // (M, N)
  cOff: number,
  ldc: number,
): void {
  if (beta !== 1) {
    for (let i = 0; i < M; i++) {
      const row = cOff + i * ldc;
      if (beta === 0) C.fill(0, row, row + N);
      else for (let j = 0; j < N; j++) C[row + j] *= beta;
    }
  }
  if (K === 0) return;
  if (!transA && !transB) {
    for (let i = 0; i < M; i++) {
      const cRow = cOff + i * ldc;
      const aRow = aOff + i * lda;
      for (let k = 0; k < K; k++) {
        const a = A[aRow + k];
        const bRow = bOff + k * ldb;
        for (let j = 0; j < N; j++) C[cRow + j] += a * B[bRow + j];
      }
    }
  } else if (!transA && transB) {
    for (let i = 0; i < M; i++) {
      const cRow = cOff + i * ldc;
      const aRow = aOff + i * lda;
      for (let j = 0; j < N; j++) {
        const bRow = bOff + j * ldb;
        let s = 0;
        for (let k = 0; k < K; k++) s += A[aRow + k] * B[bRow + k];
        C[cRow + j] += s;
      }
    }
  } else if (transA && !transB) {
    for (let k = 0; k < K; k++) {
      const aRow = aOff + k * lda;
      const bRow = bOff + k * ldb;
      for (let i = 0; i < M; i++) {
        const a = A[aRow + i];
        const cRow = cOff + i * ldc;
        for (let j = 0; j < N; j++) C[cRow + j] += a * B[bRow + j];
      }
    }
  } else {
    for (let i = 0; i < M; i++) {
      const cRow = cOff + i * ldc;
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += A[aOff + k * lda + i] * B[bOff + j * ldb + k];
        C[cRow + j] += s;
      }
    }
  }
}
