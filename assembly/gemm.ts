// General matrix product on row-major float32 matrices in linear memory, with WebAssembly SIMD.
// M = rows of op(A) and C, N = columns of op(B) and C, K = the shared dimension,
// MR × NR = the register tile of the micro-kernel (MR = 4 or 6, see setTileRows), KC / MC / NC = the cache
// blocks.
//
//   C[M, N] = op(A)[M, K] · op(B)[K, N] + beta · C
//
// Pointers are byte addresses into this module's memory, leading dimensions count floats. Blocks of op(B)
// are packed in strips of NR columns (k-major, zero-padded) and blocks of op(A) in strips of MR rows, so one
// micro-kernel serves all four transpose cases; edge tiles go through a tile buffer. Fewer than 4 rows take
// direct paths that read B in place (row by row, or by dot products when B is transposed).

import { MR_MIN, MR_MAX, NR, KC, MC, NC, packBytesA, packBytesB, tileBytes } from "./layout";

// ---------------------------------------------------------------------------------------------------------
// The static workspace: set by init() past the module's own data, before the caller's arena.

let packA: usize = 0; // (MC, KC) packed block of op(A)
let packB: usize = 0; // (KC, NC) packed panel of op(B)
let tile: usize = 0; // (MR_MAX, NR) one C tile, for the edges
let arenaStart: usize = 0;

/**
 * Rows of the register tile, 4 or 6. Six rows keep 12 accumulators in registers, which pays where the engine
 * fuses multiply-adds and allocates all 15 spare vector registers; elsewhere four rows are faster. The bits
 * are the same either way (each C element sums its products in k order in one accumulator).
 */
let mr: i32 = MR_MIN;

/** Sets the register tile's rows (6, or else 4); returns the rows in use. */
export function setTileRows(rows: i32): i32 {
  mr = rows == MR_MAX ? MR_MAX : MR_MIN;
  return mr;
}

/**
 * Rows of the A panel that starts `left` rows before the end of a block: mr, except that with 6-row tiles a
 * last 1–4 rows take a 4-row panel (less padding). The packers and the kernel loop agree through this.
 */
// @ts-ignore: decorator
@inline
function panelRows(left: i32): i32 {
  return mr == MR_MAX && left <= MR_MIN ? MR_MIN : mr;
}

/** Lays out the static workspace; returns the first byte the caller may use (64-byte aligned). */
export function init(): usize {
  if (arenaStart == 0) {
    packA = (__heap_base + 63) & ~63;
    packB = packA + packBytesA;
    tile = packB + packBytesB;
    arenaStart = (tile + tileBytes + 63) & ~63;
    const need = <i32>((arenaStart + 0xffff) >>> 16);
    const have = memory.size();
    if (need > have) memory.grow(need - have);
  }
  return arenaStart;
}

// ---------------------------------------------------------------------------------------------------------
// Micro-kernels: C[m, n] (+)= A-panel (m × kc) · B-strip (kc × NR, packed), m ≤ MR, n ≤ NR; acc = add to
// C, else overwrite it. The full-tile store goes straight to C, partial tiles through the tile buffer.

/** a·b + c per lane; fused (one rounding) in the relaxed-SIMD build where the hardware has FMA. */
// @ts-ignore: decorator
@inline
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

// @ts-ignore: decorator
@inline
function storeRow(c: usize, v0: v128, v1: v128, acc: bool): void {
  if (acc) {
    v0 = f32x4.add(v128.load(c), v0);
    v1 = f32x4.add(v128.load(c, 16), v1);
  }
  v128.store(c, v0);
  v128.store(c, v1, 16);
}

/** The 4 × NR micro-kernel on a packed A panel (4 values per k, contiguous). */
function kernel4x8packed(kc: i32, pa: usize, pb: usize, c: usize, ldcB: usize, m: i32, n: i32, acc: bool): void {
  let c00 = f32x4.splat(0);
  let c01 = c00;
  let c10 = c00;
  let c11 = c00;
  let c20 = c00;
  let c21 = c00;
  let c30 = c00;
  let c31 = c00;
  // one induction variable: the loop ends on the B pointer, which saves a counter's add and register
  const end = pb + <usize>(kc * NR * 4);
  while (pb < end) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let x = v128.load32_splat(pa);
    c00 = madd(x, b0, c00);
    c01 = madd(x, b1, c01);
    x = v128.load32_splat(pa, 4);
    c10 = madd(x, b0, c10);
    c11 = madd(x, b1, c11);
    x = v128.load32_splat(pa, 8);
    c20 = madd(x, b0, c20);
    c21 = madd(x, b1, c21);
    x = v128.load32_splat(pa, 12);
    c30 = madd(x, b0, c30);
    c31 = madd(x, b1, c31);
    pa += 4 * 4;
    pb += NR * 4;
  }
  if (m == 4 && n == NR) {
    storeRow(c, c00, c01, acc);
    storeRow(c + ldcB, c10, c11, acc);
    storeRow(c + 2 * ldcB, c20, c21, acc);
    storeRow(c + 3 * ldcB, c30, c31, acc);
  } else {
    const t = tile;
    v128.store(t, c00, 0);
    v128.store(t, c01, 16);
    v128.store(t, c10, 32);
    v128.store(t, c11, 48);
    v128.store(t, c20, 64);
    v128.store(t, c21, 80);
    v128.store(t, c30, 96);
    v128.store(t, c31, 112);
    storeEdge(t, c, ldcB, m, n, acc);
  }
}

/** The 6 × NR micro-kernel on a packed A panel (6 values per k, contiguous): 12 accumulators. */
function kernel6x8packed(kc: i32, pa: usize, pb: usize, c: usize, ldcB: usize, m: i32, n: i32, acc: bool): void {
  let c00 = f32x4.splat(0);
  let c01 = c00;
  let c10 = c00;
  let c11 = c00;
  let c20 = c00;
  let c21 = c00;
  let c30 = c00;
  let c31 = c00;
  let c40 = c00;
  let c41 = c00;
  let c50 = c00;
  let c51 = c00;
  const end = pb + <usize>(kc * NR * 4);
  while (pb < end) {
    const b0 = v128.load(pb);
    const b1 = v128.load(pb, 16);
    let x = v128.load32_splat(pa);
    c00 = madd(x, b0, c00);
    c01 = madd(x, b1, c01);
    x = v128.load32_splat(pa, 4);
    c10 = madd(x, b0, c10);
    c11 = madd(x, b1, c11);
    x = v128.load32_splat(pa, 8);
    c20 = madd(x, b0, c20);
    c21 = madd(x, b1, c21);
    x = v128.load32_splat(pa, 12);
    c30 = madd(x, b0, c30);
    c31 = madd(x, b1, c31);
    x = v128.load32_splat(pa, 16);
    c40 = madd(x, b0, c40);
    c41 = madd(x, b1, c41);
    x = v128.load32_splat(pa, 20);
    c50 = madd(x, b0, c50);
    c51 = madd(x, b1, c51);
    pa += 6 * 4;
    pb += NR * 4;
  }
  if (m == 6 && n == NR) {
    storeRow(c, c00, c01, acc);
    storeRow(c + ldcB, c10, c11, acc);
    storeRow(c + 2 * ldcB, c20, c21, acc);
    storeRow(c + 3 * ldcB, c30, c31, acc);
    storeRow(c + 4 * ldcB, c40, c41, acc);
    storeRow(c + 5 * ldcB, c50, c51, acc);
  } else {
    const t = tile;
    v128.store(t, c00, 0);
    v128.store(t, c01, 16);
    v128.store(t, c10, 32);
    v128.store(t, c11, 48);
    v128.store(t, c20, 64);
    v128.store(t, c21, 80);
    v128.store(t, c30, 96);
    v128.store(t, c31, 112);
    v128.store(t, c40, 128);
    v128.store(t, c41, 144);
    v128.store(t, c50, 160);
    v128.store(t, c51, 176);
    storeEdge(t, c, ldcB, m, n, acc);
  }
}

/**
 * C[0 .. mc, 0 .. n] (+)= the packed A block (mc rows in panels of mr) · one packed B strip, panel by panel
 * with the micro-kernel of the current tile height.
 */
function panelTimesStrip(mc: i32, kc: i32, pa: usize, pb: usize, c: usize, ldcB: usize, n: i32, acc: bool): void {
  for (let ir = 0; ir < mc; ) {
    const rows = panelRows(mc - ir);
    const m = min(rows, mc - ir);
    if (rows == MR_MAX) kernel6x8packed(kc, pa, pb, c + <usize>ir * ldcB, ldcB, m, n, acc);
    else kernel4x8packed(kc, pa, pb, c + <usize>ir * ldcB, ldcB, m, n, acc);
    pa += <usize>(kc * rows * 4);
    ir += rows;
  }
}

/** One row: c[0, n] (+)= A-row (kc, stride csA) · B-strip, two accumulator pairs over even and odd k. */
function kernel1x8(kc: i32, a: usize, csA: usize, pb: usize, c: usize, n: i32, acc: bool): void {
  let e0 = f32x4.splat(0);
  let e1 = e0;
  let o0 = e0;
  let o1 = e0;
  let k = 0;
  for (; k + 1 < kc; k += 2) {
    const x = v128.load32_splat(a);
    const y = v128.load32_splat(a + csA);
    e0 = madd(x, v128.load(pb), e0);
    e1 = madd(x, v128.load(pb, 16), e1);
    o0 = madd(y, v128.load(pb, 32), o0);
    o1 = madd(y, v128.load(pb, 48), o1);
    a += 2 * csA;
    pb += 2 * NR * 4;
  }
  if (k < kc) {
    const x = v128.load32_splat(a);
    e0 = madd(x, v128.load(pb), e0);
    e1 = madd(x, v128.load(pb, 16), e1);
  }
  e0 = f32x4.add(e0, o0);
  e1 = f32x4.add(e1, o1);
  if (n == NR) storeRow(c, e0, e1, acc);
  else {
    v128.store(tile, e0);
    v128.store(tile, e1, 16);
    storeEdge(tile, c, 0, 1, n, acc);
  }
}

/**
 * One row against two full B-strips at once (pb0, pb1: 2·NR columns): kernel1x8's arithmetic, in the same
 * order per column (so the same bits), with twice the independent accumulators and one splat per k for both.
 */
function kernel1x16(kc: i32, a: usize, csA: usize, pb0: usize, pb1: usize, c: usize, acc: bool): void {
  let e0 = f32x4.splat(0);
  let e1 = e0;
  let e2 = e0;
  let e3 = e0;
  let o0 = e0;
  let o1 = e0;
  let o2 = e0;
  let o3 = e0;
  let k = 0;
  for (; k + 1 < kc; k += 2) {
    const x = v128.load32_splat(a);
    const y = v128.load32_splat(a + csA);
    e0 = madd(x, v128.load(pb0), e0);
    e1 = madd(x, v128.load(pb0, 16), e1);
    e2 = madd(x, v128.load(pb1), e2);
    e3 = madd(x, v128.load(pb1, 16), e3);
    o0 = madd(y, v128.load(pb0, 32), o0);
    o1 = madd(y, v128.load(pb0, 48), o1);
    o2 = madd(y, v128.load(pb1, 32), o2);
    o3 = madd(y, v128.load(pb1, 48), o3);
    a += 2 * csA;
    pb0 += 2 * NR * 4;
    pb1 += 2 * NR * 4;
  }
  if (k < kc) {
    const x = v128.load32_splat(a);
    e0 = madd(x, v128.load(pb0), e0);
    e1 = madd(x, v128.load(pb0, 16), e1);
    e2 = madd(x, v128.load(pb1), e2);
    e3 = madd(x, v128.load(pb1, 16), e3);
  }
  storeRow(c, f32x4.add(e0, o0), f32x4.add(e1, o1), acc);
  storeRow(c + NR * 4, f32x4.add(e2, o2), f32x4.add(e3, o3), acc);
}

/** Copies (or adds) the top-left m × n of the tile buffer (row stride NR) into C. */
function storeEdge(t: usize, c: usize, ldcB: usize, m: i32, n: i32, acc: bool): void {
  for (let i = 0; i < m; i++) {
    const src = t + <usize>(i * NR * 4);
    const dst = c + <usize>i * ldcB;
    for (let j = 0; j < n; j++) {
      const o = <usize>(j << 2);
      const v = load<f32>(src + o);
      store<f32>(dst + o, acc ? load<f32>(dst + o) + v : v);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// Packing

/**
 * Packs op(B)[k0 .. k0+kc, j0 .. j0+nc] into strips of NR columns: strip s holds, for each k, the NR values
 * op(B)[k, s·NR ..], zero-padded past nc. Returns nothing; the panel is at dst.
 */
export function packPanelB(transB: bool, kc: i32, nc: i32, b: usize, ldb: i32, dst: usize): void {
  const ldbB = <usize>ldb << 2;
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const w = min(NR, nc - j0);
    if (!transB) {
      // op(B)[k, j] = b[k·ldb + j]: NR contiguous floats per k
      let src = b + (<usize>j0 << 2);
      if (w == NR) {
        for (let k = 0; k < kc; k++) {
          v128.store(dst, v128.load(src));
          v128.store(dst, v128.load(src, 16), 16);
          src += ldbB;
          dst += NR * 4;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          v128.store(dst, f32x4.splat(0));
          v128.store(dst, f32x4.splat(0), 16);
          for (let j = 0; j < w; j++) store<f32>(dst + (<usize>j << 2), load<f32>(src + (<usize>j << 2)));
          src += ldbB;
          dst += NR * 4;
        }
      }
    } else {
      // op(B)[k, j] = b[j·ldb + k]: gather; 4 × 4 blocks go through a register transpose
      const base = b + <usize>j0 * ldbB;
      let k = 0;
      if (w == NR) {
        for (; k + 4 <= kc; k += 4) {
          const kb = <usize>k << 2;
          const r0 = v128.load(base + kb);
          const r1 = v128.load(base + ldbB + kb);
          const r2 = v128.load(base + 2 * ldbB + kb);
          const r3 = v128.load(base + 3 * ldbB + kb);
          const r4 = v128.load(base + 4 * ldbB + kb);
          const r5 = v128.load(base + 5 * ldbB + kb);
          const r6 = v128.load(base + 6 * ldbB + kb);
          const r7 = v128.load(base + 7 * ldbB + kb);
          transposeStore(r0, r1, r2, r3, dst, NR * 4);
          transposeStore(r4, r5, r6, r7, dst + 16, NR * 4);
          dst += 4 * NR * 4;
        }
      }
      for (; k < kc; k++) {
        const kb = <usize>k << 2;
        for (let j = 0; j < NR; j++) {
          store<f32>(dst + (<usize>j << 2), j < w ? load<f32>(base + <usize>j * ldbB + kb) : 0);
        }
        dst += NR * 4;
      }
    }
  }
}

/** Writes the 4 × 4 transpose of rows r0..r3 as four vectors, `stride` bytes apart. */
// @ts-ignore: decorator
@inline
function transposeStore(r0: v128, r1: v128, r2: v128, r3: v128, dst: usize, stride: usize): void {
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5); // a0 b0 a1 b1
  const t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5); // c0 d0 c1 d1
  const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7); // a2 b2 a3 b3
  const t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7); // c2 d2 c3 d3
  v128.store(dst, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(dst + stride, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(dst + 2 * stride, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * stride, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

/**
 * Packs op(A)[0 .. mc, 0 .. kc] (row-major storage: A(i, k) = a[i·lda + k]) into panels of panelRows() rows:
 * a panel holds, for each k, its rows' values of A(·, k), zero-padded past mc.
 */
function packBlockA(mc: i32, kc: i32, a: usize, ldaB: usize, dst: usize): void {
  for (let i0 = 0; i0 < mc; ) {
    const rows = panelRows(mc - i0);
    const panelB = <usize>(rows * 4); // bytes per k in the panel
    const h = min(rows, mc - i0);
    const src = a + <usize>i0 * ldaB;
    let k = 0;
    if (h == rows) {
      for (; k + 4 <= kc; k += 4) {
        const kb = <usize>k << 2;
        // rows 0..3: a 4 × 4 transpose, one vector per k
        transposeStore(
          v128.load(src + kb),
          v128.load(src + ldaB + kb),
          v128.load(src + 2 * ldaB + kb),
          v128.load(src + 3 * ldaB + kb),
          dst,
          panelB,
        );
        if (rows == MR_MAX) {
          // rows 4 and 5: interleaved pairs, 8 bytes per k
          const r4 = v128.load(src + 4 * ldaB + kb);
          const r5 = v128.load(src + 5 * ldaB + kb);
          const lo = v128.shuffle<f32>(r4, r5, 0, 4, 1, 5);
          const hi = v128.shuffle<f32>(r4, r5, 2, 6, 3, 7);
          v128.store64_lane(dst + 16, lo, 0);
          v128.store64_lane(dst + 16 + panelB, lo, 1);
          v128.store64_lane(dst + 16 + 2 * panelB, hi, 0);
          v128.store64_lane(dst + 16 + 3 * panelB, hi, 1);
        }
        dst += 4 * panelB;
      }
    }
    for (; k < kc; k++) {
      const kb = <usize>k << 2;
      for (let i = 0; i < rows; i++) {
        store<f32>(dst + (<usize>i << 2), i < h ? load<f32>(src + <usize>i * ldaB + kb) : 0);
      }
      dst += panelB;
    }
    i0 += rows;
  }
}

/** Packs op(A)[0 .. mc, 0 .. kc] (transposed storage: A(i, k) = a[k·lda + i]) into panels of panelRows() rows. */
function packBlockAT(mc: i32, kc: i32, a: usize, ldaB: usize, dst: usize): void {
  for (let i0 = 0; i0 < mc; ) {
    const rows = panelRows(mc - i0);
    const panelB = <usize>(rows * 4);
    const h = min(rows, mc - i0);
    let src = a + (<usize>i0 << 2);
    if (h == rows) {
      for (let k = 0; k < kc; k++) {
        v128.store(dst, v128.load(src));
        if (rows == MR_MAX) store<u64>(dst + 16, load<u64>(src + 16));
        src += ldaB;
        dst += panelB;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let i = 0; i < rows; i++) store<f32>(dst + (<usize>i << 2), i < h ? load<f32>(src + (<usize>i << 2)) : 0);
        src += ldaB;
        dst += panelB;
      }
    }
    i0 += rows;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Drivers

/**
 * C[M, N] (+)= A · B over all rows, B packed once by packPanelB (K rows, N columns) and reused: the recurrent
 * kernels pack their weights once per sequence and call this every step. A(i, k) is at a + i·rsA + k·csA
 * (bytes); csA must be 4 (row-major A) unless M = 1. acc = accumulate into C, else overwrite.
 */
export function gemmPacked(
  M: i32,
  N: i32,
  K: i32,
  a: usize,
  rsA: usize,
  csA: usize,
  pb: usize,
  c: usize,
  ldc: i32,
  acc: bool,
): void {
  const ldcB = <usize>ldc << 2;
  const stripB = <usize>(K * NR * 4);
  if (M == 1) {
    let j0 = 0;
    for (; j0 + 2 * NR <= N; j0 += 2 * NR) {
      kernel1x16(K, a, csA, pb, pb + stripB, c + (<usize>j0 << 2), acc);
      pb += 2 * stripB;
    }
    for (; j0 < N; j0 += NR) {
      kernel1x8(K, a, csA, pb, c + (<usize>j0 << 2), min(NR, N - j0), acc);
      pb += stripB;
    }
    return;
  }
  // blocks of KC columns of A, packed (as many rows as the A buffer holds), each against the same rows
  // of every B strip
  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    const accK = acc || k0 > 0;
    for (let i0 = 0; i0 < M; i0 += MC) {
      const mc = min(MC, M - i0);
      packBlockA(mc, kc, a + <usize>i0 * rsA + (<usize>k0 << 2), rsA, packA);
      const ci = c + <usize>i0 * ldcB;
      let p = pb + <usize>(k0 * NR * 4);
      for (let j0 = 0; j0 < N; j0 += NR) {
        const n = min(NR, N - j0);
        panelTimesStrip(mc, kc, packA, p, ci + (<usize>j0 << 2), ldcB, n, accK);
        p += stripB;
      }
    }
  }
}

/** Scales C by beta (beta = 0 writes zeros, so NaNs in C do not survive). */
function scaleC(M: i32, N: i32, c: usize, ldc: i32, beta: f32): void {
  const bv = f32x4.splat(beta);
  for (let i = 0; i < M; i++) {
    const row = c + ((<usize>i * <usize>ldc) << 2);
    let j = 0;
    if (beta == 0) {
      for (; j + 4 <= N; j += 4) v128.store(row + (<usize>j << 2), f32x4.splat(0));
      for (; j < N; j++) store<f32>(row + (<usize>j << 2), 0);
    } else {
      for (; j + 4 <= N; j += 4) {
        const p = row + (<usize>j << 2);
        v128.store(p, f32x4.mul(v128.load(p), bv));
      }
      for (; j < N; j++) {
        const p = row + (<usize>j << 2);
        store<f32>(p, load<f32>(p) * beta);
      }
    }
  }
}

/** One row of C, B not transposed: c[0, N] (+)= Σ_k A(0, k) · b[k, :]. 16 columns at a time in registers. */
function rowTimesB(N: i32, K: i32, a: usize, csA: usize, b: usize, ldbB: usize, c: usize, acc: bool): void {
  let j = 0;
  for (; j + 16 <= N; j += 16) {
    const jb = <usize>j << 2;
    let s0 = f32x4.splat(0);
    let s1 = s0;
    let s2 = s0;
    let s3 = s0;
    let ap = a;
    let bp = b + jb;
    for (let k = 0; k < K; k++) {
      const x = v128.load32_splat(ap);
      s0 = madd(x, v128.load(bp), s0);
      s1 = madd(x, v128.load(bp, 16), s1);
      s2 = madd(x, v128.load(bp, 32), s2);
      s3 = madd(x, v128.load(bp, 48), s3);
      ap += csA;
      bp += ldbB;
    }
    const cp = c + jb;
    if (acc) {
      s0 = f32x4.add(s0, v128.load(cp));
      s1 = f32x4.add(s1, v128.load(cp, 16));
      s2 = f32x4.add(s2, v128.load(cp, 32));
      s3 = f32x4.add(s3, v128.load(cp, 48));
    }
    v128.store(cp, s0);
    v128.store(cp, s1, 16);
    v128.store(cp, s2, 32);
    v128.store(cp, s3, 48);
  }
  for (; j + 4 <= N; j += 4) {
    const jb = <usize>j << 2;
    let s0 = f32x4.splat(0);
    let ap = a;
    let bp = b + jb;
    for (let k = 0; k < K; k++) {
      s0 = madd(v128.load32_splat(ap), v128.load(bp), s0);
      ap += csA;
      bp += ldbB;
    }
    const cp = c + jb;
    v128.store(cp, acc ? f32x4.add(s0, v128.load(cp)) : s0);
  }
  for (; j < N; j++) {
    const jb = <usize>j << 2;
    let s: f32 = 0;
    let ap = a;
    let bp = b + jb;
    for (let k = 0; k < K; k++) {
      s += load<f32>(ap) * load<f32>(bp);
      ap += csA;
      bp += ldbB;
    }
    const cp = c + jb;
    store<f32>(cp, acc ? load<f32>(cp) + s : s);
  }
}

/** Horizontal sum of four lanes. */
// @ts-ignore: decorator
@inline
function hsum(v: v128): f32 {
  v = f32x4.add(v, v128.shuffle<f32>(v, v, 2, 3, 0, 1));
  v = f32x4.add(v, v128.shuffle<f32>(v, v, 1, 0, 3, 2));
  return f32x4.extract_lane(v, 0);
}

/** One row of C, B transposed, A row contiguous: c[0, j] (+)= a · b[j, :] (dot products, 4 columns at once). */
function rowDotBt(N: i32, K: i32, a: usize, b: usize, ldbB: usize, c: usize, acc: bool): void {
  let j = 0;
  for (; j + 4 <= N; j += 4) {
    const b0 = b + <usize>j * ldbB;
    const b1 = b0 + ldbB;
    const b2 = b1 + ldbB;
    const b3 = b2 + ldbB;
    let s0 = f32x4.splat(0);
    let s1 = s0;
    let s2 = s0;
    let s3 = s0;
    let k = 0;
    for (; k + 4 <= K; k += 4) {
      const o = <usize>k << 2;
      const x = v128.load(a + o);
      s0 = madd(x, v128.load(b0 + o), s0);
      s1 = madd(x, v128.load(b1 + o), s1);
      s2 = madd(x, v128.load(b2 + o), s2);
      s3 = madd(x, v128.load(b3 + o), s3);
    }
    // 4 × 4 transpose-and-add: lane q of the result is the sum of s_q
    const t0 = f32x4.add(v128.shuffle<f32>(s0, s1, 0, 4, 1, 5), v128.shuffle<f32>(s0, s1, 2, 6, 3, 7));
    const t1 = f32x4.add(v128.shuffle<f32>(s2, s3, 0, 4, 1, 5), v128.shuffle<f32>(s2, s3, 2, 6, 3, 7));
    let r = f32x4.add(v128.shuffle<f32>(t0, t1, 0, 1, 4, 5), v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
    if (k < K) {
      let u0: f32 = 0;
      let u1: f32 = 0;
      let u2: f32 = 0;
      let u3: f32 = 0;
      for (; k < K; k++) {
        const o = <usize>k << 2;
        const x = load<f32>(a + o);
        u0 += x * load<f32>(b0 + o);
        u1 += x * load<f32>(b1 + o);
        u2 += x * load<f32>(b2 + o);
        u3 += x * load<f32>(b3 + o);
      }
      r = f32x4.replace_lane(r, 0, f32x4.extract_lane(r, 0) + u0);
      r = f32x4.replace_lane(r, 1, f32x4.extract_lane(r, 1) + u1);
      r = f32x4.replace_lane(r, 2, f32x4.extract_lane(r, 2) + u2);
      r = f32x4.replace_lane(r, 3, f32x4.extract_lane(r, 3) + u3);
    }
    const cp = c + (<usize>j << 2);
    v128.store(cp, acc ? f32x4.add(r, v128.load(cp)) : r);
  }
  for (; j < N; j++) {
    const bj = b + <usize>j * ldbB;
    let s = f32x4.splat(0);
    let k = 0;
    for (; k + 4 <= K; k += 4) {
      const o = <usize>k << 2;
      s = madd(v128.load(a + o), v128.load(bj + o), s);
    }
    let u = hsum(s);
    for (; k < K; k++) {
      const o = <usize>k << 2;
      u += load<f32>(a + o) * load<f32>(bj + o);
    }
    const cp = c + (<usize>j << 2);
    store<f32>(cp, acc ? load<f32>(cp) + u : u);
  }
}

/**
 * C = op(A) · op(B) + beta · C, the full BLAS-like sgemm on row-major storage. Pointers in bytes, leading
 * dimensions in floats.
 */
export function gemm(
  transA: bool,
  transB: bool,
  M: i32,
  N: i32,
  K: i32,
  a: usize,
  lda: i32,
  b: usize,
  ldb: i32,
  beta: f32,
  c: usize,
  ldc: i32,
): void {
  if (M <= 0 || N <= 0) return;
  if (K <= 0 || (beta != 0 && beta != 1)) {
    scaleC(M, N, c, ldc, beta);
    if (K <= 0) return;
    beta = 1;
  }
  const ldaB = <usize>lda << 2;
  const ldbB = <usize>ldb << 2;
  const ldcB = <usize>ldc << 2;
  // A(i, k) = a + i·rsA + k·csA
  const rsA: usize = transA ? 4 : ldaB;
  const csA: usize = transA ? ldaB : 4;

  // a few rows: read B in place
  if (M < MR_MIN) {
    for (let i = 0; i < M; i++) {
      const ai = a + <usize>i * rsA;
      const ci = c + <usize>i * ldcB;
      if (!transB) rowTimesB(N, K, ai, csA, b, ldbB, ci, beta != 0);
      else if (!transA) rowDotBt(N, K, ai, b, ldbB, ci, beta != 0);
      else {
        // Aᵀ row and Bᵀ: pack B once per KC block and run the row kernel
        for (let k0 = 0; k0 < K; k0 += KC) {
          const kc = min(KC, K - k0);
          for (let j0 = 0; j0 < N; j0 += NC) {
            const nc = min(NC, N - j0);
            packPanelB(true, kc, nc, b + <usize>j0 * ldbB + (<usize>k0 << 2), ldb, packB);
            gemmPacked(1, nc, kc, ai + <usize>k0 * csA, rsA, csA, packB, ci + (<usize>j0 << 2), ldc, beta != 0 || k0 > 0);
          }
        }
      }
    }
    return;
  }

  for (let k0 = 0; k0 < K; k0 += KC) {
    const kc = min(KC, K - k0);
    const acc = beta != 0 || k0 > 0;
    for (let j0 = 0; j0 < N; j0 += NC) {
      const nc = min(NC, N - j0);
      // op(B)[k0.., j0..]
      const bBlock = transB ? b + <usize>j0 * ldbB + (<usize>k0 << 2) : b + <usize>k0 * ldbB + (<usize>j0 << 2);
      packPanelB(transB, kc, nc, bBlock, ldb, packB);
      const stripB = <usize>(kc * NR * 4);
      for (let i0 = 0; i0 < M; i0 += MC) {
        const mc = min(MC, M - i0);
        const aBlock = a + <usize>i0 * rsA + <usize>k0 * csA;
        const cBlock = c + <usize>i0 * ldcB + (<usize>j0 << 2);
        if (transA) packBlockAT(mc, kc, aBlock, ldaB, packA);
        else packBlockA(mc, kc, aBlock, ldaB, packA);
        let pb = packB;
        for (let jr = 0; jr < nc; jr += NR) {
          const n = min(NR, nc - jr);
          panelTimesStrip(mc, kc, packA, pb, cBlock + (<usize>jr << 2), ldcB, n, acc);
          pb += stripB;
        }
      }
    }
  }
}
