// The page's charts as specs: the library's chart functions (src/viz) fed with the jobs' results, with
// the titles the `recurrent` command gives the same charts.

import type { ClipSummary } from "./protocol.js";
import type { ChartSeries, CellFlow, GradJobOptions, SinePrediction } from "./jobs.js";
import {
  type ChartSpec,
  forecastChart,
  gradientFlowChart,
  gradNormChart,
  lossChart,
  sineChart,
} from "./lib.js";

const HEIGHT = 340;

/**
 * Which points of long curves to draw: the series are cut into `buckets` runs of consecutive indices,
 * and each run keeps its first and last index and, for every series, the index of its smallest and of
 * its largest finite value. So a spike or a dip of a single point survives (every-k-th sampling would
 * drop it), a curve of 400,000 points becomes at most 4·buckets·(series) points, and the drawing stays
 * the shape of the data. Returns the kept indices, ascending; all of them when n <= 2·buckets.
 */
export function thinIndices(n: number, series: ArrayLike<number>[], buckets = 500): number[] {
  if (n <= 2 * buckets) return Array.from({ length: n }, (_, i) => i);
  const keep: number[] = [];
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor((b * n) / buckets);
    const hi = Math.floor(((b + 1) * n) / buckets); // [lo, hi)
    const picked = new Set<number>([lo, hi - 1]);
    for (const v of series) {
      let iMin = -1;
      let iMax = -1;
      for (let i = lo; i < hi; i++) {
        const x = v[i];
        if (!Number.isFinite(x)) continue;
        if (iMin < 0 || x < v[iMin]) iMin = i;
        if (iMax < 0 || x > v[iMax]) iMax = i;
      }
      if (iMin >= 0) picked.add(iMin).add(iMax);
    }
    keep.push(...Array.from(picked).sort((a, b) => a - b));
  }
  return keep;
}

const pick = <T>(v: ArrayLike<T>, at: number[]): T[] => at.map((i) => v[i]);

/** A long curve thinned for drawing (thinIndices), with the 1-based positions of the points kept. */
export function thin(values: ArrayLike<number>, buckets = 500): { x: number[]; y: number[] } {
  const at = thinIndices(values.length, [values], buckets);
  return { x: at.map((i) => i + 1), y: pick(values, at) };
}

export function sineLossSpec(losses: ArrayLike<number>, total: number, width: number): ChartSpec {
  const { x, y } = thin(losses, 150); // a half-width chart: 150 runs of up to 4 points are plenty
  return lossChart({
    title: "Training loss (MSE, one window per iteration)",
    // the same while training (so a live update only changes the data), the count once it ends
    subtitle: losses.length < total ? `training: ${total} iterations` : `${total} iterations`,
    series: [{ name: "training loss", values: y }],
    x,
    xLabel: "iteration",
    logScale: true,
    points: false,
    width,
    height: HEIGHT,
  });
}

/** The sine chart as `recurrent sine` draws it; `iter` marks a preview taken while training. */
export function sineSpec(p: SinePrediction, title: string, width: number, note?: string): ChartSpec {
  const K = p.context;
  return sineChart({
    t: p.t,
    truth: p.truth,
    notesPred: [Number.NaN, ...p.notesPred],
    contextPred: [...new Array<number>(K).fill(Number.NaN), ...p.contextPred],
    contextLen: K,
    title,
    ...(note ? { subtitle: note } : {}),
    width,
    height: HEIGHT,
  });
}

export function epochLossSpec(
  history: { epoch: number; loss: number; valLoss: number | null }[],
  title: string,
  width: number,
  subtitle?: string,
): ChartSpec {
  const series = [{ name: "training loss", values: history.map((e) => e.loss) }];
  if (history.some((e) => e.valLoss !== null)) {
    series.push({ name: "validation loss", values: history.map((e) => e.valLoss ?? Number.NaN) });
  }
  return lossChart({
    title,
    subtitle: subtitle ?? "MSE in scaled units",
    series,
    x: history.map((e) => e.epoch),
    logScale: true,
    width,
    height: HEIGHT,
  });
}

export function forecastSpec(
  c: ChartSeries,
  o: { title: string; subtitle?: string; yLabel: string; width: number; names?: { forecast?: string } },
): ChartSpec {
  // Long series (a backtest over 100,000 rows) are thinned: history on its own, forecast and held-out
  // truth together (they share their steps).
  const nh = c.history.length;
  const atH = thinIndices(nh, [c.history]);
  const atF = thinIndices(c.forecast.length, c.heldOut !== null ? [c.forecast, c.heldOut] : [c.forecast]);
  const atAll = [...atH, ...atF.map((i) => nh + i)];
  return forecastChart({
    history: pick(c.history, atH),
    forecast: pick(c.forecast, atF),
    ...(c.heldOut !== null ? { heldOut: pick(c.heldOut, atF) } : {}),
    ...(c.dates !== null ? { dates: pick(c.dates, atAll) } : { index: pick(c.index, atAll) }),
    title: o.title,
    ...(o.subtitle ? { subtitle: o.subtitle } : {}),
    yLabel: o.yLabel,
    ...(o.names ? { names: o.names } : {}),
    width: o.width,
    height: HEIGHT,
  });
}

function gradSubtitle(o: GradJobOptions, cells: CellFlow[]): string {
  const tweaks = [
    o.initScale !== 1 ? `W_hh × ${o.initScale}` : "",
    o.forgetBias !== null ? `LSTM forget bias ${o.forgetBias}` : "",
  ].filter((s) => s);
  return `${cells.map((c) => c.module).join(", ")}${tweaks.length ? `; ${tweaks.join(", ")}` : ""}; ${o.seqLen} steps of ${o.input === "randn" ? "N(0, 1)" : "a sine"} input, seed ${o.seed}`;
}

/** ‖∂L/∂h_t‖ per time step, one line per cell (the chart `recurrent gradients --compare` writes first). */
export function gradFlowSpec(o: GradJobOptions, cells: CellFlow[], width: number): ChartSpec {
  return gradientFlowChart({
    title: "How much the end of the sequence hears of step t: ‖∂L/∂h_t‖",
    subtitle: gradSubtitle(o, cells),
    series: cells.map((c) => ({ name: c.cell, values: c.gradH })),
    yLabel: "‖∂L/∂h_t‖ (log scale)",
    xLabel: "time step t",
    width,
    height: HEIGHT,
  });
}

/** ‖∂h_T/∂h_t‖₂ (and the LSTM's cell path) per time step; null without Jacobians. */
export function gradJacobianSpec(o: GradJobOptions, cells: CellFlow[], width: number): ChartSpec | null {
  if (cells.some((c) => c.jacobianH === null)) return null;
  const series = cells.flatMap((c) => {
    const s = [{ name: `${c.cell} ‖∂h_T/∂h_t‖₂`, values: c.jacobianH as number[] }];
    if (c.jacobianC !== null) s.push({ name: `${c.cell} ‖∂c_T/∂c_t‖₂ (cell path)`, values: c.jacobianC });
    return s;
  });
  return gradientFlowChart({
    title: "The product of step Jacobians: ‖∂h_T/∂h_t‖₂ = ‖∏ diag(f′)·W_R‖₂",
    subtitle: gradSubtitle(o, cells),
    series,
    yLabel: "‖∂h_T/∂h_t‖₂ (log scale)",
    xLabel: "time step t",
    width,
    height: HEIGHT,
  });
}

const CELL_LABEL: Record<string, string> = { rnn: "RNN", "rnn-relu": "RNN-relu", lstm: "LSTM", gru: "GRU" };

function clipSubtitle(r: ClipSummary): string {
  const u = r.unclipped;
  return `${CELL_LABEL[r.cell] ?? r.cell}(1, ${r.hidden}), W_hh × ${r.initScale}, plain SGD lr ${r.lr}, sine one step ahead, seed ${r.seed}${u.divergedAt !== null ? `; unclipped: diverged at step ${u.divergedAt + 1}` : ""}`;
}

export function clipNormSpec(r: ClipSummary, width: number): ChartSpec {
  return gradNormChart({
    title: "Exploding gradients: gradient norm per training step",
    subtitle: clipSubtitle(r),
    series: [
      { name: "without clipping", values: r.unclipped.gradNorm },
      { name: `clip ${r.clip}: norm before clipping`, values: r.clipped.gradNorm },
      { name: `clip ${r.clip}: norm applied`, values: r.clipped.appliedNorm },
    ],
    clip: r.clip,
    logScale: true,
    width,
    height: HEIGHT,
  });
}

export function clipLossSpec(r: ClipSummary, width: number): ChartSpec {
  return lossChart({
    title: "Training loss (MSE) with and without clipping",
    subtitle: clipSubtitle(r),
    series: [
      { name: "without clipping", values: r.unclipped.loss },
      { name: `clip ${r.clip}`, values: r.clipped.loss },
    ],
    xLabel: "training step",
    logScale: true,
    width,
    height: HEIGHT,
  });
}
