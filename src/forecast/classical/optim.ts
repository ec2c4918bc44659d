// A derivative-free minimizer: the Nelder–Mead simplex method with the conventions of R's optim()
// (the optimizer forecast::ets uses): reflection 1, contraction 0.5, expansion 2, a first simplex of
// one step of 0.1·max|x0| along each axis, a relative tolerance on the spread of the vertex values, and
// non-finite values treated as a very large number so that bounds can be written as +Infinity.
// P = parameters (n).

export interface NelderMeadOptions {
  /** Stop when max f - min f over the simplex <= reltol·(|f(x0)| + reltol). Default sqrt(eps). */
  reltol?: number;
  /** Stop when the best value is <= abstol. Default -Infinity. */
  abstol?: number;
  /** The most function evaluations. Default 2000 (forecast::ets's maxit). */
  maxEval?: number;
  /**
   * The first simplex's step along each axis. Default: one step 0.1·max|x0| for every axis (R's optim),
   * which for parameters of very different scales mostly probes outside the bounds of the small ones.
   */
  steps?: ArrayLike<number>;
}

export interface NelderMeadResult {
  x: Float64Array; // (P)
  value: number;
  evaluations: number;
  /** True when the simplex converged; false when the evaluation budget ran out or a shrink stalled. */
  converged: boolean;
}

const BIG = 1e35;

/** Minimizes `f` from `x0`. `f` may return Infinity or NaN outside its domain. */
export function nelderMead(
  f: (x: Float64Array) => number,
  x0: ArrayLike<number>,
  options: NelderMeadOptions = {},
): NelderMeadResult {
  const n = x0.length;
  const reltol = options.reltol ?? Math.sqrt(Number.EPSILON);
  const abstol = options.abstol ?? Number.NEGATIVE_INFINITY;
  const maxEval = options.maxEval ?? 2000;
  const safe = (x: Float64Array): number => {
    const v = f(x);
    return Number.isFinite(v) ? v : BIG;
  };
  const start = Float64Array.from(x0);
  const f0 = f(start);
  if (!Number.isFinite(f0)) {
    throw new Error(`nelderMead: the function is not finite at the starting point (got ${f0})`);
  }
  if (n === 0) return { x: start, value: f0, evaluations: 1, converged: true };
  const convtol = reltol * (Math.abs(f0) + reltol);
  // Simplex: n + 1 vertices, each (P), with its value.
  const pts: Float64Array[] = [start];
  const vals: number[] = [f0];
  let step = 0;
  for (let i = 0; i < n; i++) step = Math.max(step, 0.1 * Math.abs(start[i]));
  if (step === 0) step = 0.1;
  let size = 0;
  for (let j = 0; j < n; j++) {
    const v = Float64Array.from(start);
    let tryStep = options.steps !== undefined && options.steps[j] > 0 ? options.steps[j] : step;
    while (v[j] === start[j]) {
      v[j] = start[j] + tryStep;
      tryStep *= 10;
    }
    size += tryStep;
    pts.push(v);
    vals.push(0);
  }
  let oldSize = size;
  let evals = 1;
  let best = 0;
  let recompute = true;
  let converged = false;
  const centroid = new Float64Array(n); // (P)
  const trial = new Float64Array(n); // (P)
  for (;;) {
    if (recompute) {
      for (let j = 0; j <= n; j++) {
        if (j === best) continue;
        vals[j] = safe(pts[j]);
        evals++;
      }
      recompute = false;
    }
    // best (lowest) and worst (highest) vertices; ties keep the earlier best.
    let lo = vals[best];
    let hi = lo;
    let worst = best;
    for (let j = 0; j <= n; j++) {
      if (j === best) continue;
      if (vals[j] < lo) {
        best = j;
        lo = vals[j];
      }
      if (vals[j] > hi) {
        worst = j;
        hi = vals[j];
      }
    }
    if (hi <= lo + convtol || lo <= abstol) {
      converged = true;
      break;
    }
    if (evals > maxEval) break;
    // centroid of all vertices but the worst
    for (let i = 0; i < n; i++) {
      let s = -pts[worst][i];
      for (let j = 0; j <= n; j++) s += pts[j][i];
      centroid[i] = s / n;
    }
    // reflection
    for (let i = 0; i < n; i++) trial[i] = 2 * centroid[i] - pts[worst][i];
    const fr = safe(trial);
    evals++;
    if (fr < lo) {
      // expansion: 2·reflected - centroid
      const expanded = new Float64Array(n);
      for (let i = 0; i < n; i++) expanded[i] = 2 * trial[i] - centroid[i];
      const fe = safe(expanded);
      evals++;
      if (fe < fr) {
        pts[worst] = expanded;
        vals[worst] = fe;
      } else {
        pts[worst] = Float64Array.from(trial);
        vals[worst] = fr;
      }
      continue;
    }
    // contraction towards the centroid, from the reflected point when it beats the worst
    if (fr < hi) {
      pts[worst] = Float64Array.from(trial);
      vals[worst] = fr;
    }
    const contracted = new Float64Array(n);
    for (let i = 0; i < n; i++) contracted[i] = 0.5 * pts[worst][i] + 0.5 * centroid[i];
    const fc = safe(contracted);
    evals++;
    if (fc < vals[worst]) {
      pts[worst] = contracted;
      vals[worst] = fc;
    } else if (fr >= hi) {
      // shrink every vertex halfway towards the best
      size = 0;
      for (let j = 0; j <= n; j++) {
        if (j === best) continue;
        for (let i = 0; i < n; i++) {
          pts[j][i] = 0.5 * (pts[j][i] - pts[best][i]) + pts[best][i];
          size += Math.abs(pts[j][i] - pts[best][i]);
        }
      }
      recompute = true;
      if (size < oldSize) oldSize = size;
      else break;
    }
  }
  return { x: Float64Array.from(pts[best]), value: vals[best], evaluations: evals, converged };
}
