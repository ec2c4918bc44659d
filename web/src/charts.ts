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

interface Slot {
  view: View | null;
  running: boolean;
  /** A pump is scheduled (setTimeout) or running. */
  scheduled: boolean;
  /** When the last render ended (performance.now()). */
  lastEnd: number;
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
      next: null,
      renders: 0,
      generation: 0,
    };
    slots.set(el, slot);
  }
  slot.next = { make, tag };
  if (!slot.scheduled) {
    slot.scheduled = true;
    const wait = Math.max(0, slot.lastEnd + MIN_INTERVAL - performance.now());
    const s = slot;
    setTimeout(() => void pump(el, s, onError), wait);
  }
}

async function pump(el: HTMLElement, slot: Slot, onError: (e: unknown) => void): Promise<void> {
  slot.running = true;
  while (slot.next !== null) {
    if (slot.renders > 0) {
      const wait = slot.lastEnd + MIN_INTERVAL - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    const next = slot.next;
    if (next === null) break;
    slot.next = null;
    const generation = slot.generation;
    try {
      const { compile, parse, View } = await preloadCharts();
      if (generation !== slot.generation) continue; // cleared while the libraries loaded
      const vg = compile(next.make()).spec;
      const view = new View(parse(vg), { renderer: "svg", hover: false });
      const holder = document.createElement("div");
      await view.initialize(holder).runAsync();
      if (generation !== slot.generation) {
        view.finalize(); // cleared meanwhile
        continue;
      }
      slot.view?.finalize();
      slot.view = view;
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
  }
  el.replaceChildren();
  delete el.dataset.shows;
}
