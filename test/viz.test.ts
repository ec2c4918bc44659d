// Chart specs (src/viz) and their headless rendering (src/node/render.ts). The oracles are
// independent of the code under test: counts and positions read back from the SVG that vega draws,
// pixels decoded from the PNG by a small decoder written here (node:zlib inflate + PNG unfiltering),
// the rendered extent of a title compared with the width our font metrics predict, and the fact
// that every glyph of a monospace font has one advance.

import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { inflateSync } from "node:zlib";
import { build } from "esbuild";
import { Resvg } from "@resvg/resvg-wasm";
import * as vega from "vega";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  chartFonts,
  compileChart,
  readFontMetrics,
  renderChart,
  renderSvg,
  svgToPng,
  textWidth,
  writeChart,
} from "../src/node/render.js";
import {
  type ChartSpec,
  ChartError,
  PALETTE,
  forecastChart,
  gradNormChart,
  gradientFlowChart,
  lossChart,
  sineChart,
} from "../src/viz/index.js";
import { decadeBelow, wrapText } from "../src/viz/common.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

// ---------------------------------------------------------------------------------------------
// Reading SVG and PNG back.

/** The body of the mark group whose class list ends with `name` (symbol and rule groups do not nest). */
function markGroups(svg: string, name: string): string[] {
  const re = new RegExp(`<g class="mark-[a-z]+ role-mark ${name}"[^>]*>(.*?)</g>`, "gs");
  return [...svg.matchAll(re)].map((m) => m[1]);
}

/** Number of items (path / line elements) in the mark group `name`, or -1 if there is no such group. */
function itemCount(svg: string, name: string): number {
  const g = markGroups(svg, name);
  if (g.length === 0) return -1;
  return g.reduce((n, body) => n + (body.match(/<(path|line) /g) ?? []).length, 0);
}

/** The translate(x, y) of each item of a mark group. */
function itemPositions(svg: string, name: string): [number, number][] {
  const body = markGroups(svg, name).join("");
  return [...body.matchAll(/transform="translate\(([-\d.e]+),([-\d.e]+)\)"/g)].map((m) => [+m[1], +m[2]]);
}

/** The first and last points of the path of a line mark group. */
function pathEnds(svg: string, name: string): { first: [number, number]; last: [number, number] } {
  const d = /d="M([^"]+)"/.exec(markGroups(svg, name)[0])?.[1] ?? "";
  const pts = d.split("L").map((p) => p.split(",").map(Number) as [number, number]);
  return { first: pts[0], last: pts[pts.length - 1] };
}

const unescapeXml = (s: string) =>
  s
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&amp;/g, "&");

/** The texts of the elements of one role (role-legend-label, role-title-text, role-axis-label, ...). */
function texts(svg: string, role: string): string[] {
  const re = new RegExp(`<g class="mark-text ${role}"[^>]*>(.*?)</g>`, "gs");
  return [...svg.matchAll(re)].flatMap((m) =>
    [...m[1].matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((t) => unescapeXml(t[1])),
  );
}

const legendLabels = (svg: string) => texts(svg, "role-legend-label");
const legendSymbolCount = (svg: string) =>
  (svg.match(/class="mark-symbol role-legend-symbol"/g) ?? []).length;

interface Image {
  width: number;
  height: number;
  /** RGBA, row-major. */
  rgba: Uint8Array;
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Decodes an 8-bit RGB or RGBA, non-interlaced PNG (what resvg writes). */
function decodePng(png: Uint8Array): Image {
  expect([...png.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  let pos = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Uint8Array[] = [];
  while (pos < png.length) {
    const len = dv.getUint32(pos);
    const type = String.fromCharCode(...png.subarray(pos + 4, pos + 8));
    const data = png.subarray(pos + 8, pos + 8 + len);
    if (type === "IHDR") {
      width = dv.getUint32(pos + 8);
      height = dv.getUint32(pos + 12);
      const [depth, colorType, , , interlace] = data.subarray(8, 13);
      expect(depth).toBe(8);
      expect(interlace).toBe(0);
      expect([2, 6]).toContain(colorType);
      channels = colorType === 6 ? 4 : 3;
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    pos += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = new Uint8Array(width * height * 4);
  let prev = new Uint8Array(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const cur = new Uint8Array(stride);
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? cur[i - channels] : 0;
      const b = prev[i];
      const c = i >= channels ? prev[i - channels] : 0;
      let p: number;
      if (filter === 0) p = 0;
      else if (filter === 1) p = a;
      else if (filter === 2) p = b;
      else if (filter === 3) p = (a + b) >> 1;
      else {
        const pa = Math.abs(b - c);
        const pb = Math.abs(a - c);
        const pc = Math.abs(a + b - 2 * c);
        p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      cur[i] = (line[i] + p) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      for (let ch = 0; ch < 4; ch++)
        out[(y * width + x) * 4 + ch] = ch < channels ? cur[x * channels + ch] : 255;
    }
    prev = cur;
  }
  return { width, height, rgba: out };
}

/** Width and height from the IHDR chunk, read directly. */
function ihdrSize(png: Uint8Array): [number, number] {
  const dv = new DataView(png.buffer, png.byteOffset, png.byteLength);
  expect(String.fromCharCode(...png.subarray(12, 16))).toBe("IHDR");
  return [dv.getUint32(16), dv.getUint32(20)];
}

const hex = (c: string): [number, number, number] =>
  [1, 3, 5].map((i) => Number.parseInt(c.slice(i, i + 2), 16)) as [number, number, number];

/** Pixels within `tol` (max channel difference) of colour `c`. */
function countColor(img: Image, c: string, tol = 40): number {
  const [r, g, b] = hex(c);
  let n = 0;
  for (let i = 0; i < img.rgba.length; i += 4) {
    if (
      Math.abs(img.rgba[i] - r) <= tol &&
      Math.abs(img.rgba[i + 1] - g) <= tol &&
      Math.abs(img.rgba[i + 2] - b) <= tol
    )
      n++;
  }
  return n;
}

const nonWhite = (img: Image) => {
  let n = 0;
  for (let i = 0; i < img.rgba.length; i += 4)
    if (img.rgba[i] < 250 || img.rgba[i + 1] < 250 || img.rgba[i + 2] < 250) n++;
  return n;
};

/** Bounding box of the pixels that differ between two images of one size, or null. */
function diffBox(
  a: Image,
  b: Image,
): { x0: number; y0: number; x1: number; y1: number; n: number; darkest: number } | null {
  let box: { x0: number; y0: number; x1: number; y1: number; n: number; darkest: number } | null = null;
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      const i = (y * a.width + x) * 4;
      if (a.rgba[i] === b.rgba[i] && a.rgba[i + 1] === b.rgba[i + 1] && a.rgba[i + 2] === b.rgba[i + 2])
        continue;
      const lum = Math.min(a.rgba[i], b.rgba[i]);
      if (!box) box = { x0: x, y0: y, x1: x, y1: y, n: 0, darkest: 255 };
      box.x0 = Math.min(box.x0, x);
      box.x1 = Math.max(box.x1, x);
      box.y0 = Math.min(box.y0, y);
      box.y1 = Math.max(box.y1, y);
      box.n++;
      box.darkest = Math.min(box.darkest, lum);
    }
  }
  return box;
}

// ---------------------------------------------------------------------------------------------
// Inputs.

const N = 40;
const K = 12;
const T = Array.from({ length: N }, (_, i) => (10 * i) / (N - 1));
const TRUTH = T.map(Math.sin);
const NOTES = TRUTH.map((v, i) => (i === 0 ? Number.NaN : v + 0.05 * Math.cos(3 * i)));
const CTX = TRUTH.map((v, i) => (i < K ? Number.NaN : 0.9 * v));
const sine = () =>
  sineChart({
    t: T,
    truth: TRUTH,
    notesPred: NOTES,
    contextPred: CTX,
    contextLen: K,
    title: "Sine: notes vs context",
  });

const H = 36;
const F = 12;
const HIST = Array.from({ length: H }, (_, i) => 100 + 2 * i + 10 * Math.sin(i / 2));
const FC = Array.from({ length: F }, (_, j) => 100 + 2 * (H + j) + 9 * Math.sin((H + j) / 2));
const HELD = Array.from({ length: F }, (_, j) => 100 + 2 * (H + j) + 10 * Math.sin((H + j) / 2));
const MONTHS = Array.from(
  { length: H + F },
  (_, i) => `${2016 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, "0")}-01`,
);
const forecastDates = () =>
  forecastChart({
    dates: MONTHS,
    history: HIST,
    forecast: FC,
    heldOut: HELD,
    title: "Monthly forecast",
    yLabel: "sales",
  });
const forecastIndex = () =>
  forecastChart({
    history: HIST,
    forecast: FC,
    title: "Step forecast",
    yLabel: "value",
    index: Array.from({ length: H + F }, (_, i) => 500 + i),
  });

const TRAIN = Array.from({ length: 30 }, (_, i) => 2 * Math.exp(-i / 6) + 0.02);
const VAL = Array.from({ length: 30 }, (_, i) => 2.2 * Math.exp(-i / 8) + 0.05);
const loss = (logScale = false) =>
  lossChart({
    series: [
      { name: "train", values: TRAIN },
      { name: "val", values: VAL },
    ],
    title: "Loss",
    logScale,
  });

// Gradient norms over 50 time steps spanning 1e-30 .. 1e10, with exact zeros where tanh underflowed.
const STEPS = 50;
const VANISH = Array.from({ length: STEPS }, (_, i) =>
  i < 5 ? 0 : 10 ** (-30 + (30 * (i - 5)) / (STEPS - 6)),
);
const EXPLODE = Array.from({ length: STEPS }, (_, i) => 10 ** ((10 * i) / (STEPS - 1)));
const STABLE = Array.from({ length: STEPS }, (_, i) => 0.5 + 0.01 * i);
const flow = () =>
  gradientFlowChart({
    series: [
      { name: "RNN tanh", values: VANISH },
      { name: "RNN relu", values: EXPLODE },
      { name: "LSTM", values: STABLE },
    ],
    title: "Gradient flow",
    yLabel: "‖∂L/∂h_t‖",
  });

const CLIP = 1;
const NOCLIP = Array.from(
  { length: 80 },
  (_, i) => 0.6 + Math.abs(Math.sin(i / 5)) * (i % 17 === 3 ? 9 : 1.4),
);
const CLIPPED = NOCLIP.map((v, i) => (i === 10 ? CLIP : Math.min(v, 1.3)));
const gradNorm = () =>
  gradNormChart({
    series: [
      { name: "no clipping", values: NOCLIP },
      { name: "clipped", values: CLIPPED },
    ],
    clip: CLIP,
    title: "Gradient norm per step",
    points: true,
  });

const ALL: [string, () => ChartSpec][] = [
  ["sine", sine],
  ["forecast (dates)", forecastDates],
  ["forecast (index)", forecastIndex],
  ["loss", () => loss(false)],
  ["loss (log)", () => loss(true)],
  ["gradient flow", flow],
  ["gradient norm", gradNorm],
];

const finite = (a: number[]) => a.filter(Number.isFinite).length;

// ---------------------------------------------------------------------------------------------

describe("chart specs", () => {
  it("wraps a long subtitle to the chart's width, at '; ' or ', ' in the second half of a line", async () => {
    expect(wrapText("short", 10)).toEqual(["short"]);
    expect(wrapText("aaaa bbbb; cc dd", 12)).toEqual(["aaaa bbbb;", "cc dd"]);
    // "; " in the first half is passed over for the last space
    expect(wrapText("a; bbbb cccc dd", 12)).toEqual(["a; bbbb cccc", "dd"]);
    expect(wrapText("xxxx, yyyy zz, w", 12)).toEqual(["xxxx, yyyy", "zz, w"]);
    expect(wrapText("averylongword tail", 5)).toEqual(["averylongword", "tail"]);
    const desc =
      "hybrid: additive Holt-Winters (season 7, learned Fourier period 365.25) + LSTM(7, 32) -> Linear(32, 7), 5 member(s); averaged with Fourier(365.25, K=2) + ARIMA(2,1,3) errors (weight 0.5), lookback 24 (sea.safetensors)";
    const spec = forecastChart({
      history: [1, 2, 3],
      forecast: [4],
      title: "t",
      yLabel: "y",
      subtitle: desc,
    });
    const svg = (await renderSvg(spec)).svg;
    // several lines are one <text> of <tspan>s
    const group = svg.match(/<g class="mark-text role-title-subtitle"[^>]*>(.*?)<\/g>/s)![1];
    const lines = [...group.matchAll(/<tspan[^>]*>([^<]*)<\/tspan>/g)].map((m) => unescapeXml(m[1]));
    expect(lines).toEqual([
      "hybrid: additive Holt-Winters (season 7, learned Fourier period 365.25) + LSTM(7, 32) -> Linear(32, 7), 5 member(s);",
      "averaged with Fourier(365.25, K=2) + ARIMA(2,1,3) errors (weight 0.5), lookback 24 (sea.safetensors)",
    ]);
  });

  it.each(ALL)("%s compiles and renders without warnings", async (_, make) => {
    const spec = make();
    expect((await compileChart(spec)).warnings).toEqual([]);
    const { svg, warnings } = await renderSvg(spec);
    expect(warnings).toEqual([]);
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain('width="800" height="400"');
  });

  it("the warning checks can fail: a spec with problems reports vega-lite's and vega's warnings", async () => {
    const bad = {
      data: { values: [{ a: 1 }] },
      mark: "point",
      encoding: {
        x: { field: "a", type: "quantitative", scale: { type: "log" } },
        y: { field: "b", type: "quantitative" },
        size: { field: "a", type: "nominal" },
      },
    } as unknown as ChartSpec;
    expect((await compileChart(bad)).warnings.some((w) => w.startsWith("vega-lite:"))).toBe(true);
    const { warnings } = await renderSvg(bad);
    expect(warnings.some((w) => w.startsWith("vega:") && w.includes("Infinite extent"))).toBe(true);
  });

  it("renders only inline data: a spec asking to load a file is an error", async () => {
    const url = { data: { url: "/etc/hostname" }, mark: "point" } as unknown as ChartSpec;
    await expect(renderSvg(url)).rejects.toThrow(
      /must carry their data inline; this one asks to load "\/etc\/hostname"/,
    );
  });

  it.each(ALL)("%s is deterministic: same input, same JSON", (_, make) => {
    expect(JSON.stringify(make())).toBe(JSON.stringify(make()));
  });

  it("takes typed arrays like plain arrays", () => {
    const vals = [0.25, 0.5, 1, 2, 4];
    const a = lossChart({ series: [{ name: "train", values: vals }], title: "L" });
    const b = lossChart({ series: [{ name: "train", values: Float32Array.from(vals) }], title: "L" });
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
  });

  it("turns NaN and infinities into gaps (JSON null) and says how many", () => {
    const spec = lossChart({
      series: [{ name: "train", values: [1, Number.NaN, 0.5, Number.POSITIVE_INFINITY, 0.25] }],
      title: "L",
    });
    const rows = (spec as { data: { values: { y: number | null }[] } }).data.values;
    expect(rows.map((r) => r.y)).toEqual([1, null, 0.5, null, 0.25]);
    expect(JSON.stringify(spec)).toContain("2 non-finite values (NaN or ±Inf) left out");
  });

  it("rejects bad input with messages saying what was expected", () => {
    expect(() => sineChart({ t: [0, 1, 2], truth: [0, 1], title: "x" })).toThrow(
      /truth must have 3 values, got 2/,
    );
    expect(() => sineChart({ t: [0, 2, 1], truth: [0, 1, 2], title: "x" })).toThrow(/t must be increasing/);
    expect(() => sineChart({ t: [0, 1], truth: [0, 1], contextPred: [0, 1], title: "x" })).toThrow(
      /needs contextLen/,
    );
    expect(() =>
      sineChart({ t: [0, 1], truth: [0, 1], contextPred: [0, 1], contextLen: 3, title: "x" }),
    ).toThrow(/contextLen must be an integer in 0..2, got number 3/);
    expect(() => sineChart({ t: [0, 1], truth: [0, "1" as unknown as number], title: "x" })).toThrow(
      /truth\[1\] must be a number/,
    );
    expect(() =>
      forecastChart({ history: [1, 2], forecast: [3], heldOut: [1, 2], title: "x", yLabel: "y" }),
    ).toThrow(/heldOut must have 1 values, got 2/);
    expect(() =>
      forecastChart({ history: [1], forecast: [2], dates: ["2020-01-01"], title: "x", yLabel: "y" }),
    ).toThrow(/dates must have history \+ forecast = 2 values, got 1/);
    expect(() =>
      forecastChart({
        history: [1],
        forecast: [2],
        dates: ["2020-01-01", "2020-02-30"],
        title: "x",
        yLabel: "y",
      }),
    ).toThrow(/dates\[1\] must be an ISO date string/);
    expect(() =>
      forecastChart({
        history: [1],
        forecast: [2],
        dates: ["2020-02-01", "2020-01-01"],
        title: "x",
        yLabel: "y",
      }),
    ).toThrow(/dates must be increasing/);
    expect(() => forecastChart({ history: [], forecast: [2], title: "x", yLabel: "y" })).toThrow(
      /history must have at least one value/,
    );
    expect(() => lossChart({ series: [], title: "x" })).toThrow(ChartError);
    expect(() =>
      lossChart({
        series: [
          { name: "a", values: [1] },
          { name: "a", values: [2] },
        ],
        title: "x",
      }),
    ).toThrow(/two series are named "a"/);
    const eleven = Array.from({ length: 11 }, (_, k) => ({ name: `s${k}`, values: [1] }));
    expect(() => lossChart({ series: eleven, title: "x" })).toThrow(/at most 10 series/);
    expect(() => lossChart({ series: [{ name: "a", values: [1, 2, 3] }], x: [1, 2], title: "x" })).toThrow(
      /x must have at least/,
    );
    expect(() => gradNormChart({ series: [{ name: "a", values: [1] }], clip: 0, title: "x" })).toThrow(
      /clip must be a finite number > 0/,
    );
    expect(() =>
      gradientFlowChart({ series: [{ name: "a", values: [1] }], floor: -1, title: "x", yLabel: "y" }),
    ).toThrow(/floor must be/);
    expect(() => lossChart({ series: [{ name: "a", values: [1] }], title: "x", width: 50 })).toThrow(
      /width must be an integer/,
    );
  });

  it("keeps the library side browser-safe: src/viz bundles for the browser without Node or vega", async () => {
    const out = await build({
      entryPoints: [join(ROOT, "src", "viz", "index.ts")],
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      logLevel: "silent",
      metafile: true,
    });
    expect(out.errors).toEqual([]);
    const inputs = Object.keys(out.metafile.inputs);
    expect(inputs.filter((p) => p.includes("node_modules") || p.includes("src/node/"))).toEqual([]);
    expect(out.outputFiles[0].text).not.toMatch(/from\s*["']node:/);
  });
});

describe("what the charts draw (read back from the SVG)", () => {
  it("sine: truth as line and points, notes as points, context forecast as line and points, K rings, a rule between", async () => {
    const { svg } = await renderSvg(sine());
    // Legend order: truth, notes, context forecast, context points, forecast start.
    expect(legendLabels(svg)).toEqual([
      "true sin(t)",
      "notes: autoregressive prediction",
      "context-started forecast",
      `context (K = ${K} true points)`,
      "forecast start",
    ]);
    expect(legendSymbolCount(svg)).toBe(5);
    expect(texts(svg, "role-title-text")).toEqual(["Sine: notes vs context"]);
    expect(texts(svg, "role-axis-title").sort()).toEqual(["t", "value"]);

    expect(itemCount(svg, "s0_line_marks")).toBe(1);
    expect(itemCount(svg, "s0_points_marks")).toBe(finite(TRUTH));
    expect(itemCount(svg, "s1_line_marks")).toBe(-1); // notes: points only
    expect(itemCount(svg, "s1_points_marks")).toBe(finite(NOTES));
    expect(itemCount(svg, "s2_line_marks")).toBe(1);
    expect(itemCount(svg, "s2_points_marks")).toBe(finite(CTX));
    expect(itemCount(svg, "s3_rings_marks")).toBe(K);
    expect(itemCount(svg, "start_rule_marks")).toBe(1);

    // The rings sit exactly on the first K truth points; the rule lies between point K-1 and point K,
    // and every context-forecast point lies right of it.
    const truthXY = itemPositions(svg, "s0_points_marks");
    const rings = itemPositions(svg, "s3_rings_marks");
    expect(rings).toEqual(truthXY.slice(0, K));
    const [ruleX] = itemPositions(svg, "start_rule_marks")[0];
    expect(ruleX).toBeGreaterThan(truthXY[K - 1][0]);
    expect(ruleX).toBeLessThan(truthXY[K][0]);
    for (const [x] of itemPositions(svg, "s2_points_marks")) expect(x).toBeGreaterThan(ruleX);
  });

  it("sine without the optional series has only what was given", async () => {
    const { svg } = await renderSvg(sineChart({ t: T, truth: TRUTH, title: "just the truth" }));
    expect(legendLabels(svg)).toEqual(["true sin(t)"]);
    expect(itemCount(svg, "s0_points_marks")).toBe(N);
    expect(itemCount(svg, "start_rule_marks")).toBe(-1);
  });

  it("forecast: history line, forecast and held-out lines continuing from its last point, points on forecast steps", async () => {
    const { svg } = await renderSvg(forecastDates());
    expect(legendLabels(svg)).toEqual(["history", "held-out truth", "forecast"]);
    expect(itemCount(svg, "s0_line_marks")).toBe(1);
    expect(itemCount(svg, "s0_points_marks")).toBe(-1);
    expect(itemCount(svg, "s1_points_marks")).toBe(F);
    expect(itemCount(svg, "s2_points_marks")).toBe(F);
    const hist = pathEnds(svg, "s0_line_marks");
    expect(pathEnds(svg, "s2_line_marks").first).toEqual(hist.last);
    expect(pathEnds(svg, "s1_line_marks").first).toEqual(hist.last);
    // Forecast points are all right of the last history point, and the forecast line is dashed.
    for (const [x] of itemPositions(svg, "s2_points_marks")) expect(x).toBeGreaterThan(hist.last[0]);
    expect(markGroups(svg, "s2_line_marks")[0]).toContain('stroke-dasharray="6,4"');
    expect(markGroups(svg, "s0_line_marks")[0]).not.toContain("stroke-dasharray");
    // A time axis: year labels 2016..2019 appear, in UTC.
    const labels = texts(svg, "role-axis-label");
    for (const y of ["2016", "2017", "2018", "2019"]) expect(labels).toContain(y);
    expect(texts(svg, "role-axis-title").sort()).toEqual(["date", "sales"]);
  });

  it("forecast on a step index labels the steps given", async () => {
    const { svg } = await renderSvg(forecastIndex());
    expect(legendLabels(svg)).toEqual(["history", "forecast"]);
    const labels = texts(svg, "role-axis-label")
      .map(Number)
      .filter((v) => v >= 500);
    expect(Math.min(...labels)).toBeGreaterThanOrEqual(500);
    expect(Math.max(...labels)).toBeLessThanOrEqual(500 + H + F - 1);
    expect(itemCount(svg, "s1_points_marks")).toBe(F);
  });

  it("forecast dates do not depend on the machine's time zone", () => {
    // TZ cannot be changed inside a worker thread, so two child processes render the same chart.
    const dir = mkdtempSync(join(tmpdir(), "viz-tz-"));
    try {
      const script = join(dir, "tz.mts");
      writeFileSync(
        script,
        `import { renderSvg } from ${JSON.stringify(join(ROOT, "src/node/render.ts"))};
import { forecastChart } from ${JSON.stringify(join(ROOT, "src/viz/index.ts"))};
const s = forecastChart({ dates: ${JSON.stringify(MONTHS)}, history: ${JSON.stringify(HIST)}, forecast: ${JSON.stringify(FC)}, title: "t", yLabel: "y" });
process.stdout.write(String(new Date(0).getTimezoneOffset()) + "\\n" + (await renderSvg(s)).svg);`,
      );
      const run = (tz: string) =>
        execFileSync(process.execPath, ["--import", "tsx", script], {
          cwd: ROOT,
          env: { ...process.env, TZ: tz },
          encoding: "utf8",
        });
      const [offA, ...a] = run("America/New_York").split("\n");
      const [offB, ...b] = run("Asia/Tokyo").split("\n");
      expect(offA).not.toBe(offB); // the zones really differed
      expect(a.join("\n")).toBe(b.join("\n"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it("loss: one line per series, points when short, log axis on request", async () => {
    const { svg } = await renderSvg(loss(false));
    expect(legendLabels(svg)).toEqual(["train", "val"]);
    expect(itemCount(svg, "s0_line_marks")).toBe(1);
    expect(itemCount(svg, "s1_line_marks")).toBe(1);
    expect(itemCount(svg, "s0_points_marks")).toBe(30);
    expect(texts(svg, "role-axis-title").sort()).toEqual(["epoch", "loss"]);
    const long = lossChart({
      series: [{ name: "train", values: Array.from({ length: 200 }, (_, i) => 1 / (i + 1)) }],
      title: "L",
    });
    expect(itemCount((await renderSvg(long)).svg, "s0_points_marks")).toBe(-1);
    // On the log axis, equal ratios are equal distances: 2/0.2 and 0.2/0.02 are one decade each.
    const spec = lossChart({ series: [{ name: "a", values: [2, 0.2, 0.02] }], title: "L", logScale: true });
    const ys = itemPositions((await renderSvg(spec)).svg, "s0_points_marks").map(([, y]) => y);
    expect(ys[1] - ys[0]).toBeCloseTo(ys[2] - ys[1], 6);
  });

  it("gradient flow: 1e-30 .. 1e10 and zeros on one log axis, zeros clamped to a floor the subtitle names", async () => {
    const spec = flow();
    // Smallest positive value 1e-30: the floor is one decade below.
    const rows = (spec as { data: { values: { series: string; y: number | null }[] } }).data.values;
    const zeros = VANISH.filter((v) => v === 0).length;
    expect(rows.filter((r) => r.y === 1e-31).length).toBe(zeros);
    expect(Math.min(...rows.map((r) => r.y as number))).toBe(1e-31);
    const { svg, warnings } = await renderSvg(spec);
    expect(warnings).toEqual([]);
    expect(texts(svg, "role-title-subtitle")).toEqual([
      `${zeros} zeros drawn at 1e-31, the floor of the log axis`,
    ]);
    expect(legendLabels(svg)).toEqual(["RNN tanh", "RNN relu", "LSTM"]);
    // The y scale's domain covers floor .. 1e10, and the axis labels use exponents at the ends.
    const view = new vega.View(vega.parse((await compileChart(spec)).vega), { renderer: "none" });
    await view.runAsync();
    const [lo, hi] = view.scale("y").domain() as number[];
    expect(lo).toBeLessThanOrEqual(1e-31);
    expect(hi).toBeGreaterThanOrEqual(1e10);
    view.finalize();
    const labels = texts(svg, "role-axis-label");
    expect(labels).toContain("1e10");
    expect(labels.some((l) => /^1e-(2|3)\d$/.test(l))).toBe(true);
    // Every point lies inside the plot: the lowest clamped points sit at the same height (the floor).
    const pts = itemPositions(svg, "s0_points_marks");
    const floorYs = pts.slice(0, zeros).map(([, y]) => y);
    expect(new Set(floorYs).size).toBe(1);
    expect(Math.max(...pts.map(([, y]) => y))).toBe(floorYs[0]);
  });

  it("gradient flow with a floor given clamps values below it and counts them by kind", () => {
    const spec = gradientFlowChart({
      series: [{ name: "a", values: [0, -1, 1e-9, 1e-3, 1] }],
      floor: 1e-6,
      title: "g",
      yLabel: "n",
    });
    expect(JSON.stringify(spec)).toContain(
      "1 zero, 1 negative value, 1 value below 1e-6 drawn at 1e-6, the floor of the log axis",
    );
  });

  it("picks the default floor one decade under the smallest positive value, as an exact power of ten", () => {
    expect([1e-30, 3e-7, 1, 999, 1000, 2e-5, 0.00999].map(decadeBelow)).toEqual([
      1e-31, 1e-8, 0.1, 10, 100, 1e-6, 1e-4,
    ]);
    const spec = gradientFlowChart({
      series: [{ name: "a", values: [0, 2e-5, 1] }],
      title: "g",
      yLabel: "n",
    });
    expect(JSON.stringify(spec)).toContain('"1 zero drawn at 1e-6, the floor of the log axis"');
  });

  it("gradient norm: the clip rule sits exactly at the clip value", async () => {
    const { svg } = await renderSvg(gradNorm());
    expect(legendLabels(svg)).toEqual(["no clipping", "clipped", "clip bound (max_norm = 1)"]);
    expect(itemCount(svg, "rule_marks")).toBe(1);
    expect(markGroups(svg, "rule_marks")[0]).toContain(`stroke="${PALETTE[3]}"`);
    const [, ruleY] = itemPositions(svg, "rule_marks")[0];
    // CLIPPED[10] is exactly the clip value: its point is on the rule.
    const [, atClip] = itemPositions(svg, "s1_points_marks")[10];
    expect(ruleY).toBeCloseTo(atClip, 6);
    // No series takes the rule's red.
    for (const g of ["s0_line_marks", "s1_line_marks"])
      expect(markGroups(svg, g)[0]).not.toContain(PALETTE[3]);
  });
});

describe("PNG rendering", () => {
  let sinePng: Uint8Array;
  let sineSvg: string;
  beforeAll(async () => {
    const r = await renderChart(sine());
    sinePng = r.png;
    sineSvg = r.svg;
  });

  it("writes a PNG of the chart's size, by the IHDR chunk", async () => {
    expect([...sinePng.subarray(0, 8)]).toEqual(PNG_SIGNATURE);
    expect(ihdrSize(sinePng)).toEqual([800, 400]);
    expect(ihdrSize(await svgToPng(sineSvg, { scale: 2 }))).toEqual([1600, 800]);
    const small = lossChart({ series: [{ name: "a", values: [1, 2] }], title: "L", width: 640, height: 320 });
    expect(ihdrSize((await renderChart(small)).png)).toEqual([640, 320]);
  });

  it("is not blank: a blank SVG renders all white, the chart does not, and shows every series' colour", async () => {
    const img = decodePng(sinePng);
    const blank = decodePng(
      await svgToPng(
        '<svg xmlns="http://www.w3.org/2000/svg" width="800" height="400"><rect width="800" height="400" fill="white"/></svg>',
      ),
    );
    expect(nonWhite(blank)).toBe(0);
    const inked = nonWhite(img) / (img.width * img.height);
    expect(inked).toBeGreaterThan(0.03);
    expect(inked).toBeLessThan(0.6);
    for (const c of [PALETTE[0], PALETTE[1], PALETTE[2], PALETTE[3]])
      expect(countColor(img, c)).toBeGreaterThan(30);
    // A colour the chart does not use is (nearly) absent.
    expect(countColor(img, "#9467bd", 20)).toBeLessThan(5);
  });

  it("encodes the pixels resvg drew: decoded, our PNG equals resvg's own PNG, transparency included", async () => {
    await svgToPng("<svg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/>"); // initialises the WebAssembly
    const translucent =
      '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="32"><rect x="4" y="4" width="40" height="20" fill="#1f77b4" fill-opacity="0.35"/><circle cx="40" cy="16" r="12" fill="#ff7f0e" opacity="0.6"/></svg>';
    for (const svg of [sineSvg, translucent]) {
      const theirs = decodePng(
        new Resvg(svg, { font: { fontBuffers: [chartFonts().regular, chartFonts().bold] } }).render().asPng(),
      );
      const ours = decodePng(await svgToPng(svg));
      expect([ours.width, ours.height]).toEqual([theirs.width, theirs.height]);
      let worst = 0;
      for (let i = 0; i < ours.rgba.length; i++)
        worst = Math.max(worst, Math.abs(ours.rgba[i] - theirs.rgba[i]));
      expect(worst).toBeLessThanOrEqual(1); // un-premultiplying may round differently by one
    }
    const img = decodePng(await svgToPng(translucent));
    expect(img.rgba[3]).toBe(0); // corner: transparent
    const mid = (10 * 64 + 10) * 4; // inside the rectangle only
    expect(img.rgba[mid + 3]).toBe(Math.round(0.35 * 255));
    expect(Math.abs(img.rgba[mid] - 0x1f)).toBeLessThanOrEqual(2);
    expect(Math.abs(img.rgba[mid + 2] - 0xb4)).toBeLessThanOrEqual(2);
  });

  it("is deterministic: the same SVG gives the same bytes", async () => {
    expect(Buffer.from(await svgToPng(sineSvg)).equals(Buffer.from(sinePng))).toBe(true);
  });

  it("renders text: the title's pixels appear where the title sits, as wide as the font metrics say", async () => {
    const title = "Sine: notes vs context";
    // The same SVG with only the title text removed: layout identical, so the difference is the title.
    const withoutTitle = sineSvg.replace(
      /(<g class="mark-text role-title-text"[^>]*>)<text[^>]*>[^<]*<\/text>/,
      "$1",
    );
    expect(withoutTitle).not.toBe(sineSvg);
    const box = diffBox(decodePng(sinePng), decodePng(await svgToPng(withoutTitle)));
    expect(box).not.toBeNull();
    if (!box) return;
    expect(box.darkest).toBeLessThan(60); // black glyph pixels, not faint noise
    expect(box.n).toBeGreaterThan(300);
    expect(box.y1).toBeLessThan(40); // in the band above the plot
    expect(box.y1 - box.y0).toBeGreaterThan(8); // glyphs of a 15 px font
    const predicted = textWidth(title, 15, true);
    // Ink spans the advances minus the side bearings of the first and last glyph (and kerning).
    expect(Math.abs(box.x1 - box.x0 + 1 - predicted)).toBeLessThan(0.04 * predicted + 4);
  });

  it("renders every text element: stripping all text changes the picture in axis, legend and title areas", async () => {
    const noText = sineSvg.replace(/<text[^>]*>[^<]*<\/text>/g, "");
    const box = diffBox(decodePng(sinePng), decodePng(await svgToPng(noText)));
    expect(box).not.toBeNull();
    if (!box) return;
    expect(box.x1 - box.x0).toBeGreaterThan(600);
    expect(box.y1 - box.y0).toBeGreaterThan(300);
    // The longest legend label ends right at the picture's padding (8 px): vega laid the legend out
    // with the real DejaVu widths. With its fallback guess (0.8 em a character) the legend would be
    // about 100 px wider than its ink, leaving that much white at the right.
    expect(box.x1).toBeGreaterThan(800 - 8 - 8);
    expect(box.x1).toBeLessThan(800 - 8);
  });
});

describe("font metrics", () => {
  it("reads advances: every glyph of DejaVu Sans Mono has the same width, proportional letters do not", () => {
    const mono = readFontMetrics(readFileSync(join(chartFonts().source, "DejaVuSansMono.ttf")));
    const widths = new Set([..."iMW.,0@ é€→"].map((c) => mono.advance(c.codePointAt(0) as number)));
    expect(widths.size).toBe(1);
    const w = [...widths][0];
    expect(w).toBeGreaterThan(0.5);
    expect(w).toBeLessThan(0.7);
    expect(textWidth("iiii", 10)).toBeLessThan(textWidth("MMMM", 10));
    expect(textWidth("MM", 20)).toBeCloseTo(2 * textWidth("M", 20), 10);
    expect(textWidth("abc", 12, true)).toBeGreaterThan(textWidth("abc", 12));
  });

  it("rejects bytes that are not a font", () => {
    expect(() => readFontMetrics(new Uint8Array(8))).toThrow(/not a usable TrueType font/);
  });
});

describe("writeChart", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "viz-write-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("writes <stem>.svg and <stem>.png and returns their paths, leaving no temporary files", async () => {
    const spec = loss(true);
    const r = await writeChart(spec, join(dir, "loss"));
    expect(r.svgPath).toBe(join(dir, "loss.svg"));
    expect(r.pngPath).toBe(join(dir, "loss.png"));
    expect(r.warnings).toEqual([]);
    const direct = await renderChart(spec);
    expect(readFileSync(r.svgPath, "utf8")).toBe(direct.svg);
    expect(Buffer.from(readFileSync(r.pngPath)).equals(Buffer.from(direct.png))).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(["loss.png", "loss.svg"]);
    // Writing again replaces both.
    await writeChart(loss(false), join(dir, "loss"));
    expect(readFileSync(r.svgPath, "utf8")).not.toBe(direct.svg);
    expect(readdirSync(dir).sort()).toEqual(["loss.png", "loss.svg"]);
  });

  it("refuses a stem with an extension and a missing folder, writing nothing", async () => {
    await expect(writeChart(loss(), join(dir, "x.png"))).rejects.toThrow(/must not end in .svg or .png/);
    await expect(writeChart(loss(), join(dir, "missing", "x"))).rejects.toThrow(/ENOENT/);
    expect(existsSync(join(dir, "missing"))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith("x"))).toEqual([]);
  });
});
