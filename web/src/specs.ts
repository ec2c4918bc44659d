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

/** At most `max` points of a long curve (every k-th, and the last), with their 1-based positions. */
export function thin(values: ArrayLike<number>, max = 1200): { x: number[]; y: number[] } {
  const n = values.length;
  const k = Math.max(1, Math.ceil(n / max));
  const x: number[] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i += k) {
    x.push(i + 1);
    y.push(values[i]);
  }
  if (n > 0 && x[x.length - 1] !== n) {
    x.push(n);
    y.push(values[n - 1]);
  }
  return { x, y };
}

export function sineLossSpec(losses: ArrayLike<number>, total: number, width: number): ChartSpec {
  const { x, y } = thin(losses);
  return lossChart({
    title: "Training loss (MSE, one window per iteration)",
    subtitle: `${losses.length} of ${total} iterations`,
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
  return forecastChart({
    history: c.history,
    forecast: c.forecast,
    ...(c.heldOut !== null ? { heldOut: c.heldOut } : {}),
    ...(c.dates !== null ? { dates: c.dates } : { index: c.index }),
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
