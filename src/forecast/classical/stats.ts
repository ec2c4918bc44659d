// Small statistics the classical forecasters need: classical seasonal decomposition (R's decompose,
// statsmodels' seasonal_decompose), least-squares lines, the autocorrelation function, the normal
// quantile, a seeded normal generator, and a test that a polynomial's roots lie in the unit disk.
// N = series length, m = season length.

export type Values = ArrayLike<number>;

/** A centred moving average of order m (2×m when m is even), NaN where the window does not fit. */
export function centredMovingAverage(x: Values, m: number): Float64Array {
  const n = x.length;
  const out = new Float64Array(n).fill(Number.NaN); // (N)
  const half = Math.floor(m / 2);
  for (let t = half; t < n - half; t++) {
    let s = 0;
    if (m % 2 === 0) {
      s = 0.5 * x[t - half] + 0.5 * x[t + half];
      for (let k = -half + 1; k < half; k++) s += x[t + k];
    } else {
      for (let k = -half; k <= half; k++) s += x[t + k];
    }
    out[t] = s / m;
  }
  return out;
}

export interface Decomposition {
  trend: Float64Array; // (N), NaN at the ends
  /** The seasonal figure by position from the first observation, normalized to sum 0 (additive) or m. */
  figure: Float64Array; // (m)
  seasonal: Float64Array; // (N)
}

/** Classical decomposition by moving averages, as R's decompose() and statsmodels' seasonal_decompose. */
export function decompose(x: Values, m: number, type: "additive" | "multiplicative"): Decomposition {
  const n = x.length;
  if (m < 2 || n < 2 * m) {
    throw new Error(`decompose: needs at least two full seasons (2×${m} points), got ${n}`);
  }
  const trend = centredMovingAverage(x, m);
  const figure = new Float64Array(m); // (m)
  for (let i = 0; i < m; i++) {
    let s = 0;
    let c = 0;
    for (let t = i; t < n; t += m) {
      if (Number.isNaN(trend[t])) continue;
      s += type === "additive" ? x[t] - trend[t] : x[t] / trend[t];
      c++;
    }
    figure[i] = s / c;
  }
  let mean = 0;
  for (let i = 0; i < m; i++) mean += figure[i] / m;
  for (let i = 0; i < m; i++) figure[i] = type === "additive" ? figure[i] - mean : figure[i] / mean;
  const seasonal = new Float64Array(n); // (N)
  for (let t = 0; t < n; t++) seasonal[t] = figure[t % m];
  return { trend, figure, seasonal };
}

/** Least-squares intercept and slope of y on x. */
export function lineFit(x: Values, y: Values): { intercept: number; slope: number } {
  const n = x.length;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i] / n;
    my += y[i] / n;
  }
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { intercept: my - slope * mx, slope };
}

/** Least squares for a small dense design X (N, K) given by columns; returns the K coefficients. */
export function leastSquares(columns: Float64Array[], y: Values): Float64Array {
  const k = columns.length;
  const n = y.length;
  const a = new Float64Array(k * (k + 1)); // (K, K+1) normal equations, augmented
  for (let i = 0; i < k; i++) {
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let t = 0; t < n; t++) s += columns[i][t] * columns[j][t];
      a[i * (k + 1) + j] = s;
    }
    let s = 0;
    for (let t = 0; t < n; t++) s += columns[i][t] * y[t];
    a[i * (k + 1) + k] = s;
  }
  // Gaussian elimination with partial pivoting.
  for (let c = 0; c < k; c++) {
    let p = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(a[r * (k + 1) + c]) > Math.abs(a[p * (k + 1) + c])) p = r;
    if (p !== c) {
      for (let j = 0; j <= k; j++) {
        const tmp = a[c * (k + 1) + j];
        a[c * (k + 1) + j] = a[p * (k + 1) + j];
        a[p * (k + 1) + j] = tmp;
      }
    }
    const d = a[c * (k + 1) + c];
    if (d === 0) continue;
    for (let r = 0; r < k; r++) {
      if (r === c) continue;
      const fct = a[r * (k + 1) + c] / d;
      if (fct === 0) continue;
      for (let j = c; j <= k; j++) a[r * (k + 1) + j] -= fct * a[c * (k + 1) + j];
    }
  }
  const out = new Float64Array(k); // (K)
  for (let i = 0; i < k; i++) {
    const d = a[i * (k + 1) + i];
    out[i] = d === 0 ? 0 : a[i * (k + 1) + k] / d;
  }
  return out;
}

/** Sample autocorrelations r_1..r_maxLag (denominator N, as R's acf and statsmodels' acf). */
export function acf(x: Values, maxLag: number): Float64Array {
  const n = x.length;
  let mean = 0;
  for (let t = 0; t < n; t++) mean += x[t] / n;
  let c0 = 0;
  for (let t = 0; t < n; t++) c0 += (x[t] - mean) ** 2;
  const r = new Float64Array(maxLag); // (maxLag)
  for (let k = 1; k <= maxLag; k++) {
    let c = 0;
    for (let t = 0; t + k < n; t++) c += (x[t] - mean) * (x[t + k] - mean);
    r[k - 1] = c0 === 0 ? 0 : c / c0;
  }
  return r;
}

/**
 * The standard normal quantile: Acklam's rational approximation (relative error below 1.2e-9), then
 * one Newton step on the normal CDF, which brings it to about 1e-14.
 */
export function qnorm(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return Number.NEGATIVE_INFINITY;
    if (p === 1) return Number.POSITIVE_INFINITY;
    return Number.NaN;
  }
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
    2.506628277459239,
  ];
  const b = [
    -54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572,
  ];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const pl = 0.02425;
  let x: number;
  if (p < pl) {
    const q = Math.sqrt(-2 * Math.log(p));
    x =
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - pl) {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
      (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x =
      -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const density = Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
  return density > 0 ? x - (pnorm(x) - p) / density : x;
}

/** The standard normal CDF: erf's Taylor series near 0, the continued fraction for erfc in the tails. */
export function pnorm(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  let tail: number; // P(N > |x|) = erfc(z) / 2
  if (z < 2.5) {
    // erf(z) = 2/sqrt(pi) sum (-1)^n z^(2n+1) / (n! (2n+1))
    let term = z;
    let sum = z;
    for (let n = 1; n < 200; n++) {
      term *= (-z * z) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    tail = 0.5 * (1 - (2 / Math.sqrt(Math.PI)) * sum);
  } else {
    // erfc(z) = exp(-z^2)/sqrt(pi) / (z + (1/2)/(z + 1/(z + (3/2)/(z + ...)))), by Lentz's method
    const tiny = 1e-300;
    let f = z;
    let C = z;
    let D = 0;
    for (let k = 1; k < 500; k++) {
      const a = k / 2;
      D = z + a * D;
      D = D === 0 ? tiny : 1 / D;
      C = z + a / C;
      if (C === 0) C = tiny;
      const delta = C * D;
      f *= delta;
      if (Math.abs(delta - 1) < 1e-16) break;
    }
    tail = (0.5 * Math.exp(-z * z)) / (Math.sqrt(Math.PI) * f);
  }
  return x >= 0 ? 1 - tail : tail;
}

/** A seeded generator of uniform and standard normal numbers (mulberry32 + Box–Muller). */
export class NormalRng {
  private state: number;
  private spare: number | null = null;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  uniform(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  }
  normal(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

/** The p-quantile of sorted values, interpolating as R's quantile type 7 and numpy's default. */
export function quantileSorted(sorted: Values, p: number): number {
  const n = sorted.length;
  const h = (n - 1) * p;
  const lo = Math.floor(h);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/**
 * Whether every root of the polynomial c[0] + c[1] z + ... + c[d] z^d has modulus below 1 + tol, by
 * the Schur–Cohn recursion on the polynomial with z scaled by 1 + tol.
 */
export function rootsInUnitDisk(coefficients: Values, tol = 1e-8): boolean {
  const r = 1 + tol;
  let a = Array.from(coefficients, (c, k) => c * r ** k);
  while (a.length > 1 && a[a.length - 1] === 0) a.pop();
  while (a.length > 1) {
    const d = a.length - 1;
    const lead = a[d];
    const c0 = a[0];
    // |c0/lead| is the product of the roots' moduli: 1 or more means a root on or outside the circle.
    if (Math.abs(c0) >= Math.abs(lead)) return false;
    const next: number[] = new Array(d);
    let big = 0;
    for (let k = 1; k <= d; k++) {
      next[k - 1] = lead * a[k] - c0 * a[d - k];
      big = Math.max(big, Math.abs(next[k - 1]));
    }
    // each step multiplies the coefficients by about |lead|: rescale, or a dozen steps underflow to 0
    a = big > 0 ? next.map((v) => v / big) : next;
    while (a.length > 1 && a[a.length - 1] === 0) a.pop();
  }
  return true;
}
