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
  compile: typeof import("vega-lite").compile;
};
let libs: Promise<VegaLibs> | null = null;

/** Loads the chart libraries (once); every draw waits for them. */
export function preloadCharts(): Promise<VegaLibs> {
  libs ??= Promise.all([import("vega"), import("vega-lite")]).then(([vega, vl]) => ({
    parse: vega.parse,
    View: vega.View,
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
  /** The shown spec without its data (JSON), and the name of its inline data set in the view. */
  key: string;
  dataName: string | null;
  next: { make: () => ChartSpec; tag: string } | null;
  /** How many renders finished (the tests read it from data-renders). */
  renders: number;
  /** Bumped by `clear`: a render started before it does not show its result. */
  generation: number;
}

const slots = new WeakMap<HTMLElement, Slot>();

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
  let slot = slots.get(el);
  if (slot === undefined) {
    slot = {
      view: null,
      running: false,
      scheduled: false,
      lastEnd: Number.NEGATIVE_INFINITY,
      cost: 0,
      key: "",
      dataName: null,
      next: null,
      renders: 0,
      generation: 0,
    };
    slots.set(el, slot);
  }
  slot.next = { make, tag };
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
      const { compile, parse, View } = await preloadCharts();
      if (generation !== slot.generation) continue; // cleared while the libraries loaded
      // Each step is a performance measure (chart:spec, chart:compile, ...): the end-to-end test reads
      // them to say which part of a redraw takes the page's time.
      const t0 = performance.now();
      const spec = next.make();
      const t1 = performance.now();
      // A live update that changes only the data (same titles, scales, sizes) goes into the view on
      // screen: no compiling, no parsing, and vega redraws only what changed.
      const values = (spec as { data?: { values?: unknown } }).data?.values;
      const key = JSON.stringify({ ...spec, data: null });
      if (slot.view !== null && slot.dataName !== null && key === slot.key && Array.isArray(values)) {
        await slot.view.data(slot.dataName, values).runAsync();
        const t2 = performance.now();
        performance.measure("chart:spec", { start: t0, end: t1 });
        performance.measure("chart:update", { start: t1, end: t2 });
        slot.cost = t2 - t0;
        if (generation === slot.generation) {
          slot.renders++;
          el.dataset.renders = String(slot.renders);
          el.dataset.shows = next.tag;
        }
        slot.lastEnd = performance.now();
        continue;
      }
      const vg = compile(spec).spec;
      const withValues = (vg.data ?? []).filter((d) => "values" in d && Array.isArray(d.values));
      const t2 = performance.now();
      await nextTask(); // each step a task of its own: the page answers between them
      const view = new View(parse(vg), { renderer: "svg", hover: false });
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
        continue;
      }
      slot.view?.finalize();
      slot.view = view;
      slot.key = key;
      // the one inline data set a live update can replace (none or several: always recompile)
      slot.dataName = withValues.length === 1 ? withValues[0].name : null;
      el.replaceChildren(...Array.from(holder.childNodes));
      slot.renders++;
      el.dataset.renders = String(slot.renders);
      el.dataset.shows = next.tag;
    } catch (e) {
      onError(e);
    }
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
    slot.dataName = null;
  }
  el.replaceChildren();
  delete el.dataset.shows;
}
