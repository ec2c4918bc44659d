// Draws the library's chart specs (src/viz: the same Vega-Lite descriptions the `recurrent` command
// renders to files) into the page: vega-lite compiles the spec to Vega, and vega's View renders it as
// SVG into a container. Live charts call `draw` again and again: a chart is redrawn at most every
// MIN_INTERVAL ms, and a draw that arrives meanwhile replaces any waiting one, so a busy chart skips
// frames instead of queueing them (and the page stays responsive while the worker reports progress).
//
// vega and vega-lite are most of the page's JavaScript: they are loaded by a dynamic import (a chunk of
// their own, see scripts/build-web.mjs), started after the first paint by `preloadCharts` or by the
// first `draw`, so the page shows its forms before the chart libraries arrive.

import type { View } from "vega";
import type { ChartSpec } from "./lib.js";

type VegaLibs = {
  parse: typeof import("vega").parse;
  View: typeof import("vega").View;
  changeset: typeof import("vega").changeset;
  compile: typeof import("vega-lite").compile;
};
let libs: Promise<VegaLibs> | null = null;

/** Loads the chart libraries (once); every draw waits for them. */
export function preloadCharts(): Promise<VegaLibs> {
  libs ??= Promise.all([import("vega"), import("vega-lite")]).then(([vega, vl]) => ({
    parse: vega.parse,
    View: vega.View,
    changeset: vega.changeset,
    compile: vl.compile,
  }));
  libs.catch(() => {
    libs = null; // a failed load (the network) is tried again by the next draw
  });
  return libs;
}

const MIN_INTERVAL = 150;

const nextTask = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

interface Slot {
  view: View | null;
  running: boolean;
  /** A pump is scheduled (setTimeout) or running. */
  scheduled: boolean;
  /** When the last render ended (performance.now()). */
  lastEnd: number;
  /** How long the last render took, ms (spec to SVG, waits between its steps included). */
  cost: number;
  /** The shown spec without its inline data and title text (JSON; see splitSpec). */
  key: string;
  next: { make: () => ChartSpec; tag: string; show: boolean; done?: () => void } | null;
  /** How many lines the shown subtitle has (a change needs a new layout). */
  lines: number;
  /** A view made by `prepare`, rendered off screen: the first `draw` that can use it shows it. */
  holder: HTMLElement | null;
  /** How many renders finished (the tests read it from data-renders). */
  renders: number;
  /** Bumped by `clear`: a render started before it does not show its result. */
  generation: number;
}

type Json = Record<string, unknown>;

/** A Vega-Lite spec cut in what a live update may change (data, title text) and the rest. */
export interface SpecParts {
  /** The spec with each inline data set replaced by a named one and the title text left out. */
  shape: Json;
  /** JSON of `shape`: two specs with the same key draw in the same view. */
  key: string;
  /** The named data sets' values. */
  sets: { name: string; values: unknown[] }[];
  /** The title's text and subtitle lines, set as signals of the view (null: no title to set). */
  title: { text: unknown; subtitle: unknown } | null;
}

const TITLE = "page_title_text";
const SUBTITLE = "page_title_subtitle";

/**
 * Cuts a spec for drawing: the inline data of the top level and of each layer become named data sets
 * (filled through view.data), and the title's text and subtitle become signals. What remains decides
 * whether a view can be reused.
 */
export function splitSpec(spec: ChartSpec): SpecParts {
  const sets: SpecParts["sets"] = [];
  const named = (d: unknown): unknown => {
    const values = (d as { values?: unknown } | undefined)?.values;
    if (d === null || typeof d !== "object" || !Array.isArray(values) || Object.keys(d).length !== 1)
      return d;
    const name = `page_data_${sets.length}`;
    sets.push({ name, values });
    return { name };
  };
  const src = spec as unknown as Json;
  const shape: Json = { ...src };
  if ("data" in src) shape.data = named(src.data);
  if (Array.isArray(src.layer)) {
    shape.layer = src.layer.map((l: unknown) =>
      l !== null && typeof l === "object" && "data" in l ? { ...l, data: named((l as Json).data) } : l,
    );
  }
  let title: SpecParts["title"] = null;
  const t = src.title as Json | undefined;
  if (t !== null && typeof t === "object" && typeof t.text === "string") {
    const hasSub = typeof t.subtitle === "string" || Array.isArray(t.subtitle);
    title = { text: t.text, subtitle: hasSub ? t.subtitle : null };
    // placeholders: the compiled title is then pointed at the signals (compileParts)
    shape.title = { ...t, text: "T", ...(hasSub ? { subtitle: "S" } : {}) };
  }
  return { shape, key: JSON.stringify(shape), sets, title };
}

/** Compiles the shape to Vega, its title text and subtitle read from signals. */
export function compileParts(compile: VegaLibs["compile"], parts: SpecParts): import("vega").Spec {
  const vg = compile(parts.shape as unknown as ChartSpec).spec;
  const title = vg.title as Json | undefined;
  if (parts.title !== null && title !== null && typeof title === "object") {
    title.text = { signal: TITLE };
    if (parts.title.subtitle !== null) title.subtitle = { signal: SUBTITLE };
    vg.signals = [
      ...(vg.signals ?? []),
      { name: TITLE, value: parts.title.text },
      ...(parts.title.subtitle !== null ? [{ name: SUBTITLE, value: parts.title.subtitle }] : []),
    ] as typeof vg.signals;
  }
  return vg;
}

/**
 * Puts the parts' data and title into a view made from the same shape (not run). With `layout` the
 * room for the axis labels, the legend and the title's lines is worked out again, from the size the
 * spec asks for, as a new view would (a view otherwise keeps the layout of its first run, and working
 * it out from the last one drifts); that is most of an update's cost (5-10 times the rest), so live
 * updates skip it unless the subtitle's line count changed, and the final drawing does it.
 */
export function fill(view: View, parts: SpecParts, layout = true, changeset?: VegaLibs["changeset"]): View {
  for (const { name, values } of parts.sets) setData(view, name, values, changeset);
  if (layout) {
    const { width, height } = parts.shape;
    if (typeof width === "number") view.width(width);
    if (typeof height === "number") view.height(height);
    view.resize();
  }
  if (parts.title !== null) {
    view.signal(TITLE, parts.title.text);
    if (parts.title.subtitle !== null) view.signal(SUBTITLE, parts.title.subtitle);
  }
  return view;
}

const slots = new WeakMap<HTMLElement, Slot>();

/**
 * Replaces a data set's values. With as many rows as before, the rows the view holds are changed in
 * place, field by field: vega then moves the marks it drew (a few attributes) instead of removing
 * every one and making a new one, which in SVG is most of a live update's time.
 */
function setData(view: View, name: string, values: unknown[], changeset?: VegaLibs["changeset"]): void {
  const old = changeset ? (view.data(name) as Record<string, unknown>[] | null) : null;
  if (changeset === undefined || !Array.isArray(old) || old.length !== values.length) {
    view.data(name, values);
    return;
  }
  const cs = changeset();
  let changed = 0;
  for (let i = 0; i < values.length; i++) {
    const a = old[i];
    const b = values[i];
    if (b === null || typeof b !== "object") {
      view.data(name, values); // not rows of fields: replace
      return;
    }
    for (const [k, v] of Object.entries(b)) {
      if (!Object.is(a[k], v)) {
        cs.modify(a, k, v);
        changed++;
      }
    }
  }
  if (changed > 0) view.change(name, cs);
}

function subtitleLines(parts: SpecParts): number {
  const s = parts.title?.subtitle;
  return Array.isArray(s) ? s.length : typeof s === "string" ? 1 : 0;
}

/** The width a chart should take in `el`, as the integer pixel count the specs ask for. */
export function chartWidth(el: HTMLElement, max = 900): number {
  const w = Math.floor(el.clientWidth || el.parentElement?.clientWidth || 800);
  return Math.max(320, Math.min(max, w));
}

/**
 * Renders the spec made by `make` into `el` (replacing what is there). `make` runs when the render
 * starts, so a chart that is updated often builds only the specs it draws. Errors in `make` or in
 * rendering are reported through `onError`. Once drawn, `el.dataset.shows` is `tag` (tests wait for
 * the final picture by it) and `el.dataset.renders` counts the renders.
 */
export function draw(
  el: HTMLElement,
  make: () => ChartSpec,
  onError: (e: unknown) => void,
  tag = "live",
): void {
  enqueue(el, { make, tag, show: true }, onError);
}

/**
 * Builds the view for the spec made by `make` off screen, in tasks of their own, without showing it:
 * a later `draw` into `el` whose spec has the same shape (see splitSpec) then only puts its data in,
 * with no compiling, parsing or first render while a job runs. Does nothing while a draw is waiting.
 * Resolves when done (errors, too, are left to the first real draw).
 */
export function prepare(el: HTMLElement, make: () => ChartSpec): Promise<void> {
  const waiting = slots.get(el)?.next;
  if (waiting?.show) return Promise.resolve();
  return new Promise((done) => enqueue(el, { make, tag: "prepared", show: false, done }, () => done()));
}

function enqueue(el: HTMLElement, next: NonNullable<Slot["next"]>, onError: (e: unknown) => void): void {
  let slot = slots.get(el);
  if (slot === undefined) {
    slot = {
      view: null,
      running: false,
      scheduled: false,
      lastEnd: Number.NEGATIVE_INFINITY,
      cost: 0,
      key: "",
      next: null,
      holder: null,
      lines: 0,
      renders: 0,
      generation: 0,
    };
    slots.set(el, slot);
  }
  slot.next?.done?.(); // replaced before it ran
  slot.next = next;
  if (!slot.scheduled) {
    slot.scheduled = true;
    const wait = Math.max(0, slot.lastEnd + Math.max(MIN_INTERVAL, 2 * slot.cost) - performance.now());
    const s = slot;
    setTimeout(() => void pump(el, s, onError), wait);
  }
}

async function pump(el: HTMLElement, slot: Slot, onError: (e: unknown) => void): Promise<void> {
  slot.running = true;
  while (slot.next !== null) {
    if (slot.renders > 0) {
      // At least MIN_INTERVAL between redraws, and twice the last redraw's cost: a chart that takes
      // long to draw (a slow or busy machine) is redrawn less often, not at the page's expense.
      const wait = slot.lastEnd + Math.max(MIN_INTERVAL, 2 * slot.cost) - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const next = slot.next;
    if (next === null) break;
    slot.next = null;
    const generation = slot.generation;
    try {
      const { compile, parse, View, changeset } = await preloadCharts();
      if (generation !== slot.generation) {
        next.done?.(); // cleared while the libraries loaded
        continue;
      }
      // Each step is a performance measure (chart:spec, chart:compile, ...): the end-to-end test reads
      // them to say which part of a redraw takes the page's time.
      const t0 = performance.now();
      const spec = next.make();
      const t1 = performance.now();
      // A live update that changes only the data and the title text (same scales, sizes, layers) goes
      // into the view on screen: no compiling, no parsing, and vega redraws only what changed. The sine
      // previews change their title every time, so the title is a signal of the view, not part of the
      // compiled spec.
      const parts = splitSpec(spec);
      if (slot.view !== null && parts.key === slot.key) {
        const lines = subtitleLines(parts);
        const layout = next.tag !== "live" || lines !== slot.lines;
        slot.lines = lines;
        await fill(slot.view, parts, layout, changeset).runAsync();
        const t2 = performance.now();
        performance.measure("chart:spec", { start: t0, end: t1 });
        performance.measure("chart:update", { start: t1, end: t2, detail: el.id });
        slot.cost = t2 - t0;
        if (generation === slot.generation && next.show) {
          if (slot.holder !== null) el.replaceChildren(...Array.from(slot.holder.childNodes));
          slot.holder = null;
          slot.renders++;
          el.dataset.renders = String(slot.renders);
          el.dataset.shows = next.tag;
        }
        slot.lastEnd = performance.now();
        next.done?.();
        continue;
      }
      const vg = compileParts(compile, parts);
      const t2 = performance.now();
      await nextTask(); // each step a task of its own: the page answers between them
      const view = fill(new View(parse(vg), { renderer: "svg", hover: false }), parts);
      const t3 = performance.now();
      await nextTask();
      const holder = document.createElement("div");
      await view.initialize(holder).runAsync();
      const t4 = performance.now();
      performance.measure("chart:spec", { start: t0, end: t1 });
      performance.measure("chart:compile", { start: t1, end: t2 });
      performance.measure("chart:parse", { start: t2, end: t3 });
      performance.measure("chart:render", { start: t3, end: t4 });
      slot.cost = t4 - t0;
      if (generation !== slot.generation) {
        view.finalize(); // cleared meanwhile
        next.done?.();
        continue;
      }
      slot.view?.finalize();
      slot.view = view;
      slot.key = parts.key;
      slot.lines = subtitleLines(parts);
      if (!next.show) {
        slot.holder = holder;
        next.done?.();
        continue;
      }
      slot.holder = null;
      el.replaceChildren(...Array.from(holder.childNodes));
      slot.renders++;
      el.dataset.renders = String(slot.renders);
      el.dataset.shows = next.tag;
    } catch (e) {
      onError(e);
    }
    next.done?.();
    slot.lastEnd = performance.now();
  }
  slot.running = false;
  slot.scheduled = false;
}

/** Empties `el` and drops any render waiting or running for it. */
export function clear(el: HTMLElement): void {
  const slot = slots.get(el);
  if (slot !== undefined) {
    slot.next = null;
    slot.generation++;
    slot.view?.finalize();
    slot.view = null;
    slot.key = "";
    slot.holder = null;
  }
  el.replaceChildren();
  delete el.dataset.shows;
}
