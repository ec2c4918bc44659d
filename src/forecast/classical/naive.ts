// The naive family: the last value, the last season, and the last season plus the average yearly
// (per-season) change, R's rwf(y, lag = m, drift = TRUE). H = horizon, m = season length.

function check(y: ArrayLike<number>, h: number, need: number, what: string): void {
  if (!Number.isInteger(h) || h < 1)
    throw new Error(`${what}: the horizon must be a positive integer, got ${h}`);
  if (y.length < need) throw new Error(`${what}: needs at least ${need} observation(s), got ${y.length}`);
}

/** The last value repeated. */
export function naive(y: ArrayLike<number>, h: number): Float64Array {
  check(y, h, 1, "naive");
  return new Float64Array(h).fill(y[y.length - 1]); // (H)
}

/** The last season repeated: step h (0-based) is y[N - m + (h mod m)]. */
export function seasonalNaive(y: ArrayLike<number>, h: number, m: number): Float64Array {
  check(y, h, m, "seasonal naive");
  const n = y.length;
  return Float64Array.from({ length: h }, (_, i) => y[n - m + (i % m)]); // (H)
}

/**
 * Seasonal naive with drift: the last season repeated, plus k + 1 times the mean seasonal difference
 * mean(y_t - y_{t-m}) for the (k+1)-th season ahead.
 */
export function seasonalNaiveDrift(y: ArrayLike<number>, h: number, m: number): Float64Array {
  check(y, h, m + 1, "seasonal naive with drift");
  const n = y.length;
  const drift = (sumTail(y, m) - sumHead(y, m)) / (n - m); // mean of y_t - y_{t-m}, t = m..N-1
  return Float64Array.from({ length: h }, (_, i) => y[n - m + (i % m)] + (Math.floor(i / m) + 1) * drift);
}

function sumTail(y: ArrayLike<number>, m: number): number {
  let s = 0;
  for (let i = y.length - m; i < y.length; i++) s += y[i];
  return s;
}

function sumHead(y: ArrayLike<number>, m: number): number {
  let s = 0;
  for (let i = 0; i < m; i++) s += y[i];
  return s;
}
