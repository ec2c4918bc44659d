// Training diagnostics, one line per named series: loss curves, gradient norms across time steps
// (vanishing and exploding gradients), and gradient norms per training step with the clip bound.
// Log axes clamp values at a floor they can show and say so in the subtitle (see `logFloor`).

import {
  type ChartFrame,
  type ChartSpec,
  ChartError,
  type Json,
  type LegendEntry,
  type NamedSeries,
  type Numbers,
  PALETTE,
  chartTop,
  describe,
  gapNote,
  legendColor,
  logFloor,
  readNumbers,
  readSeries,
  seriesLayers,
} from "./common.js";

/** Options shared by the line charts below. */
export interface LineChartOptions extends ChartFrame {
  /** The series, one line each; they may differ in length (a validation loss measured less often). */
  series: NamedSeries[];
  /**
   * The x value of each position, shared by all series (at least as long as the longest series).
   * Default 1, 2, 3, ...: epoch, training step or time step numbers.
   */
  x?: Numbers;
  xLabel?: string;
  yLabel?: string;
  /** For log axes: the smallest value drawn; smaller ones (and zeros) are drawn at it. Default: see `logFloor`. */
  floor?: number;
  /** Mark each value with a point (default: when the longest series has at most 60 values). */
  points?: boolean;
}

// Log-axis labels: vega's own choice of which ticks get a label (datum.label is "" for the others),
// written as plain numbers in the middle decades and as exponents (1e-30, 1e10) outside them.
const LOG_LABEL =
  "datum.label === '' ? '' : datum.value >= 0.001 && datum.value < 10000 ? datum.label : replace(format(datum.value, '.1~e'), 'e+', 'e')";

const SHAPES = [
  "circle",
  "square",
  "diamond",
  "triangle-up",
  "triangle-down",
  "cross",
  "triangle-left",
  "triangle-right",
  "wedge",
  "arrow",
];

interface LineChartPlan {
  fn: string;
  frame: ChartFrame;
  series: NamedSeries[];
  x: Numbers | undefined;
  xLabel: string;
  yLabel: string;
  log: boolean;
  floor: number | undefined;
  points: boolean | undefined;
  /** A horizontal rule drawn across the plot, with its own legend entry. */
  rule?: { name: string; y: number; color: string };
  /** Colours the series may not take (the rule's). */
  reserved?: string[];
  /** Extra values the log floor must stay under (the rule's y). */
  keepAbove?: number[];
}

function lineChart(p: LineChartPlan): ChartSpec {
  const { fn } = p;
  const series = readSeries(fn, p.series);
  const longest = Math.max(...series.map((s) => s.values.length));
  if (longest === 0) throw new ChartError(`${fn}: every series is empty; nothing to draw`);
  const palette = PALETTE.filter((c) => !(p.reserved ?? []).includes(c));
  if (series.length > palette.length) {
    throw new ChartError(`${fn}: at most ${palette.length} series fit this chart, got ${series.length}`);
  }
  let x: number[];
  if (p.x === undefined) {
    x = Array.from({ length: longest }, (_, i) => i + 1);
  } else {
    const xs = readNumbers(fn, "x", p.x);
    if (xs.length < longest) {
      throw new ChartError(
        `${fn}: x must have at least as many values as the longest series (${longest}), got ${xs.length}`,
      );
    }
    x = xs.map((v, i) => {
      if (v === null) throw new ChartError(`${fn}: x[${i}] must be finite, got ${p.x?.[i]}`);
      if (i > 0 && !(v > (xs[i - 1] as number))) {
        throw new ChartError(
          `${fn}: x must be increasing, got x[${i - 1}] = ${xs[i - 1]} then x[${i}] = ${v}`,
        );
      }
      return v;
    });
  }

  let columns = series.map((s) => s.values);
  const notes = gapNote(columns);
  if (p.log) {
    const extra = (p.keepAbove ?? []).map((v) => [v]);
    const { floor } = logFloor(fn, [...columns, ...extra], p.floor);
    const clamped = logFloor(fn, columns, floor);
    columns = clamped.columns;
    notes.push(...clamped.notes);
  }

  const points = p.points ?? longest <= 60;
  const entries: LegendEntry[] = series.map((s, k) => ({
    name: s.name,
    color: palette[k],
    shape: SHAPES[k % SHAPES.length],
    symbol: points ? SHAPES[k % SHAPES.length] : "stroke",
  }));
  if (p.rule) {
    if (series.some((s) => s.name === p.rule?.name)) {
      throw new ChartError(`${fn}: a series is named like the rule, ${JSON.stringify(p.rule.name)}`);
    }
    entries.push({ name: p.rule.name, color: p.rule.color, shape: "stroke", dash: [6, 4], symbol: "stroke" });
  }
  const color = legendColor(entries);

  const rows: { series: string; x: number; y: number | null }[] = [];
  series.forEach((s, k) => {
    const col = columns[k];
    for (let i = 0; i < col.length; i++) rows.push({ series: s.name, x: x[i], y: col[i] });
  });

  const integerX = p.x === undefined;
  const xEnc: Json = {
    field: "x",
    type: "quantitative",
    title: p.xLabel,
    scale: { zero: false, nice: false },
    ...(integerX ? { axis: { tickMinStep: 1, format: "d" } } : {}),
  };
  const yEnc: Json = {
    field: "y",
    type: "quantitative",
    title: p.yLabel,
    scale: p.log ? { type: "log" } : { zero: false },
    ...(p.log ? { axis: { format: "~g", labelExpr: LOG_LABEL } } : {}),
  };
  // Layer names s<k>_line, s<k>_points number the series in legend order.
  const layer: Json[] = series.flatMap((_, k) =>
    seriesLayers({
      k,
      entry: entries[k],
      x: xEnc,
      y: yEnc,
      color,
      line: true,
      ...(points ? { points: 40 } : {}),
    }),
  );
  if (p.rule) {
    layer.push({
      name: "rule",
      data: { values: [{ series: p.rule.name, y: p.rule.y }] },
      mark: { type: "rule", strokeWidth: 1.5, strokeDash: [6, 4] },
      encoding: { y: yEnc, color },
    });
  }
  const top = chartTop(fn, p.frame, notes);
  return { ...top, data: { values: rows }, layer } as unknown as ChartSpec;
}

export interface LossChartInput extends LineChartOptions {
  /** A log y axis (default false); values <= 0 are then drawn at the floor. */
  logScale?: boolean;
}

/** Loss curves (train, validation, ...) against epoch or step, optionally on a log axis. */
export function lossChart(input: LossChartInput): ChartSpec {
  return lineChart({
    fn: "lossChart",
    frame: input,
    series: input.series,
    x: input.x,
    xLabel: input.xLabel ?? "epoch",
    yLabel: input.yLabel ?? "loss",
    log: input.logScale ?? false,
    floor: input.floor,
    points: input.points,
  });
}

export interface GradientFlowChartInput extends LineChartOptions {
  /** What the norms are, e.g. "‖∂L/∂h_t‖". */
  yLabel: string;
}

/**
 * How large the gradient is at each time step, one line per cell type or setting, on a log axis that
 * spans any range (1e-30 .. 1e10 is ordinary for vanishing and exploding gradients). Zeros are drawn
 * at the floor and counted in the subtitle.
 */
export function gradientFlowChart(input: GradientFlowChartInput): ChartSpec {
  if (typeof input.yLabel !== "string") {
    throw new ChartError(`gradientFlowChart: yLabel must be a string, got ${describe(input.yLabel)}`);
  }
  return lineChart({
    fn: "gradientFlowChart",
    frame: input,
    series: input.series,
    x: input.x,
    xLabel: input.xLabel ?? "time step",
    yLabel: input.yLabel,
    log: true,
    floor: input.floor,
    points: input.points,
  });
}

export interface GradNormChartInput extends LineChartOptions {
  /** The clipping bound (max_norm); drawn as a dashed horizontal rule when given. */
  clip?: number;
  /** A log y axis (default false), for norms that explode. */
  logScale?: boolean;
}

const RULE_COLOR = PALETTE[3]; // red, kept for the clip bound

/** Gradient norm per training step, e.g. with and without clipping, with the clip bound as a rule. */
export function gradNormChart(input: GradNormChartInput): ChartSpec {
  const fn = "gradNormChart";
  const { clip } = input;
  if (clip !== undefined && !(typeof clip === "number" && Number.isFinite(clip) && clip > 0)) {
    throw new ChartError(`${fn}: clip must be a finite number > 0, got ${describe(clip)}`);
  }
  return lineChart({
    fn,
    frame: input,
    series: input.series,
    x: input.x,
    xLabel: input.xLabel ?? "training step",
    yLabel: input.yLabel ?? "gradient norm",
    log: input.logScale ?? false,
    floor: input.floor,
    points: input.points,
    ...(clip === undefined
      ? {}
      : {
          rule: { name: `clip bound (max_norm = ${clip})`, y: clip, color: RULE_COLOR },
          reserved: [RULE_COLOR],
          keepAbove: [clip],
        }),
  });
}
