// The study notes' sine experiment in one picture: the true series (points joined by a line), the
// notes' autoregressive predictions (points: each fed back as the next input), and a forecast started
// from K true context points (line + points), with the context points ringed and a dashed rule where
// the forecast takes over.

import {
  type ChartFrame,
  type ChartSpec,
  ChartError,
  type Json,
  type LegendEntry,
  type Numbers,
  PALETTE,
  type Row,
  chartTop,
  checkInteger,
  gapNote,
  legendColor,
  readNumbers,
  rowsOf,
  seriesLayers,
} from "./common.js";

export interface SineChartInput extends ChartFrame {
  /** The time of each step (n values, increasing). */
  t: Numbers;
  /** The true series at each t (n values). */
  truth: Numbers;
  /**
   * The notes' autoregressive predictions, aligned with t: notesPred[i] is the prediction for t[i],
   * NaN where there is none (the notes predict t[1..n-1], so notesPred[0] is NaN). Optional.
   */
  notesPred?: Numbers;
  /**
   * The forecast started from the first `contextLen` true values, aligned with t: contextPred[i] is
   * the forecast for t[i], NaN where there is none (normally the first contextLen steps). Optional.
   */
  contextPred?: Numbers;
  /** K, how many true values (from the start) the context forecast was given; needed with contextPred. */
  contextLen?: number;
  /** Axis titles (default "t" and "value"). */
  xLabel?: string;
  yLabel?: string;
  /** Legend names, if the defaults do not fit the experiment. */
  names?: { truth?: string; notes?: string; context?: string; contextPoints?: string; start?: string };
}

/** The sine experiment: truth, the notes' autoregressive predictions, and a context-started forecast. */
export function sineChart(input: SineChartInput): ChartSpec {
  const fn = "sineChart";
  const t = readNumbers(fn, "t", input.t);
  const n = t.length;
  if (n === 0) throw new ChartError(`${fn}: t must have at least one value, got none`);
  const x: number[] = t.map((v, i) => {
    if (v === null) throw new ChartError(`${fn}: t[${i}] must be finite, got ${input.t[i]}`);
    if (i > 0 && !(v > (t[i - 1] as number))) {
      throw new ChartError(`${fn}: t must be increasing, got t[${i - 1}] = ${t[i - 1]} then t[${i}] = ${v}`);
    }
    return v;
  });
  const truth = readNumbers(fn, "truth", input.truth, n);
  const notes = input.notesPred === undefined ? null : readNumbers(fn, "notesPred", input.notesPred, n);
  const ctx = input.contextPred === undefined ? null : readNumbers(fn, "contextPred", input.contextPred, n);
  let K = 0;
  if (ctx !== null) {
    if (input.contextLen === undefined) throw new ChartError(`${fn}: contextPred needs contextLen (K)`);
    K = checkInteger(fn, "contextLen", input.contextLen, 0, n);
  } else if (input.contextLen !== undefined) {
    K = checkInteger(fn, "contextLen", input.contextLen, 0, n);
  }

  const names = {
    truth: input.names?.truth ?? "true sin(t)",
    notes: input.names?.notes ?? "notes: autoregressive prediction",
    context: input.names?.context ?? "context-started forecast",
    contextPoints: input.names?.contextPoints ?? `context (K = ${K} true points)`,
    start: input.names?.start ?? "forecast start",
  };
  const all = Object.values(names);
  if (new Set(all).size !== all.length)
    throw new ChartError(`${fn}: legend names must differ, got ${JSON.stringify(all)}`);

  // The rule sits halfway between the last context point and the first forecast step.
  const hasRule = K > 0 && K < n;
  const ruleX = hasRule ? (x[K - 1] + x[K]) / 2 : 0;

  const truthE: LegendEntry = { name: names.truth, color: PALETTE[0], shape: "circle", symbol: "circle" };
  const notesE: LegendEntry = { name: names.notes, color: PALETTE[1], shape: "diamond", symbol: "diamond" };
  const ctxE: LegendEntry = {
    name: names.context,
    color: PALETTE[2],
    shape: "square",
    dash: [6, 3],
    symbol: "stroke",
  };
  const ringE: LegendEntry = {
    name: names.contextPoints,
    color: PALETTE[3],
    shape: "circle",
    symbol: "circle",
    hollow: true,
  };
  const startE: LegendEntry = {
    name: names.start,
    color: PALETTE[7],
    shape: "stroke",
    dash: [4, 4],
    symbol: "stroke",
  };
  const entries = [
    truthE,
    ...(notes ? [notesE] : []),
    ...(ctx ? [ctxE] : []),
    ...(K > 0 ? [ringE] : []),
    ...(hasRule ? [startE] : []),
  ];
  const color = legendColor(entries);

  const rows: Row[] = rowsOf(names.truth, x, truth);
  if (notes) rows.push(...rowsOf(names.notes, x, notes));
  if (ctx) rows.push(...rowsOf(names.context, x, ctx));
  if (K > 0) rows.push(...rowsOf(names.contextPoints, x.slice(0, K), truth.slice(0, K)));

  const xEnc: Json = {
    field: "x",
    type: "quantitative",
    title: input.xLabel ?? "t",
    scale: { zero: false, nice: false },
  };
  const yEnc: Json = { field: "y", type: "quantitative", title: input.yLabel ?? "value" };
  const enc = { x: xEnc, y: yEnc, color };
  // Layer names (s<k>_line, s<k>_points, ...) number the series in legend order.
  const layer: Json[] = [...seriesLayers({ k: 0, entry: truthE, ...enc, line: true, points: 45 })];
  if (notes) layer.push(...seriesLayers({ k: entries.indexOf(notesE), entry: notesE, ...enc, points: 45 }));
  if (ctx)
    layer.push(...seriesLayers({ k: entries.indexOf(ctxE), entry: ctxE, ...enc, line: true, points: 40 }));
  if (K > 0) layer.push(...seriesLayers({ k: entries.indexOf(ringE), entry: ringE, ...enc, rings: 190 }));
  if (hasRule) {
    layer.push({
      name: "start_rule",
      data: { values: [{ series: names.start, x: ruleX }] },
      mark: { type: "rule", strokeWidth: 1.5, strokeDash: startE.dash },
      encoding: { x: xEnc, color },
    });
  }
  const top = chartTop(fn, input, gapNote([truth]));
  return { ...top, data: { values: rows }, layer } as unknown as ChartSpec;
}
