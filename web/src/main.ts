// The playground page: forms, the worker, live charts, tables, downloads, and error boxes. Training
// runs in the worker (worker.ts); this thread only reads forms, parses CSV headers, builds chart specs
// and draws them. Everything it shows is also kept in `window.__playground` for tests and curious users.

import { chartWidth, clear, draw, preloadCharts, prepare } from "./charts.js";
import type {
  CellFlow,
  ClipJobOptions,
  CsvJobOptions,
  CsvJobResult,
  EpochProgress,
  FillChoice,
  ForecastJobResult,
  GradJobOptions,
  GradJobResult,
  GradProgress,
  ScoreRow,
  SineJobOptions,
  SineJobResult,
  SinePrediction,
} from "./jobs.js";
import type { CsvSummary } from "./inspect.js";
import { type ChartSpec, describeNet, flowRatio, sineModelName } from "./lib.js";
import type { FromParser, ToParser } from "./parse-worker.js";
import type {
  ClipSummary,
  DeviceChoice,
  FromWorker,
  KernelChoice,
  ToWorker,
  WebGPUProbe,
} from "./protocol.js";
import {
  clipLossSpec,
  clipNormSpec,
  epochLossSpec,
  forecastSpec,
  gradFlowSpec,
  gradJacobianSpec,
  sineLossSpec,
  sineSpec,
} from "./specs.js";

// ===================================================================================== state for tests

type Status = "idle" | "running" | "done" | "stopped" | "error";

interface PlaygroundState {
  ready: boolean;
  /** The chart libraries are loaded and have drawn once (see warmCharts). */
  chartsWarm: boolean;
  backend: string | null;
  wasmVariant: string | null;
  crossOriginIsolated: boolean;
  /** Threads the training worker's kernels use (pool workers + itself), and why not more if it failed. */
  threads: number;
  threadsError: string | null;
  /** The last thread-pool check (checkThreads()). */
  threadsCheck: { threads: number; pooledCalls: number; maxDiff: number } | null;
  /** What the training worker found about WebGPU; null until it has looked. */
  webgpu: WebGPUProbe | null;
  sine: {
    status: Status;
    progressMessages: number;
    previews: number;
    losses: number[];
    preview: SinePrediction | null;
    result: Omit<SineJobResult, "losses"> | null;
    backend: string | null;
    /** The device the last run trained on, and its adapter (webgpu). */
    device: DeviceChoice | null;
    adapter: string | null;
    /** Milliseconds per iteration of the last run, from its first progress report to its last. */
    msPerStep: number | null;
    /** The last ms per iteration measured for each model (by its printed name) and device. */
    timings: Record<string, Partial<Record<DeviceChoice, number>>>;
  };
  csv: {
    status: Status;
    /** What the CSV panel is doing: reading a file, training, or backtesting; idle otherwise. */
    phase: "idle" | "reading" | "training" | "backtest";
    loaded: { name: string; rows: number; header: string[]; dateColumn: string | null } | null;
    epochs: EpochProgress[];
    result: Omit<CsvJobResult, "bytes"> | null;
    backend: string | null;
  };
  checkpoint: { status: Status; result: ForecastJobResult | null };
  gradients: { status: Status; result: GradJobResult | null; progress: GradProgress | null };
  clip: { status: Status; result: ClipSummary | null };
  /** Every message shown in an error box, in order. */
  errors: string[];
}

const state: PlaygroundState = {
  ready: false,
  chartsWarm: false,
  backend: null,
  wasmVariant: null,
  crossOriginIsolated: globalThis.crossOriginIsolated === true,
  threads: 1,
  threadsError: null,
  threadsCheck: null,
  webgpu: null,
  sine: {
    status: "idle",
    progressMessages: 0,
    previews: 0,
    losses: [],
    preview: null,
    result: null,
    backend: null,
    device: null,
    adapter: null,
    msPerStep: null,
    timings: {},
  },
  csv: { status: "idle", phase: "idle", loaded: null, epochs: [], result: null, backend: null },
  checkpoint: { status: "idle", result: null },
  gradients: { status: "idle", result: null, progress: null },
  clip: { status: "idle", result: null },
  errors: [],
};
(globalThis as unknown as { __playground: PlaygroundState }).__playground = state;
/** Asks the training worker to check its thread pool; the answer lands in state.threadsCheck. */
(globalThis as unknown as { __checkThreads: () => void }).__checkThreads = () => {
  if (worker === null) startWorker();
  const m: ToWorker = { type: "threads-check", id: nextId++ };
  worker!.postMessage(m);
};

// ===================================================================================== DOM helpers

function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (el === null) throw new Error(`the page has no element #${id}`);
  return el as T;
}

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  el.append(...children);
  return el;
}

/** A number for a table or a status line. */
function fmt(x: number | null | undefined, digits = 4): string {
  if (x === null || x === undefined) return "–";
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  const a = Math.abs(x);
  return a >= 1e-3 && a < 1e6 ? Number(x.toPrecision(digits)).toString() : x.toExponential(digits - 1);
}

const sci = (x: number): string => (Number.isFinite(x) ? x.toExponential(3) : String(x));

type Panel = "sine" | "csv" | "checkpoint" | "gradients" | "global";
const ERROR_BOX: Record<Panel, string> = {
  sine: "sine-error",
  csv: "csv-error",
  checkpoint: "ckpt-error",
  gradients: "grad-error",
  global: "global-error",
};

function showError(panel: Panel, message: string): void {
  const box = $(ERROR_BOX[panel]);
  box.textContent = message;
  box.hidden = false;
  state.errors.push(message);
}

function clearError(panel: Panel): void {
  const box = $(ERROR_BOX[panel]);
  box.textContent = "";
  box.hidden = true;
}

/** Sets a progress bar to a fraction, or makes it indeterminate (a moving bar) with null. */
function progress(id: string, value: number | null): void {
  const bar = $<HTMLProgressElement>(id);
  if (value === null) bar.removeAttribute("value");
  else bar.value = value;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

window.addEventListener("error", (e) => showError("global", `Unexpected error: ${e.message}`));
window.addEventListener("unhandledrejection", (e) =>
  showError("global", `Unexpected error: ${errorText(e.reason)}`),
);

/** Charts drawn last, by element, so a resize can draw them again at the new width. */
const lastCharts = new Map<HTMLElement, { make: (w: number) => ChartSpec; panel: Panel; tag: string }>();

/** Draws a chart; `tag` "final" marks a job's last picture of it (in data-shows once drawn). */
function chart(id: string, panel: Panel, make: (width: number) => ChartSpec, tag = "live"): void {
  const el = $(id);
  lastCharts.set(el, { make, panel, tag });
  draw(
    el,
    () => make(chartWidth(el)),
    (e) => showError(panel, `Could not draw the chart: ${errorText(e)}`),
    tag,
  );
}

function clearChart(id: string): void {
  const el = $(id);
  lastCharts.delete(el);
  clear(el);
}

let resizeTimer = 0;
window.addEventListener("resize", () => {
  clearTimeout(resizeTimer);
  resizeTimer = window.setTimeout(() => {
    for (const [el, { make, panel, tag }] of lastCharts) {
      draw(
        el,
        () => make(chartWidth(el)),
        (e) => showError(panel, `Could not draw the chart: ${errorText(e)}`),
        tag,
      );
    }
  }, 200);
});

/**
 * Builds the sine panel's two charts off screen once the chart libraries are here (charts.ts `prepare`),
 * with stand-in data shaped as a run with the form's settings will send: compiling a spec, and the first
 * drawing (which also compiles much of vega: hundreds of ms on a slow machine), are then done while the
 * visitor reads the page, and a run's live updates only put data into views already made. Sets
 * state.chartsWarm when done.
 */
function warmCharts(): void {
  let K = 10;
  try {
    K = num($<HTMLFormElement>("sine-form"), "context", { integer: true, min: 1, max: 48 });
  } catch {
    // an invalid form: the run will say so; warm with the default
  }
  const steps = 50; // what the sine job predicts (src/experiments/sine.ts)
  const t = Array.from({ length: steps }, (_, i) => (10 * i) / (steps - 1));
  const truth = t.map(Math.sin);
  const stand: SinePrediction = {
    start: 0,
    t,
    truth,
    notesPred: truth.slice(1),
    contextPred: truth.slice(K),
    context: K,
  };
  const loss = $("sine-loss-chart");
  const sine = $("sine-chart");
  void Promise.all([
    prepare(loss, () => sineLossSpec([1, 0.5, 0.25, 0.2], 2000, chartWidth(loss))),
    prepare(sine, () => sineSpec(stand, sineTitle(2000, 0), chartWidth(sine), "model")),
  ]).then(() => {
    state.chartsWarm = true;
  });
}

// ===================================================================================== forms

class FormError extends Error {}

function field(form: HTMLFormElement, name: string): HTMLInputElement | HTMLSelectElement {
  const el = form.elements.namedItem(name);
  if (el === null) throw new Error(`the form has no field ${name}`);
  return el as HTMLInputElement | HTMLSelectElement;
}

function labelOf(el: HTMLElement): string {
  const label = el.closest("label");
  const text = label
    ? Array.from(label.childNodes).find((n) => n.nodeType === Node.TEXT_NODE)?.textContent
    : null;
  return (text ?? el.getAttribute("name") ?? "value").trim();
}

interface NumberRule {
  integer?: boolean;
  min?: number;
  max?: number;
  /** > min instead of >= min. */
  above?: number;
}

function num(form: HTMLFormElement, name: string, rule: NumberRule = {}): number {
  const el = field(form, name);
  const raw = el.value.trim();
  const what = labelOf(el);
  const x = Number(raw);
  const expected = [
    rule.integer ? "a whole number" : "a number",
    rule.above !== undefined ? `above ${rule.above}` : "",
    rule.min !== undefined && rule.max !== undefined
      ? `from ${rule.min} to ${rule.max}`
      : rule.min !== undefined
        ? `of at least ${rule.min}`
        : rule.max !== undefined
          ? `of at most ${rule.max}`
          : "",
  ]
    .filter((s) => s)
    .join(" ");
  const bad =
    raw === "" ||
    !Number.isFinite(x) ||
    (rule.integer && !Number.isInteger(x)) ||
    (rule.min !== undefined && x < rule.min) ||
    (rule.max !== undefined && x > rule.max) ||
    (rule.above !== undefined && !(x > rule.above));
  if (bad)
    throw new FormError(`${what}: expected ${expected}, got ${raw === "" ? "nothing" : JSON.stringify(raw)}`);
  return x;
}

function optionalNum(form: HTMLFormElement, name: string, rule: NumberRule = {}): number | null {
  return field(form, name).value.trim() === "" ? null : num(form, name, rule);
}

function choice<T extends string>(form: HTMLFormElement, name: string): T {
  return field(form, name).value as T;
}

// ===================================================================================== the worker

type JobKind = "sine" | "csv" | "checkpoint" | "gradients" | "clip";
const PANEL_OF: Record<JobKind, Panel> = {
  sine: "sine",
  csv: "csv",
  checkpoint: "checkpoint",
  gradients: "gradients",
  clip: "gradients",
};

let worker: Worker | null = null;
let nextId = 1;
let current: { id: number; kind: JobKind } | null = null;

function startWorker(): void {
  worker = new Worker(new URL("./worker.js", import.meta.url), {
    type: "module",
    name: "recurrent-training",
  });
  worker.onmessage = (e: MessageEvent<FromWorker>) => onWorkerMessage(e.data);
  worker.onerror = (e) => {
    e.preventDefault();
    const what = e.message || "the training worker failed to start or crashed";
    failJob(`The training worker stopped: ${what}`);
    worker?.terminate();
    startWorker();
  };
  worker.onmessageerror = () => failJob("A message from the training worker could not be read.");
}

function failJob(message: string): void {
  if (current !== null) {
    const panel = PANEL_OF[current.kind];
    setStatus(current.kind, "error");
    showError(panel, message);
    current = null;
    setBusy(false);
  } else {
    showError("global", message);
  }
}

/**
 * Drops the running job at once, whatever it is doing: the worker is ended (with its thread pool) and
 * a fresh one started, so a job stuck in a long computation cannot hold the page. Its messages, if any
 * are still on their way, carry an id no longer current and are ignored.
 */
function abandonJob(): void {
  if (current === null) return;
  if (current.kind === "csv") state.csv.phase = "idle";
  current = null;
  worker?.terminate();
  worker = null;
  state.ready = false;
  startWorker();
  setBusy(false);
}

function kernels(): KernelChoice {
  return ($("kernels") as HTMLSelectElement).value as KernelChoice;
}

function send(kind: JobKind, make: (id: number) => ToWorker): void {
  if (worker === null) startWorker();
  const id = nextId++;
  current = { id, kind };
  setStatus(kind, "running");
  setBusy(true);
  worker!.postMessage(make(id));
}

const RUN_BUTTONS = ["sine-train", "csv-train", "grad-run", "clip-run"];
/** Each job's Stop button. */
const STOP_BUTTON: Record<JobKind, string> = {
  sine: "sine-stop",
  csv: "csv-stop",
  checkpoint: "ckpt-stop",
  gradients: "grad-stop",
  clip: "clip-stop",
};

function setBusy(busy: boolean): void {
  for (const id of RUN_BUTTONS) {
    const b = $<HTMLButtonElement>(id);
    b.disabled = busy || (id === "csv-train" && (csvFile === null || parsing !== null));
  }
  $<HTMLInputElement>("ckpt-file").disabled = busy;
  for (const [kind, id] of Object.entries(STOP_BUTTON)) {
    $<HTMLButtonElement>(id).disabled =
      !(busy && current?.kind === kind) && !(kind === "csv" && parsing !== null);
  }
}

function setStatus(kind: JobKind, s: Status): void {
  state[kind].status = s;
  const section = kind === "clip" ? null : $(kind === "checkpoint" ? "checkpoint" : kind);
  if (section) section.dataset.status = s;
  if (kind === "clip") $("gradients").dataset.clipStatus = s;
}

function onWorkerMessage(m: FromWorker): void {
  if (m.type === "ready") {
    state.ready = true;
    state.backend = m.backend;
    state.wasmVariant = m.wasmVariant;
    state.threads = m.threads;
    state.threadsError = m.threadsError;
    updateEngine(m.backend);
    document.body.dataset.ready = "true";
    return;
  }
  if (m.type === "webgpu") {
    showWebGPU(m.probe);
    return;
  }
  if (m.type === "threads-checked") {
    state.threadsCheck = { threads: m.threads, pooledCalls: m.pooledCalls, maxDiff: m.maxDiff };
    return;
  }
  if (current === null || m.id !== current.id) return; // a stale message from a stopped job
  switch (m.type) {
    case "started":
      updateEngine(m.backend);
      if (current.kind === "sine") {
        state.sine.backend = m.backend;
        state.sine.device = m.device;
        state.sine.adapter = m.adapter;
        $("sine-status").textContent = `Training on ${deviceText(m.device, m.adapter)}…`;
      }
      if (current.kind === "csv") state.csv.backend = m.backend;
      return;
    case "sine-progress":
      sineProgress(m);
      return;
    case "sine-preview":
      sinePreview(m);
      return;
    case "sine-done":
      finish(() => sineDone(m.result));
      return;
    case "csv-epoch":
      csvEpoch(m);
      return;
    case "csv-trained":
      trained = { bytes: m.bytes, fileName: m.fileName };
      $<HTMLButtonElement>("ckpt-download").disabled = false;
      $<HTMLButtonElement>("ckpt-download-onnx").disabled = false;
      return;
    case "backtest":
      backtestPhase(current.kind, m.phase);
      return;
    case "csv-done":
      finish(() => csvDone(m.result));
      return;
    case "checkpoint-done":
      finish(() => checkpointDone(m.result));
      return;
    case "gradients-progress":
      gradProgress(m);
      return;
    case "gradients-done":
      finish(() => gradientsDone(m.result));
      return;
    case "clip-progress": {
      const steps = clipSteps;
      const done = (m.run === "clipped" ? steps : 0) + m.step + 1;
      progress("clip-progress", done / (2 * steps));
      $("clip-status").textContent = `${m.run} run, step ${m.step + 1} of ${steps}: loss ${sci(m.loss)}`;
      return;
    }
    case "clip-done":
      finish(() => clipDone(m.result));
      return;
    case "error": {
      const kind = current.kind;
      current = null;
      if (kind === "csv") state.csv.phase = "idle";
      setBusy(false);
      setStatus(kind, "error");
      if (kind === "sine") $("sine-status").textContent = "Stopped by an error.";
      if (kind === "csv") $("csv-status").textContent = "Stopped by an error.";
      if (kind === "clip") $("clip-status").textContent = "";
      if (kind === "gradients") $("grad-status").textContent = "";
      for (const bar of PROGRESS_BARS[kind]) progress(bar, 0);
      if (kind === "checkpoint") {
        $("ckpt-status").textContent = "";
        // what was shown belonged to another checkpoint: clear it rather than leave it under the error
        state.checkpoint.result = null;
        $("ckpt-info").textContent = "";
        $("ckpt-results").replaceChildren();
        clearChart("ckpt-chart");
      }
      showError(PANEL_OF[kind], m.message);
      return;
    }
  }
}

/** Each job's progress bars (reset when it ends). */
const PROGRESS_BARS: Record<JobKind, string[]> = {
  sine: [],
  csv: ["csv-progress"],
  checkpoint: ["ckpt-progress"],
  gradients: ["grad-progress"],
  clip: ["clip-progress"],
};

/** A backtest phase started: it runs in one go, so the bar moves without a fraction, and Stop ends it. */
function backtestPhase(kind: JobKind, phase: "model" | "classical"): void {
  if (kind === "csv") state.csv.phase = "backtest";
  const what =
    phase === "model"
      ? "Backtesting the model on the held-out test part, from every origin"
      : "Backtesting the classical models (ETS, ARIMA, Theta, seasonal naive with drift) on the same part";
  const keep = kind === "csv" ? "; Stop skips it and keeps the trained model" : "";
  progress(kind === "csv" ? "csv-progress" : "ckpt-progress", null);
  $(kind === "csv" ? "csv-status" : "ckpt-status").textContent = `${what}…${keep}`;
}

/**
 * The panel's Stop button. Training (sine, CSV epochs) stops after its current step and keeps what it
 * has; reading a CSV, a backtest, the gradient flow and the clipping runs end at once with their worker.
 */
function stopJob(kind: JobKind): void {
  if (kind === "csv" && parsing !== null) {
    const name = parsing.name;
    stopParsing();
    unloadCsv(`Stopped reading ${name}; nothing loaded.`);
    progress("csv-progress", 0);
    return;
  }
  if (current === null || current.kind !== kind) return;
  if (kind === "sine" || (kind === "csv" && state.csv.phase === "training")) {
    worker?.postMessage({ type: "stop" } satisfies ToWorker);
    $(kind === "sine" ? "sine-status" : "csv-status").textContent =
      kind === "sine" ? "Stopping…" : "Stopping after this batch…";
    return;
  }
  abandonJob();
  setStatus(kind, "stopped");
  for (const bar of PROGRESS_BARS[kind]) progress(bar, 0);
  if (kind === "csv") {
    $("csv-status").textContent =
      trained !== null
        ? "Stopped during the backtest: no scores, but the trained model is kept (download it under Checkpoints)."
        : "Stopped.";
  } else if (kind === "checkpoint") {
    $("ckpt-info").textContent = "";
    $("ckpt-status").textContent = "Stopped; nothing forecast.";
  } else if (kind === "gradients") {
    $("grad-status").textContent = "Stopped; nothing computed.";
  } else if (kind === "clip") {
    $("clip-status").textContent = "Stopped.";
  }
}

/** Ends the current job: runs its result handler, which sets the panel's final status. */
function finish(show: () => void): void {
  const kind = current!.kind;
  current = null;
  if (kind === "csv") state.csv.phase = "idle";
  setBusy(false);
  for (const bar of PROGRESS_BARS[kind]) progress(bar, 1);
  try {
    show();
  } catch (e) {
    setStatus(kind, "error");
    showError(PANEL_OF[kind], `Could not show the result: ${errorText(e)}`);
  }
}

function updateEngine(backend: string): void {
  const v = state.wasmVariant;
  const name =
    backend === "wasm"
      ? `WebAssembly SIMD${v === "relaxed" ? " (relaxed)" : ""}`
      : backend === "ts"
        ? "TypeScript"
        : backend;
  const t = state.threads > 1 ? `, ${state.threads} threads` : "";
  $("engine-status").textContent = `kernels: ${name}${t}`;
}

// ===================================================================================== sine panel

let sineOptions: SineJobOptions | null = null;

function startSine(): void {
  clearError("sine");
  const form = $<HTMLFormElement>("sine-form");
  let o: SineJobOptions;
  try {
    o = {
      cell: choice(form, "cell"),
      hidden: num(form, "hidden", { integer: true, min: 1, max: 512 }),
      layers: num(form, "layers", { integer: true, min: 1, max: 4 }),
      iters: num(form, "iters", { integer: true, min: 1, max: 1_000_000 }),
      lr: num(form, "lr", { above: 0 }),
      clip: optionalNum(form, "clip", { above: 0 }),
      seed: num(form, "seed", { integer: true }),
      context: num(form, "context", { integer: true, min: 1, max: 48 }),
    };
  } catch (e) {
    showError("sine", errorText(e));
    return;
  }
  const device = choice<DeviceChoice>(form, "device");
  if (device === "webgpu" && state.webgpu?.available !== true) {
    const why = state.webgpu === null ? "still checking" : state.webgpu.reason;
    showError("sine", `WebGPU cannot be used here: ${why}. Choose the CPU.`);
    return;
  }
  sineOptions = o;
  sineFirstReport = null;
  Object.assign(state.sine, {
    progressMessages: 0,
    previews: 0,
    losses: [],
    preview: null,
    result: null,
    device: null,
    adapter: null,
    msPerStep: null,
  });
  $("sine-figures").replaceChildren();
  $<HTMLProgressElement>("sine-progress").value = 0;
  $("sine-status").textContent = "Starting…";
  const reportEvery = Math.max(1, Math.round(o.iters / 150));
  const previewEvery = Math.max(1, Math.round(o.iters / 12));
  send("sine", (id) => ({
    type: "sine",
    id,
    kernels: kernels(),
    device,
    options: o,
    reportEvery,
    previewEvery,
  }));
}

/** The first progress report of the running sine job: time per iteration is measured from it (warm-up excluded). */
let sineFirstReport: { iter: number; elapsed: number } | null = null;

function msText(ms: number): string {
  return ms >= 100 ? `${Math.round(ms)} ms` : `${Number(ms.toPrecision(2))} ms`;
}

function deviceText(device: DeviceChoice | null, adapter: string | null): string {
  if (device === "webgpu") return `WebGPU (${adapter ?? "unknown adapter"})`;
  return device === "cpu" ? "the CPU" : "?";
}

/** The device menu's WebGPU choice: offered where the worker found an adapter, else greyed with why. */
function showWebGPU(p: WebGPUProbe): void {
  state.webgpu = p;
  const select = $<HTMLSelectElement>("sine-device");
  const option = select.querySelector<HTMLOptionElement>('option[value="webgpu"]')!;
  option.disabled = !p.available;
  option.textContent = p.available ? "WebGPU" : "WebGPU (unavailable)";
  if (!p.available && select.value === "webgpu") select.value = "cpu";
  // SwiftShader (Chromium's fallback where it finds no GPU) runs the shaders on the CPU itself
  const software = p.available && /swiftshader|llvmpipe|lavapipe|software/i.test(p.adapter);
  $("sine-device-note").textContent = p.available
    ? `WebGPU: ${p.adapter}${software ? ", a software adapter that runs on the CPU: expect it to be slower than the CPU" : ""}. A GPU pays on the larger models (model size: LSTM 2×256); train on each device to compare.`
    : `WebGPU is unavailable: ${p.reason}.`;
  $("sine-device-note").dataset.webgpu = p.available ? "available" : "unavailable";
}

/** The model's last time per iteration on each device, and which was faster. */
function showTimings(model: string): void {
  const t = state.sine.timings[model] ?? {};
  const parts: string[] = [];
  if (t.cpu !== undefined) parts.push(`CPU ${msText(t.cpu)}`);
  if (t.webgpu !== undefined) parts.push(`WebGPU ${msText(t.webgpu)}`);
  let verdict = "";
  if (t.cpu !== undefined && t.webgpu !== undefined) {
    const fast = t.cpu <= t.webgpu ? "the CPU" : "WebGPU";
    verdict = `: ${fast} is ${(Math.max(t.cpu, t.webgpu) / Math.min(t.cpu, t.webgpu)).toFixed(1)}× faster here`;
  } else {
    verdict = `; train it on ${t.cpu === undefined ? "the CPU" : "WebGPU"} too to compare`;
  }
  const el = $("sine-timing");
  el.textContent = `Time per iteration, ${model}: ${parts.join(" · ")}${verdict}.`;
  el.hidden = false;
}

/** The model-size menu's choices: cell, hidden size, layers, iterations and learning rate. */
const SINE_SIZES: Record<
  string,
  { cell: string; hidden: number; layers: number; iters: number; lr: number }
> = {
  notes: { cell: "rnn", hidden: 16, layers: 1, iters: 2000, lr: 0.01 },
  // lr 0.01 throws this one off (a loss of 24 at iteration 2); 0.003 learns the sine in 100 iterations
  large: { cell: "lstm", hidden: 256, layers: 2, iters: 100, lr: 0.003 },
};

function pickSineSize(): void {
  const form = $<HTMLFormElement>("sine-form");
  const size = SINE_SIZES[choice(form, "size")];
  if (size === undefined) return;
  field(form, "cell").value = size.cell;
  field(form, "hidden").value = String(size.hidden);
  field(form, "layers").value = String(size.layers);
  field(form, "iters").value = String(size.iters);
  field(form, "lr").value = String(size.lr);
}

/** The chart's title (short, for a half-width chart) and the model in the subtitle. */
function sineTitle(iters: number, iter: number | null): string {
  return iter === null
    ? `Sine experiment, ${iters} iterations`
    : `Sine experiment, iteration ${iter + 1} of ${iters}`;
}

function sineProgress(p: {
  iter: number;
  loss: number;
  elapsed: number;
  from: number;
  losses: Float32Array;
}): void {
  const o = sineOptions!;
  const s = state.sine;
  s.progressMessages++;
  for (let i = 0; i < p.losses.length; i++) s.losses[p.from + i] = p.losses[i];
  const done = p.iter + 1;
  $<HTMLProgressElement>("sine-progress").value = done / o.iters;
  if (sineFirstReport === null) sineFirstReport = { iter: p.iter, elapsed: p.elapsed };
  else if (p.iter > sineFirstReport.iter) {
    s.msPerStep = (1000 * (p.elapsed - sineFirstReport.elapsed)) / (p.iter - sineFirstReport.iter);
  }
  const rate = s.msPerStep !== null ? ` · ${msText(s.msPerStep)} per iteration` : "";
  $("sine-status").textContent =
    `Iteration ${done} of ${o.iters} · loss ${sci(p.loss)} · ${p.elapsed.toFixed(1)} s${rate} · ${deviceText(s.device, s.adapter)}`;
  const losses = s.losses.slice();
  chart("sine-loss-chart", "sine", (w) => sineLossSpec(losses, o.iters, w));
}

function sinePreview(p: SinePrediction & { iter: number }): void {
  const o = sineOptions!;
  state.sine.previews++;
  state.sine.preview = p;
  chart("sine-chart", "sine", (w) =>
    sineSpec(p, sineTitle(o.iters, p.iter), w, `${sineModelName(o)}; while training, window from t = 0`),
  );
}

function sineDone(r: SineJobResult): void {
  const o = sineOptions!;
  const { losses, ...rest } = r;
  state.sine.result = rest;
  state.sine.losses = Array.from(losses);
  state.sine.preview = r.prediction;
  setStatus("sine", r.stopped ? "stopped" : "done");
  $<HTMLProgressElement>("sine-progress").value = r.itersRun / o.iters;
  const s = state.sine;
  const on = deviceText(s.device, s.adapter);
  if (s.msPerStep === null) s.msPerStep = (1000 * r.trainSeconds) / Math.max(1, r.itersRun);
  $("sine-status").textContent = r.stopped
    ? `Stopped after ${r.itersRun} of ${o.iters} iterations on ${on}; the model as it was is kept and shown.`
    : `Done: ${r.itersRun} iterations in ${r.trainSeconds.toFixed(2)} s on ${on} (${msText(s.msPerStep)} per iteration).`;
  if (s.device !== null) {
    const t = (s.timings[r.modelName] ??= {});
    t[s.device] = s.msPerStep;
    showTimings(r.modelName);
  }
  const all = Array.from(losses);
  chart("sine-loss-chart", "sine", (w) => sineLossSpec(all, o.iters, w), "final");
  chart(
    "sine-chart",
    "sine",
    (w) => sineSpec(r.prediction, sineTitle(r.itersRun, null), w, r.modelName),
    "final",
  );
  const K = r.options.context;
  const figures: [string, string, string][] = [
    ["final loss", sci(r.finalLoss), "final-loss"],
    ["mean loss, last 100 iterations", sci(r.meanLossLast100), "mean-loss"],
    ["notes' prediction MSE", `${sci(r.notesMse)} over ${r.prediction.notesPred.length} steps`, "notes-mse"],
    [
      "context forecast MSE",
      `${sci(r.contextMse)} over ${r.prediction.contextPred.length} steps (notes' on the same steps: ${sci(r.notesMseSameSpan)})`,
      "context-mse",
    ],
    [
      "training",
      `${r.trainSeconds.toFixed(2)} s, ${Math.round(r.itersRun / Math.max(r.trainSeconds, 1e-9))} it/s, ${
        s.device === "webgpu" ? on : `CPU, kernels ${s.backend ?? "?"}`
      }`,
      "time",
    ],
    [
      "prediction window",
      `t = linspace(${r.prediction.start}, ${r.prediction.start + 10}, ${r.options.steps}); context K = ${K}`,
      "window",
    ],
  ];
  $("sine-figures").replaceChildren(
    ...figures.flatMap(([k, v, key]) => [h("dt", {}, k), h("dd", { "data-figure": key }, v)]),
  );
}

// ===================================================================================== csv panel

/** The loaded series as its file (a Blob: the workers read it; this thread never holds its text). */
let csvFile: Blob | null = null;
let csvName = "";
let trained: { bytes: Uint8Array; fileName: string } | null = null;

const MAX_CSV_BYTES = 50 * 1024 * 1024;

/**
 * Empties everything computed from the series loaded before: the training's charts, scores, forecast
 * and checkpoint download, and a checkpoint's forecast of that series. Called when another series is
 * loaded and when a load fails, so no result stays on screen beside data it was not computed from. A
 * training or checkpoint job still running on the old series is abandoned.
 */
function clearDatasetResults(): void {
  if (current !== null && (current.kind === "csv" || current.kind === "checkpoint")) abandonJob();
  state.csv.epochs = [];
  state.csv.result = null;
  state.csv.backend = null;
  setStatus("csv", "idle");
  $("csv-results").replaceChildren();
  clearChart("csv-loss-chart");
  clearChart("csv-forecast-chart");
  progress("csv-progress", 0);
  trained = null;
  $<HTMLButtonElement>("ckpt-download").disabled = true;
  $<HTMLButtonElement>("ckpt-download-onnx").disabled = true;
  state.checkpoint.result = null;
  setStatus("checkpoint", "idle");
  $("ckpt-info").textContent = "";
  $("ckpt-status").textContent = "";
  $("ckpt-results").replaceChildren();
  clearChart("ckpt-chart");
  clearError("checkpoint");
}

/** Forgets the loaded series (menus emptied, Train off). */
function unloadCsv(status: string): void {
  clearDatasetResults();
  csvFile = null;
  state.csv.loaded = null;
  $("csv-info").textContent = "No data loaded.";
  fillSelect("csv-target", [], null);
  $<HTMLSelectElement>("csv-target").disabled = true;
  $<HTMLSelectElement>("csv-date").disabled = true;
  $("csv-status").textContent = status;
  setBusy(current !== null);
}

/** A load that failed: no series is loaded any more, and nothing computed from the last one is shown. */
function failLoad(msg: string): void {
  unloadCsv("Load a series to train on.");
  showError("csv", msg);
}

/** Fills the column menus from a CSV's summary (read by the parse worker). */
function setCsv(file: Blob, sum: CsvSummary): void {
  const { name, numeric, others } = sum;
  csvFile = file;
  csvName = name;
  state.csv.loaded = { name, rows: sum.rows, header: sum.header, dateColumn: sum.dateColumn };
  const preferred = numeric.includes("CO2") ? "CO2" : numeric.includes("temp_max") ? "temp_max" : numeric[0];
  fillSelect("csv-target", numeric, preferred);
  const dateSel = $<HTMLSelectElement>("csv-date");
  dateSel.replaceChildren(
    h("option", { value: "auto" }, `auto${sum.dateColumn ? ` (${sum.dateColumn})` : " (none found)"}`),
    h("option", { value: "none" }, "none"),
    ...sum.header.map((c) => h("option", { value: c }, c)),
  );
  dateSel.value = "auto";
  $<HTMLSelectElement>("csv-target").disabled = false;
  dateSel.disabled = false;
  const span =
    sum.firstDate !== null
      ? `, dates in “${sum.dateColumn}” from ${sum.firstDate} to ${sum.lastDate}`
      : ", no date column";
  $("csv-info").replaceChildren(
    h("strong", {}, name),
    `: ${sum.rows} rows${span}; numeric columns ${numeric.join(", ")}${others.length ? ` (not numeric: ${others.join(", ")})` : ""}`,
  );
  $("csv-status").textContent = "Ready to train.";
  setBusy(current !== null);
}

function fillSelect(id: string, values: string[], selected: string | null): void {
  const sel = $<HTMLSelectElement>(id);
  sel.replaceChildren(...values.map((v) => h("option", { value: v }, v)));
  if (selected !== null) sel.value = selected;
}

// The parse worker: one read at a time; a new read, or Stop, ends the one before with its worker.
let parser: Worker | null = null;
let parsing: { id: number; name: string } | null = null;

function stopParsing(): void {
  parser?.terminate();
  parser = null;
  parsing = null;
  if (state.csv.phase === "reading") state.csv.phase = "idle";
}

/** Reads `file` in the parse worker, then fills the menus (or shows why it cannot be used). */
function readCsv(file: Blob, name: string): void {
  clearError("csv");
  stopParsing();
  unloadCsv(`Reading ${name} (${(file.size / 1e6).toFixed(file.size < 1e5 ? 2 : 1)} MB)…`);
  progress("csv-progress", null);
  const id = nextId++;
  parsing = { id, name };
  state.csv.phase = "reading";
  parser = new Worker(new URL("./parse-worker.js", import.meta.url), {
    type: "module",
    name: "recurrent-csv",
  });
  const done = () => {
    stopParsing();
    progress("csv-progress", 0);
    setBusy(current !== null);
  };
  parser.onmessage = (e: MessageEvent<FromParser>) => {
    if (parsing?.id !== e.data.id) return;
    done();
    if (e.data.ok) setCsv(file, e.data.summary);
    else failLoad(e.data.message);
  };
  parser.onerror = (e) => {
    e.preventDefault();
    done();
    failLoad(`Could not read ${name}: ${e.message || "the CSV reader failed"}`);
  };
  parser.postMessage({ id, file, name } satisfies ToParser);
  setBusy(current !== null);
}

async function loadDataset(): Promise<void> {
  clearError("csv");
  const name = ($("csv-dataset") as HTMLSelectElement).value;
  const url = `datasets/${name}`;
  $("csv-status").textContent = `Loading ${name}…`;
  try {
    const res = await fetch(url);
    if (!res.ok) throw new Error(`the server answered ${res.status} ${res.statusText} for ${url}`);
    readCsv(await res.blob(), name);
  } catch (e) {
    failLoad(`Could not load the shipped series ${name}: ${errorText(e)}`);
  }
}

function loadCsvFile(file: File): void {
  clearError("csv");
  if (file.size > MAX_CSV_BYTES) {
    failLoad(
      `${file.name} is ${(file.size / 1e6).toFixed(1)} MB; the playground reads CSV files up to ${MAX_CSV_BYTES / 1e6} MB`,
    );
    return;
  }
  readCsv(file, file.name);
}

let csvOptions: CsvJobOptions | null = null;

function startCsv(): void {
  clearError("csv");
  if (csvFile === null) {
    showError("csv", "Load a series first: a shipped one, or your own CSV file.");
    return;
  }
  const form = $<HTMLFormElement>("csv-form");
  let o: CsvJobOptions;
  try {
    o = {
      target: choice(form, "target"),
      dateColumn: choice(form, "dateColumn"),
      fill: choice<FillChoice>(form, "fill"),
      epochs: num(form, "epochs", { integer: true, min: 1, max: 10000 }),
      lookback: num(form, "lookback", { integer: true, min: 1, max: 10000 }),
      horizon: num(form, "horizon", { integer: true, min: 1, max: 10000 }),
      cell: choice(form, "cell"),
      hidden: num(form, "hidden", { integer: true, min: 1, max: 512 }),
      lr: num(form, "lr", { above: 0 }),
      seed: num(form, "seed", { integer: true }),
      batchSize: 32,
      patience: 10,
      season: 0,
    };
  } catch (e) {
    showError("csv", errorText(e));
    return;
  }
  if (!o.target) {
    showError("csv", "Choose the target column to forecast.");
    return;
  }
  csvOptions = o;
  state.csv.epochs = [];
  state.csv.result = null;
  $("csv-results").replaceChildren();
  clearChart("csv-loss-chart");
  clearChart("csv-forecast-chart");
  $<HTMLProgressElement>("csv-progress").value = 0;
  $("csv-status").textContent = `Training on ${csvName}…`;
  const csv = csvFile;
  const source = csvName;
  state.csv.phase = "training";
  send("csv", (id) => ({ type: "csv", id, kernels: kernels(), csv, source, options: o }));
}

function csvLossTitle(o: CsvJobOptions): string {
  const net = { cell: o.cell, inputSize: 1, hidden: o.hidden, layers: 1, horizon: o.horizon };
  return `${o.target}: training of ${describeNet(net)}`;
}

function csvEpoch(e: EpochProgress): void {
  const o = csvOptions!;
  state.csv.epochs.push(e);
  $<HTMLProgressElement>("csv-progress").value = e.done / e.planned;
  $("csv-status").textContent =
    `Epoch ${e.done} of ${e.planned} · loss ${sci(e.loss)} · validation ${e.valLoss === null ? "–" : sci(e.valLoss)} · lr ${e.lr.toExponential(1)}${e.improved ? " · best so far" : ""}`;
  const history = state.csv.epochs.map((x) => ({ epoch: x.epoch, loss: x.loss, valLoss: x.valLoss }));
  chart("csv-loss-chart", "csv", (w) => epochLossSpec(history, csvLossTitle(o), w));
}

function scoresTable(id: string, rows: ScoreRow[]): HTMLTableElement {
  const best = Math.min(...rows.map((r) => r.mase));
  return h(
    "table",
    { id, class: "scores" },
    h(
      "thead",
      {},
      h("tr", {}, ...["forecaster", "MAE", "RMSE", "sMAPE %", "MASE"].map((c) => h("th", {}, c))),
    ),
    h(
      "tbody",
      {},
      ...rows.map((r) =>
        h(
          "tr",
          { "data-name": r.name, ...(r.mase === best ? { class: "best" } : {}) },
          h("th", {}, r.name),
          ...[r.mae, r.rmse, r.smape, r.mase].map((v) => h("td", { "data-value": String(v) }, fmt(v))),
        ),
      ),
    ),
  );
}

function futureTable(id: string, r: ForecastJobResult): HTMLTableElement {
  const f = r.future;
  const key = f.dates !== null ? "date" : "step";
  return h(
    "table",
    { id, class: "forecast" },
    h("thead", {}, h("tr", {}, h("th", {}, key), h("th", {}, r.checkpoint.target))),
    h(
      "tbody",
      {},
      ...f.values.map((v, i) =>
        h(
          "tr",
          {},
          h("td", {}, f.dates?.[i] ?? String(f.steps[i])),
          h("td", { "data-value": String(v) }, fmt(v, 6)),
        ),
      ),
    ),
  );
}

function verdict(rows: ScoreRow[]): string {
  const [m, naive, seasonal] = rows.map((r) => r.mase);
  const beats = [m < naive ? "naive" : null, m < seasonal ? "seasonal naive" : null].filter(
    (x) => x !== null,
  );
  const base =
    beats.length === 2
      ? "The model beats both baselines."
      : beats.length === 1
        ? `The model beats ${beats[0]} only.`
        : "The model does not beat the baselines (train longer, or change lookback, hidden size or learning rate).";
  // rows after the first three are the classical models (ETS, ARIMA, Theta, seasonal naive with drift)
  const classical = rows.slice(3);
  if (classical.length === 0) return base;
  const best = classical.reduce((a, b) => (b.mase < a.mase ? b : a));
  if (Math.abs(m - best.mase) <= 1e-6 * Math.max(best.mase, 1e-12))
    return `${base} It scores as the best classical model, ${best.name}: it is that model, or forecasts as it does.`;
  return m < best.mase
    ? `${base} It also beats the classical models (best: ${best.name}).`
    : `${base} A classical model does better: ${best.name} (MASE ${fmt(best.mase)}).`;
}

function evaluationBlock(r: ForecastJobResult, tableId: string): HTMLElement[] {
  const ev = r.evaluation;
  if (ev === null) return [h("p", { class: "note" }, r.evaluationNote ?? "no backtest")];
  return [
    h(
      "p",
      {},
      `Rolling-origin backtest on the held-out test part: ${ev.testRows} rows, ${ev.windows} forecast origins from ${ev.firstOrigin} to ${ev.lastOrigin}, horizon ${ev.horizon}${ev.horizonCut ? " (the test part's length, shorter than the trained horizon)" : ""}, season ${ev.season}.`,
    ),
    scoresTable(tableId, ev.scores),
    h(
      "p",
      { class: "note" },
      `MASE divides MAE by the in-sample seasonal-naive error (m=${ev.season}) before the test part; below 1 beats it. ${verdict(ev.scores)}`,
    ),
  ];
}

function csvDone(r: CsvJobResult): void {
  const o = csvOptions!;
  const { bytes, ...rest } = r;
  state.csv.result = rest;
  trained = { bytes, fileName: r.fileName };
  $<HTMLButtonElement>("ckpt-download").disabled = false;
  $<HTMLButtonElement>("ckpt-download-onnx").disabled = false;
  setStatus("csv", r.stopped === "interrupted" ? "stopped" : "done");
  const reason =
    r.stopped === "interrupted"
      ? "stopped; the best epoch so far is kept"
      : r.stopped === "early-stop"
        ? "stopped early: the validation loss stopped improving"
        : r.stopped === "non-finite"
          ? "stopped by a non-finite value; the best epoch before it is kept"
          : "ran the epochs asked for";
  $("csv-status").textContent =
    `Done: ${r.epochsRun} epoch(s) in ${r.seconds.toFixed(1)} s (${reason}); best epoch ${r.checkpoint.bestEpoch}.`;
  if (r.warning) showError("csv", r.warning);
  const history = r.checkpoint.history;
  chart(
    "csv-loss-chart",
    "csv",
    (w) =>
      epochLossSpec(history, csvLossTitle(o), w, `MSE in scaled units; best epoch ${r.checkpoint.bestEpoch}`),
    "final",
  );
  const ev = r.evaluation;
  if (ev !== null) {
    chart(
      "csv-forecast-chart",
      "csv",
      (w) =>
        forecastSpec(ev.chart, {
          title: `${r.checkpoint.target}: forecast of the held-out test part`,
          subtitle: `${r.checkpoint.modelName}; blocks of ${ev.horizon} steps, each from the true history`,
          yLabel: r.checkpoint.target,
          names: { forecast: "model forecast" },
          width: w,
        }),
      "final",
    );
  }
  const s = r.split;
  $("csv-results").replaceChildren(
    h(
      "p",
      {},
      `${r.checkpoint.modelName} on ${r.data.columns.join(", ")} (lookback ${r.checkpoint.lookback}, horizon ${r.checkpoint.horizon}); `,
      `split: train ${s.train} rows (${s.windows.train} windows), validation ${s.val} (${s.windows.val}), test ${s.test} (${s.windows.test})`,
      r.data.insertedDates > 0 ? `; ${r.data.insertedDates} missing date(s) inserted and filled` : "",
      ".",
    ),
    ...evaluationBlock(r, "csv-scores"),
    h("h3", {}, `The next ${r.future.values.length} steps`),
    futureTable("csv-future", r),
  );
}

// ===================================================================================== checkpoints

function downloadCheckpoint(): void {
  if (trained === null) return;
  const blob = new Blob([trained.bytes as BlobPart], { type: "application/octet-stream" });
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: trained.fileName });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The trained forecaster as ONNX (raw values in, forecasts out), made from the checkpoint's bytes. */
async function downloadOnnx(): Promise<void> {
  if (trained === null) return;
  clearError("checkpoint");
  let bytes: Uint8Array;
  try {
    // The library's ONNX writer is loaded when first asked for, not with the page.
    // A bundle of its own (scripts/build-web.mjs), named at run time so the page's bundle leaves it out.
    const url = new URL("./onnx.js", import.meta.url).href;
    const { checkpointToOnnx } = (await import(url)) as typeof import("./onnx.js");
    bytes = checkpointToOnnx(trained.bytes, trained.fileName);
  } catch (e) {
    showError("checkpoint", (e as Error).message);
    return;
  }
  const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: "application/octet-stream" }));
  const a = h("a", { href: url, download: trained.fileName.replace(/\.safetensors$/, ".onnx") });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function loadCheckpoint(file: File): Promise<void> {
  clearError("checkpoint");
  // running from the moment a file is chosen (reading it is asynchronous): a status left "done" by the
  // checkpoint before would otherwise read as this one's until the job starts
  setStatus("checkpoint", "running");
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await file.arrayBuffer());
  } catch (e) {
    setStatus("checkpoint", "error");
    showError("checkpoint", `Could not read ${file.name}: ${errorText(e)}`);
    return;
  }
  if (csvFile === null) {
    setStatus("checkpoint", "error");
    showError(
      "checkpoint",
      `${file.name}: load a series first (under “Forecast a CSV”, a shipped one or your own file): the checkpoint forecasts the series loaded there`,
    );
    return;
  }
  state.checkpoint.result = null;
  $("ckpt-info").textContent = "";
  $("ckpt-results").replaceChildren();
  clearChart("ckpt-chart");
  $("ckpt-status").textContent = `Forecasting ${csvName} with ${file.name}…`;
  progress("ckpt-progress", null);
  const form = $<HTMLFormElement>("csv-form");
  const fill = choice<FillChoice>(form, "fill");
  const csv = csvFile;
  const source = csvName;
  send("checkpoint", (id) => ({
    type: "checkpoint",
    id,
    kernels: kernels(),
    bytes,
    source: file.name,
    csv,
    csvSource: source,
    fill,
  }));
}

function checkpointDone(r: ForecastJobResult): void {
  state.checkpoint.result = r;
  setStatus("checkpoint", "done");
  $("ckpt-status").textContent = "Done.";
  const c = r.checkpoint;
  $("ckpt-info").replaceChildren(
    h("strong", {}, c.source),
    `: ${c.modelName} forecasting ${c.target} from ${c.columns.join(", ")} (lookback ${c.lookback}, horizon ${c.horizon}); trained ${c.epochs} epoch(s), best epoch ${c.bestEpoch} (${c.monitor} ${sci(c.bestLoss)}), written by recurrent ${c.libraryVersion}. Forecasting ${r.data.source}: ${r.data.rows} rows${r.data.lastDate ? ` to ${r.data.lastDate}` : ""}.`,
  );
  chart(
    "ckpt-chart",
    "checkpoint",
    (w) =>
      forecastSpec(r.future.chart, {
        title: `${c.target}: ${r.future.values.length}-step forecast`,
        subtitle: `${c.modelName}, lookback ${c.lookback} (${c.source})`,
        yLabel: c.target,
        width: w,
      }),
    "final",
  );
  $("ckpt-results").replaceChildren(
    h("h3", {}, `The next ${r.future.values.length} steps`),
    futureTable("ckpt-forecast", r),
    ...evaluationBlock(r, "ckpt-scores"),
  );
}

// ===================================================================================== gradients

function startGradients(): void {
  clearError("gradients");
  const form = $<HTMLFormElement>("grad-form");
  let o: GradJobOptions;
  try {
    o = {
      seqLen: num(form, "seqLen", { integer: true, min: 1, max: 1000 }),
      hidden: num(form, "hidden", { integer: true, min: 1, max: 256 }),
      inputSize: num(form, "inputSize", { integer: true, min: 1, max: 256 }),
      initScale: num(form, "initScale", { above: 0 }),
      forgetBias: optionalNum(form, "forgetBias"),
      seed: num(form, "seed", { integer: true }),
      input: choice(form, "input"),
      jacobian: (field(form, "jacobian") as HTMLInputElement).checked,
    };
  } catch (e) {
    showError("gradients", errorText(e));
    return;
  }
  $("grad-results").replaceChildren();
  state.gradients.progress = null;
  progress("grad-progress", 0);
  $("grad-status").textContent = "Starting…";
  send("gradients", (id) => ({ type: "gradients", id, kernels: kernels(), options: o }));
}

const CELL_NAME = { rnn: "RNN", lstm: "LSTM", gru: "GRU" } as const;

function gradProgress(p: GradProgress): void {
  state.gradients.progress = p;
  const frac = (p.index + (p.total > 0 ? p.done / p.total : 0)) / p.of;
  progress("grad-progress", frac);
  $("grad-status").textContent =
    p.done === 0
      ? `${CELL_NAME[p.cell]} (${p.index + 1} of ${p.of}): forward and backward…`
      : `${CELL_NAME[p.cell]} (${p.index + 1} of ${p.of}): Jacobian products, step ${p.done} of ${p.total}`;
}

/** The ratio and how to read it (the command's words: an underflow to 0 is said, not "n/a"). */
function ratioText(c: CellFlow): string {
  const g = c.gradH;
  const { ratio, text } = flowRatio(g[0], g[g.length - 1]);
  return Number.isFinite(ratio) && ratio > 0 ? `${sci(ratio)} (${text})` : text;
}

function gradientsDone(r: GradJobResult): void {
  state.gradients.result = r;
  setStatus("gradients", "done");
  $("grad-status").textContent = `Done: ${r.options.seqLen} steps, hidden size ${r.options.hidden}.`;
  chart("grad-flow-chart", "gradients", (w) => gradFlowSpec(r.options, r.cells, w), "final");
  const jac = $("grad-jacobian-chart");
  if (r.cells.every((c) => c.jacobianH !== null)) {
    chart("grad-jacobian-chart", "gradients", (w) => gradJacobianSpec(r.options, r.cells, w)!, "final");
  } else {
    clearChart("grad-jacobian-chart");
    jac.replaceChildren(h("p", { class: "note" }, "Jacobian products not computed."));
  }
  $("grad-results").replaceChildren(
    h(
      "table",
      { class: "scores", id: "grad-table" },
      h(
        "thead",
        {},
        h("tr", {}, ...["model", "‖W_hh‖₂", "loss", "‖∂L/∂h_1‖ / ‖∂L/∂h_T‖"].map((c) => h("th", {}, c))),
      ),
      h(
        "tbody",
        {},
        ...r.cells.map((c) =>
          h(
            "tr",
            { "data-name": c.cell },
            h("th", {}, c.module),
            h("td", {}, fmt(c.weightHhSpectral)),
            h("td", {}, fmt(c.loss)),
            h("td", {}, ratioText(c)),
          ),
        ),
      ),
    ),
  );
}

let clipSteps = 1;

function startClip(): void {
  clearError("gradients");
  const form = $<HTMLFormElement>("clip-form");
  let o: ClipJobOptions;
  try {
    o = {
      cell: choice(form, "cell"),
      hidden: num(form, "hidden", { integer: true, min: 1, max: 256 }),
      initScale: num(form, "initScale", { above: 0 }),
      clip: num(form, "clip", { above: 0 }),
      steps: num(form, "steps", { integer: true, min: 1, max: 5000 }),
      lr: num(form, "lr", { above: 0 }),
      seed: num(form, "seed", { integer: true }),
    };
  } catch (e) {
    showError("gradients", errorText(e));
    return;
  }
  $("clip-status").textContent = "Training…";
  clipSteps = o.steps;
  progress("clip-progress", 0);
  send("clip", (id) => ({ type: "clip", id, kernels: kernels(), options: o }));
}

function clipDone(r: ClipSummary): void {
  state.clip.result = r;
  setStatus("clip", "done");
  const u = r.unclipped;
  const c = r.clipped;
  const last = (v: number[]) => v[v.length - 1];
  $("clip-status").textContent =
    `Without clipping: ${u.divergedAt === null ? `final loss ${sci(last(u.loss))}` : `diverged at step ${u.divergedAt + 1}`}. Clip ${r.clip}: ${c.divergedAt === null ? `final loss ${sci(last(c.loss))}` : `diverged at step ${c.divergedAt + 1}`}.`;
  chart("clip-norm-chart", "gradients", (w) => clipNormSpec(r, w), "final");
  chart("clip-loss-chart", "gradients", (w) => clipLossSpec(r, w), "final");
}

// ===================================================================================== wiring

function wire(): void {
  $("isolation").textContent = state.crossOriginIsolated
    ? "This page is cross-origin isolated."
    : "This page is not cross-origin isolated (serve it with scripts/serve-web.mjs for that).";
  const on = <K extends keyof HTMLElementEventMap>(
    id: string,
    ev: K,
    f: (e: HTMLElementEventMap[K]) => void,
  ) => $(id).addEventListener(ev, f);
  on("sine-form", "submit", (e) => {
    e.preventDefault();
    startSine();
  });
  on("sine-size", "change", pickSineSize);
  for (const name of ["cell", "hidden", "layers"]) {
    field($<HTMLFormElement>("sine-form"), name).addEventListener("change", () => {
      $<HTMLSelectElement>("sine-size").value = "custom";
    });
  }
  for (const [kind, id] of Object.entries(STOP_BUTTON) as [JobKind, string][]) {
    on(id, "click", () => stopJob(kind));
  }
  on("csv-load-dataset", "click", () => void loadDataset());
  on("csv-file", "change", () => {
    const input = $<HTMLInputElement>("csv-file");
    const file = input.files?.[0];
    if (file) loadCsvFile(file);
    input.value = "";
  });
  const drop = $("csv-drop");
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    const files = e.dataTransfer?.files;
    if (!files || files.length === 0) {
      showError("csv", "Nothing to read in what was dropped: drop a CSV file.");
      return;
    }
    if (files.length > 1) {
      showError("csv", `${files.length} files were dropped; drop one CSV file.`);
      return;
    }
    loadCsvFile(files[0]);
  });
  on("csv-form", "submit", (e) => {
    e.preventDefault();
    startCsv();
  });
  on("ckpt-download", "click", downloadCheckpoint);
  on("ckpt-download-onnx", "click", () => void downloadOnnx());
  on("ckpt-file", "change", () => {
    const input = $<HTMLInputElement>("ckpt-file");
    const file = input.files?.[0];
    if (file) void loadCheckpoint(file);
    input.value = "";
  });
  on("grad-form", "submit", (e) => {
    e.preventDefault();
    startGradients();
  });
  on("clip-form", "submit", (e) => {
    e.preventDefault();
    startClip();
  });
  // Dropping a file anywhere else would make the browser open it and leave the page.
  window.addEventListener("dragover", (e) => e.preventDefault());
  window.addEventListener("drop", (e) => e.preventDefault());
  setBusy(false);
  // The chart libraries after the first paint: a frame, then a task, so the forms are on screen first.
  requestAnimationFrame(() =>
    setTimeout(
      () =>
        preloadCharts()
          .then(() => warmCharts())
          .catch((e) => showError("global", `Could not load the chart libraries: ${errorText(e)}`)),
      0,
    ),
  );
  try {
    startWorker();
  } catch (e) {
    showError("global", `Could not start the training worker: ${errorText(e)}`);
  }
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", wire);
else wire();
