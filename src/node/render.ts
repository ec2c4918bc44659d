// Charts to files, headless: a Vega-Lite spec (src/viz) is compiled by vega-lite, laid out and drawn
// to SVG by vega (no browser, no canvas), and the SVG is rasterised to PNG by resvg compiled to
// WebAssembly (@resvg/resvg-wasm: the same package runs in the browser, and there is no native binary
// to match to the platform).
//
// Text. resvg-wasm sees no system fonts, so it is handed font bytes: DejaVu Sans (regular and bold)
// from the npm package `dejavu-fonts-ttf` (a dependency, free licence: Bitstream Vera's terms, DejaVu
// changes public domain), falling back to the system's copy only if the package is missing. Using the
// shipped font on every machine makes the PNGs the same everywhere. Vega, without a canvas, would guess
// text widths as 0.8 em per character (too wide for DejaVu, so legend labels get cut with "…"); here
// vega measures text with the real advance widths read from the same font files, so titles are centred
// and labels fit exactly as drawn.

import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { promises as fsp } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { deflateSync } from "node:zlib";
import type { LoggerInterface, Spec as VegaSpec } from "vega";
import type { ChartSpec } from "../viz/common.js";

const require = createRequire(import.meta.url);

// ---------------------------------------------------------------------------------------------
// The chart libraries, loaded when a chart is first drawn. Loading them eagerly would make
// `recurrent/node` unloadable from CommonJS (vega's canvas module uses top-level await) and would make
// every library user install them; they are optional peer dependencies of the package.

type Vega = typeof import("vega");
type VegaLite = typeof import("vega-lite");
type ResvgModule = typeof import("@resvg/resvg-wasm");
let vega!: Vega;
let vl!: VegaLite;
let resvg!: ResvgModule;
let libsLoaded: Promise<void> | null = null;

const CHART_PACKAGES = "vega vega-lite @resvg/resvg-wasm dejavu-fonts-ttf";

/** Imports one chart package, or throws naming the package to install. */
async function importChartPackage<T>(name: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === "ERR_MODULE_NOT_FOUND" || code === "MODULE_NOT_FOUND") {
      throw new Error(
        `drawing charts needs the package ${name}, which is not installed (the chart packages are optional peer dependencies of recurrent); install them with: npm install ${CHART_PACKAGES}`,
        { cause: e },
      );
    }
    throw e;
  }
}

/** Loads vega, vega-lite and resvg once; every function here that draws awaits it first. */
export function loadChartLibraries(): Promise<void> {
  if (!libsLoaded) {
    libsLoaded = (async () => {
      vega = await importChartPackage("vega", () => import("vega"));
      vl = await importChartPackage("vega-lite", () => import("vega-lite"));
      resvg = await importChartPackage("@resvg/resvg-wasm", () => import("@resvg/resvg-wasm"));
    })().catch((e: unknown) => {
      libsLoaded = null;
      throw e;
    });
  }
  return libsLoaded;
}

// ---------------------------------------------------------------------------------------------
// Font metrics: advance widths from a TrueType file (tables head, hhea, hmtx, cmap).

/** Advance widths of one font, in em units, by code point. */
export interface FontMetrics {
  /** Advance width in em (1 = the font size) of code point `cp`; the missing-glyph width if not mapped. */
  advance(cp: number): number;
}

/** Reads the horizontal advance widths of a TrueType/OpenType font (cmap formats 4 and 12). */
export function readFontMetrics(bytes: Uint8Array): FontMetrics {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (why: string): never => {
    throw new Error(`readFontMetrics: not a usable TrueType font (${why})`);
  };
  if (bytes.byteLength < 12) fail("too short");
  const numTables = dv.getUint16(4);
  const tables = new Map<string, { offset: number; length: number }>();
  for (let i = 0; i < numTables; i++) {
    const rec = 12 + 16 * i;
    if (rec + 16 > bytes.byteLength) fail("table directory past the end");
    const tag = String.fromCharCode(bytes[rec], bytes[rec + 1], bytes[rec + 2], bytes[rec + 3]);
    tables.set(tag, { offset: dv.getUint32(rec + 8), length: dv.getUint32(rec + 12) });
  }
  const table = (tag: string) => tables.get(tag) ?? fail(`no ${tag} table`);
  const head = table("head");
  const unitsPerEm = dv.getUint16(head.offset + 18);
  const hhea = table("hhea");
  const numberOfHMetrics = dv.getUint16(hhea.offset + 34);
  const hmtx = table("hmtx");
  if (numberOfHMetrics === 0 || hmtx.length < 4 * numberOfHMetrics) fail("bad hmtx");
  const glyphAdvance = (g: number): number =>
    dv.getUint16(hmtx.offset + 4 * Math.min(g, numberOfHMetrics - 1)) / unitsPerEm;

  // Pick the Unicode cmap subtable: (3,10) format 12 for all planes, else (3,1) / (0,*) format 4.
  const cmap = table("cmap");
  const nSub = dv.getUint16(cmap.offset + 2);
  let best: { offset: number; format: number; rank: number } | null = null;
  for (let i = 0; i < nSub; i++) {
    const r = cmap.offset + 4 + 8 * i;
    const platform = dv.getUint16(r);
    const encoding = dv.getUint16(r + 2);
    const offset = cmap.offset + dv.getUint32(r + 4);
    const format = dv.getUint16(offset);
    const unicode = platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10));
    if (!unicode || (format !== 4 && format !== 12)) continue;
    const rank = format === 12 ? 2 : 1;
    if (best === null || rank > best.rank) best = { offset, format, rank };
  }
  if (best === null) fail("no Unicode cmap of format 4 or 12");
  const sub = best as { offset: number; format: number };

  const glyphOf = (cp: number): number => {
    if (sub.format === 12) {
      const nGroups = dv.getUint32(sub.offset + 12);
      let lo = 0;
      let hi = nGroups - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const g = sub.offset + 16 + 12 * mid;
        const start = dv.getUint32(g);
        const end = dv.getUint32(g + 4);
        if (cp < start) hi = mid - 1;
        else if (cp > end) lo = mid + 1;
        else return dv.getUint32(g + 8) + (cp - start);
      }
      return 0;
    }
    if (cp > 0xffff) return 0;
    const segX2 = dv.getUint16(sub.offset + 6);
    const ends = sub.offset + 14;
    const starts = ends + segX2 + 2;
    const deltas = starts + segX2;
    const ranges = deltas + segX2;
    for (let s = 0; s < segX2; s += 2) {
      if (dv.getUint16(ends + s) < cp) continue;
      const start = dv.getUint16(starts + s);
      if (start > cp) return 0;
      const delta = dv.getUint16(deltas + s);
      const rangeOffset = dv.getUint16(ranges + s);
      if (rangeOffset === 0) return (cp + delta) & 0xffff;
      const gAddr = ranges + s + rangeOffset + 2 * (cp - start); // from idRangeOffset[s/2] itself
      const g = dv.getUint16(gAddr);
      return g === 0 ? 0 : (g + delta) & 0xffff;
    }
    return 0;
  };

  const cache = new Map<number, number>();
  return {
    advance(cp: number): number {
      let w = cache.get(cp);
      if (w === undefined) {
        w = glyphAdvance(glyphOf(cp));
        cache.set(cp, w);
      }
      return w;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Fonts.

/** The font files charts are drawn with. */
export interface ChartFonts {
  regular: Uint8Array;
  bold: Uint8Array;
  /** The folder they were read from. */
  source: string;
}

let fonts: ChartFonts | null = null;

/** Where DejaVu Sans may be: the npm package first (always the same version), then system folders. */
function fontDirs(): string[] {
  const dirs: string[] = [];
  try {
    dirs.push(join(dirname(require.resolve("dejavu-fonts-ttf/package.json")), "ttf"));
  } catch {
    // not installed: try the system's copy
  }
  dirs.push("/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/share/fonts/TTF");
  return dirs;
}

/** DejaVu Sans regular and bold, read once. Throws, saying where it looked, if they are nowhere. */
export function chartFonts(): ChartFonts {
  if (fonts) return fonts;
  const dirs = fontDirs();
  for (const dir of dirs) {
    const r = join(dir, "DejaVuSans.ttf");
    const b = join(dir, "DejaVuSans-Bold.ttf");
    if (fs.existsSync(r) && fs.existsSync(b)) {
      fonts = {
        regular: new Uint8Array(fs.readFileSync(r)),
        bold: new Uint8Array(fs.readFileSync(b)),
        source: dir,
      };
      return fonts;
    }
  }
  throw new Error(
    `chart rendering needs the DejaVu Sans fonts (DejaVuSans.ttf, DejaVuSans-Bold.ttf) and found them in none of ${dirs.join(", ")}; install the npm package dejavu-fonts-ttf`,
  );
}

let metrics: { regular: FontMetrics; bold: FontMetrics } | null = null;

function fontMetrics(): { regular: FontMetrics; bold: FontMetrics } {
  if (!metrics) {
    const f = chartFonts();
    metrics = { regular: readFontMetrics(f.regular), bold: readFontMetrics(f.bold) };
  }
  return metrics;
}

/** The width in pixels of `text` drawn at `fontSize` px in DejaVu Sans (bold if `bold`), without kerning. */
export function textWidth(text: string, fontSize: number, bold = false): number {
  const m = bold ? fontMetrics().bold : fontMetrics().regular;
  let w = 0;
  for (const ch of text) w += m.advance(ch.codePointAt(0) as number);
  return w * fontSize;
}

interface TextItem {
  fontSize?: number | string;
  fontWeight?: number | string;
  limit?: number;
}

/**
 * Vega's hook for text widths (its `textMetrics.width`, which vl-convert replaces the same way).
 * Vega calls it for whole labels and for the pieces it tries while cutting a label to its `limit`;
 * capping at the limit gives the cut label's width for the first and changes nothing for the second.
 */
function vegaTextWidth(item: TextItem, text: unknown): number {
  const size = item.fontSize != null ? +item.fontSize || 0 : 11;
  const s = text == null ? "" : String(text).trim();
  if (size <= 0 || s === "") return 0;
  const weight = item.fontWeight;
  const bold = weight === "bold" || weight === "bolder" || (weight != null && +weight >= 600);
  const w = textWidth(s, size, bold);
  const limit = item.limit != null ? +item.limit : 0;
  return limit > 0 ? Math.min(w, limit) : w;
}

function useFontMetrics(): void {
  fontMetrics(); // fail early, with the message about the fonts
  const tm = (vega as unknown as { textMetrics: { width: (item: TextItem, text: unknown) => number } })
    .textMetrics;
  tm.width = vegaTextWidth;
}

// ---------------------------------------------------------------------------------------------
// Spec -> Vega -> SVG.

/** A logger for vega and vega-lite that keeps warnings and throws errors. Vega calls these functions
 * detached from the object, hence arrow functions over a closure rather than methods. */
function collectingLogger(where: string): LoggerInterface & { warnings: string[] } {
  const warnings: string[] = [];
  let level = 2; // vega.Warn
  const logger = {
    warnings,
    level: (l?: number) => {
      if (l === undefined) return level;
      level = l;
      return logger;
    },
    error: (...args: unknown[]): never => {
      throw new Error(`${where}: ${args.map(String).join(" ")}`);
    },
    warn: (...args: unknown[]) => {
      warnings.push(`${where}: ${args.map(String).join(" ")}`);
      return logger;
    },
    info: () => logger,
    debug: () => logger,
  };
  return logger as LoggerInterface & { warnings: string[] };
}

/** Compiles a Vega-Lite chart spec to Vega, with the compiler's warnings (loading vega-lite first). */
export async function compileChart(spec: ChartSpec): Promise<{ vega: VegaSpec; warnings: string[] }> {
  await loadChartLibraries();
  const logger = collectingLogger("vega-lite");
  const out = vl.compile(spec, { logger });
  return { vega: out.spec, warnings: logger.warnings };
}

/**
 * Lays a chart out and draws it as SVG text. `warnings` lists what vega-lite and vega complained of
 * (an empty list for every chart of src/viz); errors throw. Chart specs carry their data inline:
 * rendering reads no file and no URL, and a spec asking for one is an error.
 */
export async function renderSvg(spec: ChartSpec): Promise<{ svg: string; warnings: string[] }> {
  await loadChartLibraries();
  useFontMetrics();
  const { vega: vgSpec, warnings } = await compileChart(spec);
  const logger = collectingLogger("vega");
  const refused: string[] = [];
  const loader = vega.loader();
  loader.sanitize = async (uri: string) => {
    refused.push(uri);
    throw new Error(`refusing to load ${JSON.stringify(uri)}`);
  };
  const view = new vega.View(vega.parse(vgSpec), { renderer: "none", logger, loader });
  try {
    const svg = await view.toSVG();
    if (refused.length > 0) {
      throw new Error(
        `renderSvg: chart specs must carry their data inline; this one asks to load ${refused.map((u) => JSON.stringify(u)).join(", ")}`,
      );
    }
    return { svg, warnings: [...warnings, ...logger.warnings] };
  } finally {
    view.finalize();
  }
}

// ---------------------------------------------------------------------------------------------
// SVG -> PNG.

let wasmReady: Promise<void> | null = null;

function resvgReady(): Promise<void> {
  if (!wasmReady) {
    const wasm = fs.readFileSync(require.resolve("@resvg/resvg-wasm/index_bg.wasm"));
    wasmReady = resvg.initWasm(wasm).catch((e: unknown) => {
      // Someone else in this process may have initialised the same module: then it is ready.
      if (!String(e).includes("Already initialized")) {
        wasmReady = null;
        throw e;
      }
    });
  }
  return wasmReady;
}

export interface PngOptions {
  /** Pixels per SVG unit (default 1: an 800 x 400 chart gives an 800 x 400 PNG; 2 for sharp screens). */
  scale?: number;
}

/** Rasterises SVG text to PNG bytes, drawing text in DejaVu Sans. */
export async function svgToPng(svg: string, options: PngOptions = {}): Promise<Uint8Array> {
  const scale = options.scale ?? 1;
  if (!(typeof scale === "number" && Number.isFinite(scale) && scale > 0 && scale <= 8)) {
    throw new Error(`svgToPng: scale must be a number in (0, 8], got ${String(scale)}`);
  }
  await loadChartLibraries();
  await resvgReady();
  const f = chartFonts();
  const family = "DejaVu Sans";
  const r = new resvg.Resvg(svg, {
    fitTo: scale === 1 ? { mode: "original" } : { mode: "zoom", value: scale },
    font: {
      fontBuffers: [f.regular, f.bold],
      defaultFontFamily: family,
      sansSerifFamily: family,
      serifFamily: family,
      monospaceFamily: family,
      cursiveFamily: family,
      fantasyFamily: family,
    },
  });
  try {
    const image = r.render();
    try {
      // Encoded here with Node's zlib rather than resvg's own encoder (image.asPng()): the same
      // picture, a third smaller, and much faster on the first call, before the WebAssembly warms up.
      return encodePng(unpremultiply(image.pixels), image.width, image.height);
    } finally {
      image.free();
    }
  } finally {
    r.free();
  }
}

/** Straight RGBA from the renderer's premultiplied RGBA (in place; opaque pixels are unchanged). */
function unpremultiply(px: Uint8Array): Uint8Array {
  for (let i = 0; i < px.length; i += 4) {
    const a = px[i + 3];
    if (a === 255 || a === 0) continue;
    px[i] = Math.min(255, Math.round((px[i] * 255) / a));
    px[i + 1] = Math.min(255, Math.round((px[i + 1] * 255) / a));
    px[i + 2] = Math.min(255, Math.round((px[i + 2] * 255) / a));
  }
  return px;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (the PNG/zlib polynomial) of `bytes`. */
function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** One PNG chunk: length, type, data, CRC of type + data. */
function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/**
 * Encodes straight (not premultiplied) 8-bit RGBA pixels as a PNG: one IHDR, one IDAT (every row
 * with filter 0, deflated by Node's zlib), IEND.
 */
export function encodePng(rgba: Uint8Array, width: number, height: number): Uint8Array {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new Error(`encodePng: width and height must be positive integers, got ${width} x ${height}`);
  }
  if (rgba.length !== width * height * 4) {
    throw new Error(
      `encodePng: ${width} x ${height} RGBA needs ${width * height * 4} bytes, got ${rgba.length}`,
    );
  }
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr.set([8, 6, 0, 0, 0], 8); // bit depth 8, colour type 6 (RGBA), deflate, filter method 0, no interlace
  const stride = width * 4;
  const raw = new Uint8Array((stride + 1) * height); // each row: filter byte 0, then the pixels
  for (let y = 0; y < height; y++) raw.set(rgba.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  const signature = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);
  return Buffer.concat([
    signature,
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", deflateSync(raw)),
    pngChunk("IEND", new Uint8Array(0)),
  ]);
}

/** A chart as SVG text and PNG bytes. */
export async function renderChart(
  spec: ChartSpec,
  options: PngOptions = {},
): Promise<{ svg: string; png: Uint8Array; warnings: string[] }> {
  const { svg, warnings } = await renderSvg(spec);
  const png = await svgToPng(svg, options);
  return { svg, png, warnings };
}

// ---------------------------------------------------------------------------------------------
// Files.

/** Writes `data` to `path` through a temporary file in the same folder and a rename (atomic). */
async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  let created = false;
  try {
    const handle = await fsp.open(tmp, "wx");
    created = true;
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fsp.rename(tmp, path);
    created = false;
  } finally {
    if (created) await fsp.rm(tmp, { force: true }).catch(() => {});
  }
}

/**
 * Renders a chart and writes `<stem>.svg` and `<stem>.png`, each atomically (temporary file, then
 * rename: a reader never sees half a file). Both are rendered before either is written. The folder
 * must exist. Returns the two paths and any rendering warnings.
 */
export async function writeChart(
  spec: ChartSpec,
  stem: string,
  options: PngOptions = {},
): Promise<{ svgPath: string; pngPath: string; warnings: string[] }> {
  if (typeof stem !== "string" || stem === "" || stem.endsWith("/")) {
    throw new Error(`writeChart: stem must be a file path without extension, got ${JSON.stringify(stem)}`);
  }
  if (/\.(svg|png)$/i.test(stem)) {
    throw new Error(
      `writeChart: stem must not end in .svg or .png (both are added), got ${JSON.stringify(stem)}`,
    );
  }
  const { svg, png, warnings } = await renderChart(spec, options);
  const svgPath = `${stem}.svg`;
  const pngPath = `${stem}.png`;
  await writeAtomic(svgPath, svg);
  await writeAtomic(pngPath, png);
  return { svgPath, pngPath, warnings };
}
