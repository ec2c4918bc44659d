// A forecast against the recent history it continues: history as a line, the forecast as a dashed
// line with points, and (when known) the held-out truth over the forecast span. The forecast and the
// held-out lines start from the last history point so the picture reads as one continuing series;
// their points mark only the forecast steps. The x axis is dates (a UTC time axis) or step numbers.

import { parseDate } from "../data/dates.js";
import {
  type ChartFrame,
  type ChartSpec,
  ChartError,
  type Json,
  type LegendEntry,
  type Numbers,
  PALETTE,
  chartTop,
  describe,
  gapNote,
  legendColor,
  readNumbers,
  seriesLayers,
} from "./common.js";

export interface ForecastChartInput extends ChartFrame {
  /** The H most recent observed values. */
  history: Numbers;
  /** The F forecast values following the history. */
  forecast: Numbers;
  /** The F true values over the forecast span (NaN where unknown), if held out. */
  heldOut?: Numbers;
  /**
   * Prediction intervals over the forecast span (level in (0, 1), F lower and F upper bounds), drawn as
   * shaded bands in the forecast's colour, the widest palest.
   */
  bands?: readonly { level: number; lower: Numbers; upper: Numbers }[];
  /**
   * H + F dates, one per history and forecast step: ISO strings (`2020-01-31`, `2020-01-31T10:00`;
   * without a zone they are UTC, as in the data layer) or milliseconds since the epoch. The x axis is
   * then a time axis in UTC, so the picture does not depend on the machine's time zone.
   */
  dates?: readonly (string | number)[];
  /** H + F step numbers when there are no dates (default 0, 1, ..., H + F - 1). */
  index?: Numbers;
  /** The y axis title (the series' name and unit). */
  yLabel: string;
  /** The x axis title (default "date" or "step"). */
  xLabel?: string;
  /** Legend names (default "history", "forecast", "held-out truth"). */
  names?: { history?: string; forecast?: string; heldOut?: string };
}

interface ForecastRow {
  series: string;
  x: number;
  y: number | null;
  /** Interval bounds (band rows only). */
  lo?: number | null;
  hi?: number | null;
  /** The last history point repeated at the start of the forecast line: drawn as line, not as a point. */
  anchor?: true;
}

/** Recent history, forecast and optional held-out truth, on a date or step axis. */
export function forecastChart(input: ForecastChartInput): ChartSpec {
  const fn = "forecastChart";
  const history = readNumbers(fn, "history", input.history);
  const forecast = readNumbers(fn, "forecast", input.forecast);
  const H = history.length;
  const F = forecast.length;
  if (H === 0) throw new ChartError(`${fn}: history must have at least one value, got none`);
  if (F === 0) throw new ChartError(`${fn}: forecast must have at least one value, got none`);
  const heldOut = input.heldOut === undefined ? null : readNumbers(fn, "heldOut", input.heldOut, F);
  if (typeof input.yLabel !== "string")
    throw new ChartError(`${fn}: yLabel must be a string, got ${describe(input.yLabel)}`);
  if (input.dates !== undefined && input.index !== undefined) {
    throw new ChartError(`${fn}: give dates or index, not both`);
  }

  const temporal = input.dates !== undefined;
  let x: number[];
  if (input.dates !== undefined) {
    const d = input.dates;
    if (!Array.isArray(d)) throw new ChartError(`${fn}: dates must be an array, got ${describe(d)}`);
    if (d.length !== H + F) {
      throw new ChartError(`${fn}: dates must have history + forecast = ${H + F} values, got ${d.length}`);
    }
    x = d.map((v, i) => {
      const ms =
        typeof v === "number" ? (Number.isFinite(v) ? v : null) : typeof v === "string" ? parseDate(v) : null;
      if (ms === null) {
        throw new ChartError(
          `${fn}: dates[${i}] must be an ISO date string or milliseconds since the epoch, got ${describe(v)}`,
        );
      }
      return ms;
    });
  } else if (input.index !== undefined) {
    x = readNumbers(fn, "index (history + forecast steps)", input.index, H + F).map((v, i) => {
      if (v === null) throw new ChartError(`${fn}: index[${i}] must be finite, got ${input.index?.[i]}`);
      return v;
    });
  } else {
    x = Array.from({ length: H + F }, (_, i) => i);
  }
  for (let i = 1; i < x.length; i++) {
    if (!(x[i] > x[i - 1])) {
      const what = temporal ? "dates" : "index";
      const show = (j: number) => (temporal ? JSON.stringify(input.dates?.[j]) : String(x[j]));
      throw new ChartError(
        `${fn}: ${what} must be increasing, got ${show(i - 1)} then ${show(i)} at ${i - 1}, ${i}`,
      );
    }
  }

  const names = {
    history: input.names?.history ?? "history",
    forecast: input.names?.forecast ?? "forecast",
    heldOut: input.names?.heldOut ?? "held-out truth",
  };
  if (new Set(Object.values(names)).size !== 3) {
    throw new ChartError(`${fn}: legend names must differ, got ${JSON.stringify(Object.values(names))}`);
  }

  const historyE: LegendEntry = { name: names.history, color: PALETTE[0], shape: "circle", symbol: "stroke" };
  const heldOutE: LegendEntry = { name: names.heldOut, color: PALETTE[2], shape: "square", symbol: "square" };
  const forecastE: LegendEntry = {
    name: names.forecast,
    color: PALETTE[1],
    shape: "circle",
    dash: [6, 4],
    symbol: "stroke",
  };
  const entries = [historyE, ...(heldOut ? [heldOutE] : []), forecastE];
  const color = legendColor(entries);

  const rows: ForecastRow[] = [];
  for (let i = 0; i < H; i++) rows.push({ series: names.history, x: x[i], y: history[i] });
  const continued = (series: string, values: (number | null)[]) => {
    rows.push({ series, x: x[H - 1], y: history[H - 1], anchor: true });
    for (let j = 0; j < F; j++) rows.push({ series, x: x[H + j], y: values[j] });
  };
  if (heldOut) continued(names.heldOut, heldOut);
  continued(names.forecast, forecast);
  const bands = (input.bands ?? []).map((b, i) => {
    if (!(typeof b.level === "number" && b.level > 0 && b.level < 1)) {
      throw new ChartError(`${fn}: bands[${i}].level must be a number in (0, 1), got ${describe(b.level)}`);
    }
    const lower = readNumbers(fn, `bands[${i}].lower`, b.lower, F);
    const upper = readNumbers(fn, `bands[${i}].upper`, b.upper, F);
    return { name: `${Math.round(b.level * 100)}% interval`, level: b.level, lower, upper };
  });
  bands.sort((a, b) => b.level - a.level);
  for (const b of bands) {
    for (let j = 0; j < F; j++)
      rows.push({ series: b.name, x: x[H + j], y: null, lo: b.lower[j], hi: b.upper[j] });
  }

  const xEnc: Json = temporal
    ? { field: "x", type: "temporal", title: input.xLabel ?? "date", scale: { type: "utc" } }
    : {
        field: "x",
        type: "quantitative",
        title: input.xLabel ?? "step",
        scale: { zero: false, nice: false },
      };
  const yEnc: Json = { field: "y", type: "quantitative", title: input.yLabel, scale: { zero: false } };
  const enc = { x: xEnc, y: yEnc, color, pointFilter: "!datum.anchor" };
  // Layer names (s<k>_line, s<k>_points) number the series in legend order.
  const bandLayers: Json[] = bands.map((b, i) => ({
    name: `band${i}`,
    transform: [
      { filter: { field: "series", equal: b.name } },
      { filter: "isValid(datum.lo) && isValid(datum.hi)" },
    ],
    mark: { type: "area", color: PALETTE[1], opacity: 0.12 + 0.1 * i },
    encoding: { x: xEnc, y: { ...(yEnc as object), field: "lo" }, y2: { field: "hi" } },
  }));
  const layer: Json[] = [
    ...bandLayers,
    ...seriesLayers({ k: 0, entry: historyE, ...enc, line: true }),
    ...(heldOut ? seriesLayers({ k: 1, entry: heldOutE, ...enc, line: true, points: 40 }) : []),
    ...seriesLayers({ k: entries.length - 1, entry: forecastE, ...enc, line: true, points: 45 }),
  ];
  const top = chartTop(fn, input, gapNote([history, forecast]));
  return { ...top, data: { values: rows }, layer } as unknown as ChartSpec;
}
