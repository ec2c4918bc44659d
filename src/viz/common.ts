// What every chart shares: the spec type, the look (size, font, palette), input checks, and the
// log-scale floor. Everything here is a pure function of its arguments, so the same input always
// gives the same spec JSON, and nothing here touches Node: the browser page uses these specs as is.
//
// A chart spec is Vega-Lite: `vega-lite` compiles it to Vega, which renders it to SVG (headless, see
// src/node/render.ts) or into a page (vega-embed or vega's own renderer).

import type { TopLevelSpec } from "vega-lite";

/** A complete Vega-Lite spec: data inline, axes, legend and title included. */
export type ChartSpec = TopLevelSpec;

/** A loosely typed piece of a spec while it is being built; the finished spec is a `ChartSpec`. */
export type Json = Record<string, unknown>;

/** Thrown for unusable chart input: wrong lengths, non-numbers, bad options. */
export class ChartError extends Error {
  override name = "ChartError";
}

/** Options every chart takes. */
export interface ChartFrame {
  /** The chart's title, drawn above the plot. */
  title: string;
  /** A smaller line under the title (charts append their own notes, such as log-scale clamping). */
  subtitle?: string;
  /** The whole picture's size in pixels, axes, title and legend included (default 800 x 400). */
  width?: number;
  height?: number;
}

export const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";

/**
 * The font the charts are drawn in. The Node renderer measures and draws text with DejaVu Sans, which
 * it ships; a browser without it falls back to Verdana, whose letters have nearly the same widths.
 */
export const FONT = "DejaVu Sans, Verdana, sans-serif";

/** Ten colours that stay apart from each other (the category-10 palette). */
export const PALETTE = [
  "#1f77b4", // blue
  "#ff7f0e", // orange
  "#2ca02c", // green
  "#d62728", // red
  "#9467bd", // purple
  "#8c564b", // brown
  "#e377c2", // pink
  "#7f7f7f", // grey
  "#bcbd22", // olive
  "#17becf", // cyan
] as const;

/** The most series one chart takes, so that each keeps a colour of its own. */
export const MAX_SERIES = PALETTE.length;

/** A solid stroke, as a dash array. */
export const SOLID = [1, 0];

/**
 * A line of text cut into lines of at most `max` characters, at the last "; " that fits in the second half
 * of the line, else the last ", " there, else the last space (a word longer than `max` stays whole).
 * The spaces at the cuts are dropped.
 */
export function wrapText(text: string, max: number): string[] {
  const out: string[] = [];
  let rest = text;
  while (rest.length > max) {
    const head = rest.slice(0, max + 1);
    let cut = -1;
    for (const sep of ["; ", ", ", " "]) {
      const i = head.lastIndexOf(sep);
      if (i > (sep === " " ? 0 : max / 2)) {
        cut = i + sep.length - 1; // keep the ";" or "," on the first line
        break;
      }
    }
    if (cut < 0) {
      const next = rest.indexOf(" ", max);
      if (next < 0) break;
      cut = next;
    }
    out.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  out.push(rest);
  return out;
}

/** Characters of the 12-pixel subtitle that fit in a chart `width` pixels wide (padding left out). */
const subtitleChars = (width: number) => Math.max(20, Math.floor((width - 16) / 6.3));

/**
 * The title block: the title plus the subtitle lines (given first, then the chart's own notes), each
 * wrapped to the chart's width so a long model description is not cut off at the edge.
 */
export function titleBlock(frame: ChartFrame, notes: string[] = []): Json {
  const max = subtitleChars(frame.width ?? 800);
  const lines = [...(frame.subtitle ? [frame.subtitle] : []), ...notes].flatMap((l) => wrapText(l, max));
  return lines.length === 0 ? { text: frame.title } : { text: frame.title, subtitle: lines };
}

/**
 * The top level of a chart: schema, title, size and the shared look. With `autosize: fit` the whole
 * picture (padding, axes, legend and title included) is exactly `width` x `height` pixels.
 */
export function chartTop(fn: string, frame: ChartFrame, notes: string[] = []): Json {
  if (typeof frame.title !== "string") {
    throw new ChartError(`${fn}: title must be a string, got ${describe(frame.title)}`);
  }
  if (frame.subtitle !== undefined && typeof frame.subtitle !== "string") {
    throw new ChartError(`${fn}: subtitle must be a string, got ${describe(frame.subtitle)}`);
  }
  const width = frame.width ?? 800;
  const height = frame.height ?? 400;
  for (const [k, v] of [
    ["width", width],
    ["height", height],
  ] as const) {
    if (!Number.isInteger(v) || v < 100 || v > 10000) {
      throw new ChartError(`${fn}: ${k} must be an integer number of pixels in 100..10000, got ${v}`);
    }
  }
  return {
    $schema: SCHEMA,
    title: titleBlock(frame, notes),
    width,
    height,
    autosize: { type: "fit", contains: "padding" },
    background: "white",
    padding: 8,
    config: {
      font: FONT,
      title: {
        fontSize: 15,
        subtitleFontSize: 12,
        subtitleColor: "#444",
        offset: 10,
        anchor: "start",
        frame: "bounds",
      },
      axis: { labelFontSize: 11, titleFontSize: 12, gridColor: "#e6e6e6" },
      legend: { labelFontSize: 12, labelLimit: 320, symbolSize: 120, rowPadding: 6 },
      view: { stroke: "#cfcfcf" },
    },
  };
}

/** What a value is, for an error message. */
export function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of length ${v.length}`;
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  if (typeof v === "string") return JSON.stringify(v.length > 40 ? `${v.slice(0, 37)}...` : v);
  if (typeof v === "object") return "an object";
  return `${typeof v} ${String(v)}`;
}

/** Something with a length and numbered entries: number[], Float32Array, Float64Array. */
export type Numbers = ArrayLike<number>;

/**
 * Reads an array of numbers into plain numbers, NaN and infinities as null (a gap in the chart; JSON
 * has no NaN). Throws when it is not an array of numbers or (given `length`) has another length.
 */
export function readNumbers(fn: string, what: string, v: unknown, length?: number): (number | null)[] {
  const ok =
    (Array.isArray(v) || (ArrayBuffer.isView(v) && !(v instanceof DataView))) &&
    typeof (v as { length?: unknown }).length === "number";
  if (!ok) throw new ChartError(`${fn}: ${what} must be an array of numbers, got ${describe(v)}`);
  const a = v as ArrayLike<unknown>;
  if (length !== undefined && a.length !== length) {
    throw new ChartError(`${fn}: ${what} must have ${length} values, got ${a.length}`);
  }
  const out: (number | null)[] = new Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    if (typeof x !== "number") {
      throw new ChartError(`${fn}: ${what}[${i}] must be a number, got ${describe(x)}`);
    }
    out[i] = Number.isFinite(x) ? x : null;
  }
  return out;
}

/** A named series, as the training charts take them. */
export interface NamedSeries {
  name: string;
  values: Numbers;
}

/** Checks a list of named series: 1..MAX_SERIES of them, distinct non-empty names, numeric values. */
export function readSeries(fn: string, series: unknown): { name: string; values: (number | null)[] }[] {
  if (!Array.isArray(series) || series.length === 0) {
    throw new ChartError(
      `${fn}: series must be a non-empty array of {name, values}, got ${describe(series)}`,
    );
  }
  if (series.length > MAX_SERIES) {
    throw new ChartError(`${fn}: at most ${MAX_SERIES} series fit one chart, got ${series.length}`);
  }
  const seen = new Set<string>();
  return series.map((s: unknown, k) => {
    const { name, values } = (s ?? {}) as { name?: unknown; values?: unknown };
    if (typeof name !== "string" || name.length === 0) {
      throw new ChartError(`${fn}: series[${k}].name must be a non-empty string, got ${describe(name)}`);
    }
    if (seen.has(name)) throw new ChartError(`${fn}: two series are named ${JSON.stringify(name)}`);
    seen.add(name);
    return { name, values: readNumbers(fn, `series[${k}].values (${JSON.stringify(name)})`, values) };
  });
}

/** Shortest exponent form for a number in a note: 1e-31, 2.5e+3. */
export function sci(x: number): string {
  return x.toExponential();
}

/**
 * Prepares values for a log axis, which cannot show zero or negative numbers: every value below the
 * floor (zeros, negatives, underflowed tiny numbers) is drawn at the floor, and the chart says so in
 * its subtitle. By default the floor is one decade below the smallest positive value, rounded down
 * to a power of ten, so clamped points sit visibly just under the real ones instead of squashing the
 * data into a corner; with no positive value at all it is 1e-30. Non-finite values (null here) stay
 * gaps. Returns the clamped values, the floor and the note (empty when nothing was clamped).
 */
export function logFloor(
  fn: string,
  columns: (number | null)[][],
  floor?: number,
): { columns: (number | null)[][]; floor: number; notes: string[] } {
  if (floor !== undefined && !(typeof floor === "number" && Number.isFinite(floor) && floor > 0)) {
    throw new ChartError(`${fn}: floor must be a finite number > 0, got ${describe(floor)}`);
  }
  let f = floor;
  if (f === undefined) {
    let minPos = Number.POSITIVE_INFINITY;
    for (const col of columns) for (const x of col) if (x !== null && x > 0 && x < minPos) minPos = x;
    f = minPos === Number.POSITIVE_INFINITY ? 1e-30 : decadeBelow(minPos);
    if (!(f > 0)) f = Number.MIN_VALUE; // below the smallest double: keep the axis valid
  }
  let zeros = 0;
  let negatives = 0;
  let small = 0;
  const out = columns.map((col) =>
    col.map((x) => {
      if (x === null || x >= f) return x;
      if (x === 0) zeros++;
      else if (x < 0) negatives++;
      else small++;
      return f;
    }),
  );
  const count = (k: number, one: string, many: string) => (k === 0 ? [] : [`${k} ${k === 1 ? one : many}`]);
  const parts = [
    ...count(zeros, "zero", "zeros"),
    ...count(negatives, "negative value", "negative values"),
    ...count(small, `value below ${sci(f)}`, `values below ${sci(f)}`),
  ];
  const notes =
    parts.length === 0 ? [] : [`${parts.join(", ")} drawn at ${sci(f)}, the floor of the log axis`];
  return { columns: out, floor: f, notes };
}

/**
 * The power of ten one decade below the largest power of ten <= x (for x = 3e-7: 1e-8). Powers of ten
 * are made by parsing "1e<k>", which is exact where 10 ** k is not (10 ** -5 is 9.999999999999999e-6).
 */
export function decadeBelow(x: number): number {
  let k = Math.floor(Math.log10(x));
  if (Number(`1e${k}`) > x) k--;
  else if (Number(`1e${k + 1}`) <= x) k++;
  return Number(`1e${k - 1}`);
}

/** A note for the subtitle counting values left out because they were NaN or infinite. */
export function gapNote(columns: (number | null)[][]): string[] {
  let n = 0;
  for (const col of columns) for (const x of col) if (x === null) n++;
  return n === 0 ? [] : [`${n} non-finite value${n === 1 ? "" : "s"} (NaN or ±Inf) left out`];
}

/**
 * One entry of a chart's legend and how its series is drawn. Layers encode the field `series` through
 * one colour scale (domain: the entry names in order), which makes the one legend; shapes and dashes
 * are constants of each series' own layers, and the legend draws each entry's symbol as `symbol`
 * says (one series can be a line with points, while the legend has room for one symbol).
 */
export interface LegendEntry {
  name: string;
  color: string;
  /** The point shape on the chart (for series drawn with points). */
  shape: string;
  /** The line dash on the chart (for series drawn as a dashed line or rule); solid if absent. */
  dash?: number[];
  /** The legend symbol: a Vega shape (circle, square, diamond, ...) or "stroke" for a short line. */
  symbol: string;
  /** Draw the symbol hollow (for a series drawn as rings). */
  hollow?: boolean;
}

/** A Vega expression looking the legend entry's name up in a table (JSON literals are valid Vega). */
function lookup(table: Record<string, unknown>): Json {
  return { signal: `${JSON.stringify(table)}[datum.value]` };
}

/**
 * The colour channel every layer uses, carrying the legend. (Vega-Lite drops legend symbol encodings
 * for any channel the legend is built from, so shape and dash are not scales here but set per layer,
 * and the legend's symbols get them from these lookups.)
 */
export function legendColor(entries: LegendEntry[]): Json {
  const by = <T>(f: (e: LegendEntry) => T): Record<string, T> =>
    Object.fromEntries(entries.map((e) => [e.name, f(e)]));
  return {
    field: "series",
    type: "nominal",
    scale: { domain: entries.map((e) => e.name), range: entries.map((e) => e.color) },
    legend: {
      title: null,
      orient: "right",
      symbolOpacity: 1,
      symbolStrokeWidth: 2,
      encode: {
        symbols: {
          update: {
            shape: lookup(by((e) => e.symbol)),
            strokeDash: lookup(by((e) => (e.symbol === "stroke" && e.dash ? e.dash : SOLID))),
            fillOpacity: lookup(by((e) => (e.hollow ? 0 : 1))),
          },
        },
      },
    },
  };
}

/** The layers drawing one series. */
export interface SeriesLayers {
  /** Index of the series (names its layers: `s<k>_line`, `s<k>_points`, `s<k>_rings`). */
  k: number;
  entry: LegendEntry;
  x: Json;
  y: Json;
  color: Json;
  line?: boolean;
  /** Filled points of size `points`. */
  points?: number;
  /** Hollow rings of size `rings`. */
  rings?: number;
  /** More filters (Vega expressions) for the point layers only. */
  pointFilter?: string;
}

/** A line, points and/or rings for one series, each a layer reading the shared data table. */
export function seriesLayers(p: SeriesLayers): Json[] {
  const mine = { filter: { field: "series", equal: p.entry.name } };
  const valid = {
    filter: `isValid(datum.y) && isFinite(datum.y)${p.pointFilter ? ` && (${p.pointFilter})` : ""}`,
  };
  const enc = { x: p.x, y: p.y, color: p.color };
  const layers: Json[] = [];
  if (p.line) {
    layers.push({
      name: `s${p.k}_line`,
      transform: [mine],
      mark: { type: "line", strokeWidth: 2, ...(p.entry.dash ? { strokeDash: p.entry.dash } : {}) },
      encoding: enc,
    });
  }
  if (p.points !== undefined) {
    layers.push({
      name: `s${p.k}_points`,
      transform: [mine, valid],
      mark: { type: "point", filled: true, shape: p.entry.shape, size: p.points, opacity: 0.9 },
      encoding: enc,
    });
  }
  if (p.rings !== undefined) {
    layers.push({
      name: `s${p.k}_rings`,
      transform: [mine, valid],
      mark: { type: "point", filled: false, shape: p.entry.shape, size: p.rings, strokeWidth: 2, opacity: 1 },
      encoding: enc,
    });
  }
  return layers;
}

/** One row of a chart's long-format data table. */
export interface Row {
  series: string;
  x: number;
  y: number | null;
}

/** Rows for one series: x[i] paired with y[i], in order. */
export function rowsOf(series: string, x: readonly number[], y: readonly (number | null)[]): Row[] {
  const rows: Row[] = [];
  for (let i = 0; i < y.length; i++) rows.push({ series, x: x[i], y: y[i] });
  return rows;
}

/** Checks an optional integer option. */
export function checkInteger(fn: string, what: string, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new ChartError(`${fn}: ${what} must be an integer in ${min}..${max}, got ${describe(v)}`);
  }
  return v;
}
