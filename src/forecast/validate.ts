// Checking a checkpoint before anything is built from it. A checkpoint may come from a stranger: every
// field of its metadata is checked for its type, for sane bounds, and against the weights it describes,
// before a network, a window buffer or an optimizer state is allocated from it. One place for it, used by
// `decodeCheckpoint` (so by `recurrent forecast`, `evaluate`, `train --resume` and the playground) and by
// `recurrent gradients` (through `recurrentArchOf` and `checkDeclaredArch`).
//
// The weights themselves are bounded by the file that holds them; every size the metadata declares must
// equal a size the weights have, so nothing the metadata says can make us allocate more than the file
// holds. Fields that no tensor pins down (lookback, rows) get fixed upper bounds (LIMITS).
//
// Messages name the file and the field: "co2.safetensors: metadata says num_layers = 1e308, but the
// weights hold 1 layer".
//
// Three kinds of forecast checkpoint share the data and split sections (checkDataSplit): the recurrent
// network (validateForecastCheckpoint), the hybrid ensemble (validateHybridCheckpoint: weights
// `members.{k}.*`, config in `recurrent.hybrid`) and ETS (validateEtsCheckpoint: no weights, the fitted
// model in `recurrent.ets`). Each reads the weights first, since they are what the file really holds.

import { MAX_LAYERS } from "../core/limits.js";
import type { Tensor } from "../core/tensor.js";
import { CheckpointError } from "./errors.js";

/** Upper bounds for the sizes that the weights do not pin down. */
export const LIMITS = Object.freeze({
  /** Rows of history one forecast reads. */
  lookback: 1_000_000,
  /** Rows of the training series. */
  rows: 100_000_000,
  /** Months in a calendar date step (100 years). */
  stepMonths: 1200,
  /** Seconds in a fixed date step (1000 years). */
  stepSeconds: 1000 * 366 * 86400,
  /** Epochs in a training history. */
  epochs: 10_000_000,
  /**
   * Steps one forecast makes at once where no weights pin them down (ETS): its intervals with a
   * multiplicative season simulate 5,000 paths of every step (40 KB a step).
   */
  horizon: 2_000,
  /** An ETS season (R's forecast::ets takes at most 24). */
  etsPeriod: 24,
  /** A Fourier term's period, in steps. */
  fourierPeriod: 1_000_000,
  /** An ARIMA season, in steps (a year of days). */
  arimaPeriod: 366,
});

/** The largest finite float32. */
export const FLOAT32_MAX = 3.4028234663852886e38;
/** The smallest positive normal float32. */
const FLOAT32_MIN_NORMAL = 1.1754943508222875e-38;

export type Cell = "rnn" | "lstm" | "gru";

/** A recurrent layer's configuration as its weights show it. */
export interface RecurrentArch {
  cell: Cell;
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  bidirectional: boolean;
  bias: boolean;
  /** LSTM projection size (weight_hr), 0 for none. */
  projSize: number;
}

/** A value as a message shows it: numbers as JSON writes them (1e308, not 1e+308), strings quoted. */
export function show(v: unknown): string {
  if (v === undefined) return "nothing";
  if (typeof v === "number") return Number.isNaN(v) ? "NaN" : String(v).replace("e+", "e");
  if (typeof v === "string") return JSON.stringify(v.length > 60 ? `${v.slice(0, 57)}...` : v);
  let s: string;
  try {
    s = JSON.stringify(v) ?? String(v);
  } catch {
    s = String(v);
  }
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

const shapeOf = (t: Tensor): string => `[${t.shape.join(", ")}]`;
const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/**
 * Reads the configuration of a recurrent layer (PyTorch's names `weight_ih_l0`, ... under `prefix`) from
 * the shapes of its weights, and checks that every tensor of that configuration is there with the shape
 * it must have, and no other under the layer's names. `fail` throws with a message.
 */
export function recurrentArchOf(
  sd: Record<string, Tensor>,
  prefix: string,
  fail: (msg: string) => never,
): RecurrentArch {
  const get = (k: string): Tensor | undefined => (Object.hasOwn(sd, prefix + k) ? sd[prefix + k] : undefined);
  const wIh = get("weight_ih_l0");
  const wHh = get("weight_hh_l0");
  if (wIh === undefined) fail(`the weights have no ${prefix}weight_ih_l0 (no recurrent layer)`);
  if (wHh === undefined) fail(`the weights have ${prefix}weight_ih_l0 but no ${prefix}weight_hh_l0`);
  if (wIh.ndim !== 2 || wHh.ndim !== 2) {
    fail(
      `${prefix}weight_ih_l0 and ${prefix}weight_hh_l0 must be matrices, got shapes ${shapeOf(wIh)} and ${shapeOf(wHh)}`,
    );
  }
  const wHr = get("weight_hr_l0");
  if (wHr !== undefined && wHr.ndim !== 2)
    fail(`${prefix}weight_hr_l0 must be a matrix, got ${shapeOf(wHr)}`);
  const R = wHh.shape[1]; // size of h
  const H = wHr !== undefined ? wHr.shape[1] : R;
  const G = wHh.shape[0];
  const gates = H > 0 ? G / H : 0;
  const cell: Cell | null = gates === 4 ? "lstm" : gates === 3 ? "gru" : gates === 1 ? "rnn" : null;
  if (cell === null || H < 1) {
    fail(
      `${prefix}weight_hh_l0 has shape ${shapeOf(wHh)}: its ${G} rows should be 1 (RNN), 3 (GRU) or 4 (LSTM) times the hidden size ${H}`,
    );
  }
  const projSize = wHr !== undefined ? R : 0;
  if (wHr !== undefined && (cell !== "lstm" || !(R >= 1 && R < H))) {
    fail(
      `${prefix}weight_hr_l0 has shape ${shapeOf(wHr)}: a projection needs an LSTM and a size below the hidden size`,
    );
  }
  const I = wIh.shape[1];
  const bidirectional = get("weight_ih_l0_reverse") !== undefined;
  const bias = get("bias_ih_l0") !== undefined;
  let numLayers = 0;
  while (get(`weight_ih_l${numLayers}`) !== undefined) numLayers++;
  if (numLayers > MAX_LAYERS) {
    fail(
      `the weights hold ${numLayers} stacked layers, more than the ${MAX_LAYERS} one module may have here`,
    );
  }
  const D = bidirectional ? 2 : 1;
  const hOut = projSize > 0 ? projSize : H;
  const expected = new Map<string, number[]>();
  for (let l = 0; l < numLayers; l++) {
    for (let d = 0; d < D; d++) {
      const sfx = `_l${l}${d === 1 ? "_reverse" : ""}`;
      expected.set(`weight_ih${sfx}`, [G, l === 0 ? I : hOut * D]);
      expected.set(`weight_hh${sfx}`, [G, hOut]);
      if (bias) {
        expected.set(`bias_ih${sfx}`, [G]);
        expected.set(`bias_hh${sfx}`, [G]);
      }
      if (projSize > 0) expected.set(`weight_hr${sfx}`, [projSize, H]);
    }
  }
  for (const [k, shape] of expected) {
    const t = get(k);
    if (t === undefined) {
      fail(
        `the weights of a ${plural(numLayers, "layer")} ${cell.toUpperCase()}${bidirectional ? " (bidirectional)" : ""} need ${prefix}${k}, which is missing`,
      );
    }
    if (t.shape.length !== shape.length || t.shape.some((n, i) => n !== shape[i])) {
      fail(
        `${prefix}${k} has shape ${shapeOf(t)}, but a ${cell.toUpperCase()}(${I}, ${H}) layer needs [${shape.join(", ")}]`,
      );
    }
  }
  const layerKey = /^(weight|bias)_(ih|hh|hr)_l\d+(_reverse)?$/;
  for (const k of Object.keys(sd)) {
    if (!k.startsWith(prefix)) continue;
    const rest = k.slice(prefix.length);
    if (layerKey.test(rest) && !expected.has(rest)) {
      fail(
        `the weights hold ${k}, which a ${plural(numLayers, "layer")} ${cell.toUpperCase()}${bidirectional ? " (bidirectional)" : ""} does not have`,
      );
    }
  }
  return { cell, inputSize: I, hiddenSize: H, numLayers, bidirectional, bias, projSize };
}

/** How the weights show a field, for "but the weights hold ..." */
function heldAs(field: string, v: unknown): string {
  if (field === "num_layers") return plural(v as number, "layer");
  if (field === "cell") return `an ${String(v).toUpperCase()}`.replace("an GRU", "a GRU");
  if (field === "hidden_size") return `a hidden size of ${v}`;
  if (field === "input_size") return `${plural(v as number, "input column")}`;
  if (field === "horizon") return `${plural(v as number, "output")} (head.weight rows)`;
  return show(v);
}

/**
 * Compares a declared `recurrent.model` section with what the weights show; `fail` gets "metadata says
 * num_layers = 1e308, but the weights hold 1 layer". Only the fields present are compared.
 */
export function checkDeclaredArch(
  declared: Record<string, unknown>,
  arch: RecurrentArch,
  fail: (msg: string) => never,
): void {
  for (const [k, v] of [
    ["cell", arch.cell],
    ["input_size", arch.inputSize],
    ["hidden_size", arch.hiddenSize],
    ["num_layers", arch.numLayers],
  ] as const) {
    if (Object.hasOwn(declared, k) && declared[k] !== v) {
      fail(`metadata says ${k} = ${show(declared[k])}, but the weights hold ${heldAs(k, v)}`);
    }
  }
}

// ---------------------------------------------------------------- field checks

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => v !== null && typeof v === "object" && !Array.isArray(v);
const isInt = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);
const isFiniteNum = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** Field checks bound to one file and one metadata section. */
class Fields {
  constructor(
    readonly source: string,
    readonly section: string,
    readonly o: Obj,
  ) {}

  fail(field: string, expected: string): never {
    const v = this.o[field];
    throw new CheckpointError(
      `${this.source}: metadata says ${this.section}.${field} = ${show(v)}; expected ${expected}`,
    );
  }

  has(field: string): boolean {
    return Object.hasOwn(this.o, field);
  }

  int(field: string, lo: number, hi: number): number {
    const v = this.o[field];
    if (!isInt(v) || v < lo || v > hi) this.fail(field, `an integer in [${lo}, ${show(hi)}]`);
    return v;
  }

  num(field: string, ok: (v: number) => boolean, what: string): number {
    const v = this.o[field];
    if (!isFiniteNum(v) || !ok(v)) this.fail(field, what);
    return v;
  }

  str(field: string, nullable = false): string | null {
    const v = this.o[field];
    if (nullable && v === null) return null;
    if (typeof v !== "string") this.fail(field, nullable ? "a string or null" : "a string");
    return v;
  }

  oneOf<T extends string>(field: string, options: readonly T[]): T {
    const v = this.o[field];
    if (typeof v !== "string" || !options.includes(v as T))
      this.fail(field, `one of ${options.map((s) => JSON.stringify(s)).join(", ")}`);
    return v as T;
  }

  range(field: string, rows: number): [number, number] {
    const v = this.o[field];
    if (
      !Array.isArray(v) ||
      v.length !== 2 ||
      !isInt(v[0]) ||
      !isInt(v[1]) ||
      v[0] < 0 ||
      v[1] < v[0] ||
      v[1] > rows
    ) {
      this.fail(field, `[start, end) with 0 <= start <= end <= ${rows} (the rows)`);
    }
    return [v[0], v[1]];
  }
}

function section(source: string, name: string, v: unknown): Fields {
  if (!isObj(v)) {
    throw new CheckpointError(
      `${source}: the checkpoint is damaged: metadata "recurrent.${name}" is ${show(v)}, not an object`,
    );
  }
  return new Fields(source, name, v);
}

/** Checks the scaler's numbers, and that its factors and their inverses are finite, nonzero float32. */
function checkScaler(source: string, raw: unknown, F: number): void {
  const s = section(source, "data.scaler", raw);
  const type = s.oneOf("type", ["standard", "minmax"]);
  const arr = (field: string, n: number): number[] => {
    const v = s.o[field];
    if (!Array.isArray(v) || v.length !== n || !v.every(isFiniteNum))
      s.fail(field, `${plural(n, "finite number")}`);
    return v as number[];
  };
  const factor = (field: string, i: number, mul: number, add: number) => {
    const ok = (x: number) => Number.isFinite(x) && Math.abs(x) <= FLOAT32_MAX;
    if (!ok(mul) || !ok(add) || Math.abs(mul) < FLOAT32_MIN_NORMAL || !ok(1 / mul)) {
      throw new CheckpointError(
        `${source}: metadata says data.scaler.${field}[${i}] = ${show((s.o[field] as number[])[i])}, which makes the scaling factor ${show(Number(mul.toPrecision(6)))}: scaled values (or forecasts scaled back) would not fit float32`,
      );
    }
  };
  if (type === "standard") {
    const mean = arr("mean", F);
    const scale = arr("scale", F);
    for (let c = 0; c < F; c++) {
      if (!(scale[c] > 0)) s.fail("scale", "positive numbers");
      factor("scale", c, 1 / scale[c], -mean[c] / scale[c]);
    }
  } else {
    const range = arr("featureRange", 2);
    if (!(range[0] < range[1])) s.fail("featureRange", "[lo, hi] with lo < hi");
    const lo = arr("dataMin", F);
    const hi = arr("dataMax", F);
    for (let c = 0; c < F; c++) {
      if (!(hi[c] >= lo[c])) s.fail("dataMax", "numbers >= dataMin");
      const span = hi[c] - lo[c];
      const mul = (range[1] - range[0]) / (span === 0 ? 1 : span);
      factor("dataMax", c, mul, range[0] - lo[c] * mul);
    }
  }
}

function checkDateStep(source: string, v: unknown): void {
  if (v === null) return;
  const s = section(source, "data.date_step", v);
  if (s.has("months")) {
    s.oneOf("kind", ["monthly", "quarterly", "yearly", "months"]);
    s.int("months", 1, LIMITS.stepMonths);
  } else {
    s.oneOf("kind", ["daily", "weekly", "seconds"]);
    s.num(
      "seconds",
      (x) => x > 0 && x <= LIMITS.stepSeconds && Number.isInteger(x * 1000),
      `a positive number of seconds (whole milliseconds) up to ${LIMITS.stepSeconds}`,
    );
  }
}

/** The metadata sections of a forecast checkpoint, parsed from JSON but not yet trusted. */
export interface RawForecastMeta {
  model: unknown;
  data: unknown;
  split: unknown;
  training: unknown;
  optimizer?: unknown;
  scheduler?: unknown;
}

const FORECAST_KEYS = /^(rnn\.|head\.)/;

/**
 * Validates a forecast checkpoint's metadata against its types, bounds and weights (ForecastNet's state
 * dict: `rnn.*` and `head.weight`, `head.bias`). Throws a CheckpointError naming `source` and the field.
 */
export function validateForecastCheckpoint(
  meta: RawForecastMeta,
  tensors: Record<string, Tensor>,
  source: string,
): void {
  const bad: (msg: string) => never = (msg) => {
    throw new CheckpointError(`${source}: ${msg}`);
  };
  // The weights first: they are what the file really holds.
  for (const k of Object.keys(tensors)) {
    if (!FORECAST_KEYS.test(k))
      bad(`the weights hold ${show(k)}, which a forecast model (rnn.*, head.*) does not have`);
  }
  const arch = recurrentArchOf(tensors, "rnn.", bad);
  if (arch.bidirectional || arch.projSize > 0 || !arch.bias) {
    bad(
      `the weights are a ${arch.bidirectional ? "bidirectional " : ""}${arch.projSize > 0 ? "projected " : ""}${arch.bias ? "" : "bias-free "}${arch.cell.toUpperCase()}, which a forecast model is not`,
    );
  }
  const hw = Object.hasOwn(tensors, "head.weight") ? tensors["head.weight"] : undefined;
  const hb = Object.hasOwn(tensors, "head.bias") ? tensors["head.bias"] : undefined;
  if (hw === undefined || hb === undefined)
    bad(`the weights have no ${hw === undefined ? "head.weight" : "head.bias"}`);
  if (hw.ndim !== 2 || hw.shape[1] !== arch.hiddenSize || hw.shape[0] < 1) {
    bad(
      `head.weight has shape ${shapeOf(hw)}, but after a hidden size of ${arch.hiddenSize} it needs [horizon, ${arch.hiddenSize}]`,
    );
  }
  const horizon = hw.shape[0];
  if (hb.ndim !== 1 || hb.shape[0] !== horizon)
    bad(`head.bias has shape ${shapeOf(hb)}, but head.weight needs [${horizon}]`);

  // recurrent.model: every size equals the weights'.
  const m = section(source, "model", meta.model);
  for (const k of ["cell", "input_size", "hidden_size", "num_layers", "horizon"]) {
    if (!m.has(k)) m.fail(k, "the field (the model's configuration)");
  }
  checkDeclaredArch(m.o, arch, bad); // equal to the weights', so of the right type and bounded by the file
  if (m.o.horizon !== horizon)
    bad(`metadata says horizon = ${show(m.o.horizon)}, but the weights hold ${heldAs("horizon", horizon)}`);
  const dropout = m.num("dropout", (x) => x >= 0 && x < 1, "a number in [0, 1)");
  if (dropout > 0 && arch.numLayers < 2)
    m.fail("dropout", "0 for a single layer (dropout acts between layers)");
  if (typeof m.o.batch_first !== "boolean") m.fail("batch_first", "true or false");
  const F = arch.inputSize;

  checkDataSplit(source, meta.data, meta.split, { F, horizon, windowFits: true });
  checkTraining(source, meta.training);
  if (meta.scheduler !== undefined) checkScheduler(source, meta.scheduler);
}

/** What the data and split sections must agree with: the input columns and horizon the model has. */
interface DataSplitExpect {
  F: number;
  horizon: number;
  /** Where `horizon` comes from, for messages (default "weights'"). */
  horizonFrom?: string;
  /** Whether one window of lookback + horizon must fit in the rows (not for ETS, which has no windows). */
  windowFits: boolean;
}

/**
 * Checks `recurrent.data` and `recurrent.split`, which every kind of forecast checkpoint has, against the
 * model's inputs and horizon; returns the rows and lookback they declare.
 */
function checkDataSplit(
  source: string,
  rawData: unknown,
  rawSplit: unknown,
  o: DataSplitExpect,
): { rows: number; lookback: number } {
  // recurrent.data
  const d = section(source, "data", rawData);
  const target = d.str("target") as string;
  const { F, horizon } = o;
  const cols = d.o.columns;
  if (!Array.isArray(cols) || cols.length !== F || !cols.every((c) => typeof c === "string")) {
    d.fail("columns", `${plural(F, "column name")} (the model reads ${plural(F, "input")})`);
  }
  const columns = cols as string[];
  if (new Set(columns).size !== columns.length) d.fail("columns", "distinct names");
  const ti = d.int("target_index", 0, F - 1);
  if (columns[ti] !== target)
    d.fail("target_index", `the position of the target ${show(target)} in data.columns`);
  const rows = d.int("rows", 2, LIMITS.rows);
  const lookback = d.int("lookback", 1, Math.min(LIMITS.lookback, rows));
  if (d.o.horizon !== horizon) d.fail("horizon", `${horizon}, the ${o.horizonFrom ?? "weights'"} horizon`);
  if (o.windowFits && lookback + horizon > rows)
    d.fail(
      "lookback",
      `at most ${rows - horizon}: one window of lookback + horizon ${horizon} must fit in the ${rows} rows trained on`,
    );
  if (d.has("fill") && d.o.fill !== null) d.oneOf("fill", ["ffill", "linear", "drop"]);
  const dateColumn = d.str("date_column", true);
  if (dateColumn !== null && columns.includes(dateColumn))
    d.fail("date_column", "a column that is not also a numeric input");
  checkDateFormatOf(source, d.o.date_format);
  checkDateStep(source, d.o.date_step);
  d.oneOf("window_norm", ["last", "none"]);
  checkScaler(source, d.o.scaler, F);
  for (const k of ["first_date", "last_date"]) if (d.has(k)) d.str(k, true);

  // recurrent.split
  const s = section(source, "split", rawSplit);
  for (const k of ["val", "test"]) {
    s.num(
      k,
      (x) => x >= 0 && (x < 1 || Number.isInteger(x)),
      "a fraction in [0, 1) or a whole number of rows",
    );
  }
  if (s.o.rows !== rows) s.fail("rows", `${rows}, the rows of data.rows`);
  const tr = s.range("train_range", rows);
  const va = s.range("val_range", rows);
  const te = s.range("test_range", rows);
  if (tr[0] !== 0 || va[0] !== tr[1] || te[0] !== va[1] || te[1] !== rows) {
    s.fail(
      "train_range",
      `train, validation and test ranges that follow one another and cover the ${rows} rows (got ${show(tr)}, ${show(va)}, ${show(te)})`,
    );
  }
  if (s.has("test_start_date")) s.str("test_start_date", true);
  if (s.has("windows")) {
    const w = section(source, "split.windows", s.o.windows);
    for (const k of ["train", "val", "test"]) w.int(k, 0, rows);
  }
  return { rows, lookback };
}

/** Checks `recurrent.training`: `strict` for the recurrent network, whose history resuming reads. */
function checkTraining(source: string, raw: unknown, strict = true): void {
  const t = section(source, "training", raw);
  if (!strict) {
    // the hybrid's and ETS's: a record of how the file was made, which nothing computes from
    const hist = t.o.history;
    if (!Array.isArray(hist) || hist.length > LIMITS.epochs) t.fail("history", "an array of epoch records");
    t.str("stopped");
    return;
  }
  t.num("seed", (x) => Number.isSafeInteger(x), "an integer");
  t.num("lr", (x) => x > 0, "a positive number");
  const hist = t.o.history;
  if (!Array.isArray(hist) || hist.length > LIMITS.epochs) t.fail("history", "an array of epoch records");
  (hist as unknown[]).forEach((raw, i) => {
    const e = section(source, `training.history[${i}]`, raw);
    e.int("epoch", 1, LIMITS.epochs);
    e.num("loss", (x) => x >= 0, "a finite loss >= 0");
    if (e.o.val_loss !== null) e.num("val_loss", (x) => x >= 0, "a finite loss >= 0 or null");
    e.num("lr", (x) => x > 0, "a positive number");
    e.num("seconds", (x) => x >= 0, "a number of seconds >= 0");
  });
  t.int("best_epoch", 0, (hist as unknown[]).length);
  t.num("best_loss", (x) => x >= 0, "a finite loss >= 0");
  t.str("stopped");
  if (t.has("seconds")) t.num("seconds", (x) => x >= 0, "a number of seconds >= 0");
  if (t.has("batch_size")) t.int("batch_size", 1, Number.MAX_SAFE_INTEGER);
  if (t.has("clip")) t.num("clip", (x) => x >= 0, "a number >= 0");
  for (const k of ["patience", "lr_patience"]) if (t.has(k)) t.int(k, 0, Number.MAX_SAFE_INTEGER);
  if (t.has("lr_factor")) t.num("lr_factor", (x) => x > 0 && x < 1, "a number in (0, 1)");
  if (t.has("min_lr")) t.num("min_lr", (x) => x >= 0, "a number >= 0");
}

function checkDateFormatOf(source: string, v: unknown): void {
  if (v === null) return;
  const f = section(source, "data.date_format", v);
  f.oneOf("precision", ["year", "month", "day", "minute", "second", "millisecond"]);
  f.oneOf("separator", ["T", " "]);
  if (typeof f.o.utc !== "boolean") f.fail("utc", "true or false");
}

/** ReduceLROnPlateau's state as training saves it. */
function checkScheduler(source: string, raw: unknown): void {
  const s = section(source, "scheduler", raw);
  const nonNegInt = ["patience", "cooldown", "cooldown_counter", "num_bad_epochs"];
  for (const k of nonNegInt) if (s.has(k)) s.int(k, 0, Number.MAX_SAFE_INTEGER);
  if (s.has("last_epoch")) s.int("last_epoch", -1, Number.MAX_SAFE_INTEGER);
  if (s.has("factor")) s.num("factor", (x) => x > 0 && x < 1, "a number in (0, 1)");
  for (const k of ["threshold", "eps"]) if (s.has(k)) s.num(k, (x) => x >= 0, "a number >= 0");
  if (s.has("best") && s.o.best !== null) s.num("best", () => true, "a finite number or null");
  if (s.has("mode")) s.oneOf("mode", ["min", "max"]);
  if (s.has("threshold_mode")) s.oneOf("threshold_mode", ["rel", "abs"]);
  for (const k of ["min_lrs", "_last_lr"]) {
    if (!s.has(k)) continue;
    const v = s.o[k];
    if (!Array.isArray(v) || v.length !== 1 || !v.every((x) => isFiniteNum(x) && x >= 0))
      s.fail(k, "one finite number >= 0 (one parameter group)");
  }
}

/**
 * Checks an Adam state dict read from a checkpoint against the parameters it updates (their sizes in
 * `parameters()` order): one group, sane hyper-parameters, buffers of the right length holding finite
 * numbers (exp_avg_sq >= 0), whole step counts.
 */
export function validateOptimizerState(
  opt: { state: Record<string, Record<string, unknown>>; param_groups: unknown[] },
  sizes: readonly number[],
  source: string,
): void {
  const bad: (msg: string) => never = (msg) => {
    throw new CheckpointError(`${source}: metadata says ${msg}`);
  };
  if (opt.param_groups.length !== 1)
    bad(`optimizer.param_groups has ${opt.param_groups.length} groups; expected 1`);
  const g = section(source, "optimizer.param_groups[0]", opt.param_groups[0]);
  const params = g.o.params;
  if (!Array.isArray(params) || params.length !== sizes.length || params.some((p, i) => p !== i)) {
    g.fail("params", `[0, ..., ${sizes.length - 1}] (the model's ${sizes.length} parameters)`);
  }
  g.num("lr", (x) => x > 0, "a positive learning rate");
  if (g.has("eps")) g.num("eps", (x) => x >= 0, "a number >= 0");
  if (g.has("weight_decay")) g.num("weight_decay", (x) => x >= 0, "a number >= 0");
  if (g.has("betas")) {
    const b = g.o.betas;
    if (!Array.isArray(b) || b.length !== 2 || !b.every((x) => isFiniteNum(x) && x >= 0 && x < 1))
      g.fail("betas", "two numbers in [0, 1)");
  }
  if (g.has("initial_lr")) g.num("initial_lr", (x) => x > 0, "a positive learning rate");
  for (const [key, entry] of Object.entries(opt.state)) {
    const i = Number(key);
    if (!Number.isInteger(i) || i < 0 || i >= sizes.length || String(i) !== key) {
      bad(`optimizer.state has an entry ${show(key)}; expected parameter indices 0 to ${sizes.length - 1}`);
    }
    const e = section(source, `optimizer.state[${key}]`, entry);
    // Adam's state: a step count and its two buffers (a state without them would be read as empty)
    if (!isInt(e.o.step)) e.fail("step", "a whole number of steps >= 0");
    for (const name of ["exp_avg", "exp_avg_sq"]) {
      if (!(e.o[name] instanceof Float32Array)) e.fail(name, `a float32 buffer of ${sizes[i]} values`);
    }
    for (const [name, v] of Object.entries(e.o)) {
      if (name === "step") {
        e.num("step", (x) => Number.isInteger(x) && x >= 0, "a whole number of steps >= 0");
      } else if (v instanceof Float32Array) {
        if (v.length !== sizes[i]) e.fail(name, `${sizes[i]} values (its parameter's size)`);
        for (let j = 0; j < v.length; j++) {
          if (!Number.isFinite(v[j]) || (name === "exp_avg_sq" && v[j] < 0)) {
            bad(
              `optimizer.state[${key}].${name}[${j}] = ${show(v[j])}; expected a finite number${name === "exp_avg_sq" ? " >= 0" : ""}`,
            );
          }
        }
      } else if (v !== null) {
        e.fail(name, "a float32 buffer, a step count or null");
      }
    }
  }
}

// ---------------------------------------------------------------- the hybrid and ETS

/** The parameters a hybrid member has beside its LSTM and head (model.ts, HybridMember). */
const MEMBER_SCALARS = ["alpha_logit", "beta_logit", "trend_init", "gamma_logit"] as const;
const MEMBER_KEY = /^members\.(0|[1-9]\d{0,8})\.(.+)$/;

/** Checks that every value of every tensor is a finite float32. */
function checkFiniteWeights(tensors: Record<string, Tensor>, bad: (msg: string) => never): void {
  for (const [name, t] of Object.entries(tensors)) {
    if (t.dtype !== "float32") bad(`tensor ${name} is ${t.dtype}; expected float32 weights`);
    const a = t.data as Float32Array;
    for (let i = 0; i < a.length; i++) {
      if (!Number.isFinite(a[i]))
        bad(`tensor ${name} holds ${show(a[i])} at element ${i}; weights must be finite`);
    }
  }
}

/** `recurrent.model` as the hybrid and ETS write it: one LSTM's shape, the horizon (see hybrid/run.ts). */
function checkFamilyModel(
  source: string,
  raw: unknown,
  want: { hidden_size?: number; num_layers?: number; horizon: number },
): void {
  const m = section(source, "model", raw);
  for (const [k, v] of Object.entries(want)) {
    if (m.o[k] !== v) m.fail(k, k === "horizon" ? `${v}, the model's horizon` : `${v}, as the weights hold`);
  }
}

/** A list of Fourier terms {period, harmonics}; returns 2 * the harmonics (the features they make). */
function fourierCount(c: Fields, field: string): number {
  const v = c.o[field];
  if (!Array.isArray(v) || v.length > 16) c.fail(field, "an array of at most 16 {period, harmonics} terms");
  let n = 0;
  (v as unknown[]).forEach((raw, i) => {
    const t = section(c.source, `${c.section}.${field}[${i}]`, raw);
    t.num(
      "period",
      (x) => x >= 1 && x <= LIMITS.fourierPeriod,
      `a period in [1, ${LIMITS.fourierPeriod}] steps`,
    );
    n += 2 * t.int("harmonics", 1, 1000);
  });
  return n;
}

/** The raw metadata of a hybrid checkpoint: the common sections and `recurrent.hybrid`. */
export interface RawHybridMeta extends RawForecastMeta {
  hybrid: unknown;
}

/**
 * Validates a hybrid checkpoint (hybrid/checkpoint.ts) before its ensemble is built: the weights' names
 * and shapes (members `members.0` to `members.{K-1}`, each the same LSTM, head and smoothing
 * parameters), their values (finite float32), then `recurrent.hybrid.config` against them (members,
 * hidden, layers, horizon, season, trend, Fourier terms), its scale and intervals, and the common
 * model, data and split sections. Throws a CheckpointError naming `source` and the field.
 */
export function validateHybridCheckpoint(
  meta: RawHybridMeta,
  tensors: Record<string, Tensor>,
  source: string,
): void {
  const bad: (msg: string) => never = (msg) => {
    throw new CheckpointError(`${source}: ${msg}`);
  };
  // The weights first: group them by member.
  const byMember = new Map<number, Record<string, Tensor>>();
  for (const [k, t] of Object.entries(tensors)) {
    const m = MEMBER_KEY.exec(k);
    if (m === null) bad(`the weights hold ${show(k)}, which a hybrid model (members.{k}.*) does not have`);
    const i = Number(m[1]);
    if (!byMember.has(i)) byMember.set(i, {});
    byMember.get(i)![m[2]] = t;
  }
  const K = byMember.size;
  if (K === 0) bad("the weights hold no hybrid member (members.0.*)");
  for (let i = 0; i < K; i++) {
    if (!byMember.has(i))
      bad(
        `the weights hold ${plural(K, "member")} but not members.${i}: members must be numbered 0 to ${K - 1}`,
      );
  }
  const m0 = byMember.get(0)!;
  const arch = recurrentArchOf(m0, "rnn.", (msg) => bad(`members.0: ${msg}`));
  if (arch.cell !== "lstm" || arch.bidirectional || arch.projSize > 0 || !arch.bias) {
    bad(
      `members.0.rnn is a ${arch.bidirectional ? "bidirectional " : ""}${arch.projSize > 0 ? "projected " : ""}${arch.bias ? "" : "bias-free "}${arch.cell.toUpperCase()}; a hybrid member holds an LSTM with biases`,
    );
  }
  const hw = m0["head.weight"];
  const hb = m0["head.bias"];
  if (hw === undefined || hb === undefined)
    bad(`the weights have no members.0.${hw === undefined ? "head.weight" : "head.bias"}`);
  if (hw.ndim !== 2 || hw.shape[1] !== arch.hiddenSize || hw.shape[0] < 1) {
    bad(
      `members.0.head.weight has shape ${shapeOf(hw)}, but after a hidden size of ${arch.hiddenSize} it needs [horizon, ${arch.hiddenSize}]`,
    );
  }
  const H = hw.shape[0];
  if (hb.ndim !== 1 || hb.shape[0] !== H)
    bad(`members.0.head.bias has shape ${shapeOf(hb)}, but members.0.head.weight needs [${H}]`);
  for (const k of MEMBER_SCALARS) {
    const t = m0[k];
    if (t !== undefined && t.data.length !== 1)
      bad(`members.0.${k} has shape ${shapeOf(t)}; expected one value`);
  }
  if (m0.alpha_logit === undefined) bad("the weights have no members.0.alpha_logit");
  const trend = m0.beta_logit !== undefined;
  if ((m0.trend_init !== undefined) !== trend)
    bad("members.0 has one of beta_logit and trend_init without the other (a trend needs both)");
  const si = m0.season_init;
  if (si !== undefined && (si.ndim !== 1 || si.shape[0] < 1))
    bad(`members.0.season_init has shape ${shapeOf(si)}; expected [season]`);
  const season = si === undefined ? 0 : si.shape[0];
  if ((m0.gamma_logit !== undefined) !== season > 0)
    bad("members.0 has one of gamma_logit and season_init without the other (a season needs both)");
  const fo = m0.fourier;
  if (fo !== undefined && (fo.ndim !== 1 || fo.shape[0] < 1))
    bad(`members.0.fourier has shape ${shapeOf(fo)}; expected [terms]`);
  const learned = fo === undefined ? 0 : fo.shape[0];
  // every member holds the same names and shapes as members.0
  const names0 = Object.keys(m0).sort();
  for (let i = 1; i < K; i++) {
    const mi = byMember.get(i)!;
    for (const k of Object.keys(mi)) {
      if (!Object.hasOwn(m0, k)) bad(`the weights hold members.${i}.${k}, which members.0 does not have`);
    }
    for (const k of names0) {
      const t = Object.hasOwn(mi, k) ? mi[k] : undefined;
      if (t === undefined) bad(`the weights have members.0.${k} but no members.${i}.${k}`);
      if (shapeOf(t) !== shapeOf(m0[k]))
        bad(`members.${i}.${k} has shape ${shapeOf(t)}, but members.0.${k} has ${shapeOf(m0[k])}`);
    }
  }
  checkFiniteWeights(tensors, bad);

  // recurrent.hybrid: its config against the weights
  const h = section(source, "hybrid", meta.hybrid);
  const c = section(source, "hybrid.config", h.o.config);
  const mode = c.oneOf("mode", ["multiplicative", "additive"]);
  const eq = (field: string, v: number | boolean, what: string) => {
    if (c.o[field] !== v) c.fail(field, `${show(v)}, as the weights hold ${what}`);
  };
  eq("members", K, plural(K, "member"));
  eq("hidden", arch.hiddenSize, `a hidden size of ${arch.hiddenSize}`);
  eq("layers", arch.numLayers, plural(arch.numLayers, "layer"));
  eq("horizon", H, `${plural(H, "output")} (head.weight rows)`);
  eq("season", season, season === 0 ? "no season_init" : `a season_init of ${season}`);
  eq("trend", trend, trend ? "beta_logit and trend_init" : "no trend parameters");
  const inputs = (mode === "additive" ? 1 : 0) + 1 + fourierCount(c, "inputTerms");
  if (inputs !== arch.inputSize) {
    c.fail(
      "inputTerms",
      `terms that give the ${plural(arch.inputSize, "input")} members.0.rnn reads (with mode ${show(mode)} these give ${inputs})`,
    );
  }
  if (fourierCount(c, "learnedTerms") !== learned)
    c.fail(
      "learnedTerms",
      `terms with ${learned / 2} harmonics in all, as members.0.fourier holds ${learned} values`,
    );
  const lookback = c.int("lookback", 1, LIMITS.lookback);
  const time = c.oneOf("time", ["epoch-steps", "row"]);
  if (time === "row" ? c.o.stepMs !== null : true) {
    if (time === "row") c.fail("stepMs", "null (time is counted in rows)");
    c.num(
      "stepMs",
      (x) => x > 0 && x <= 1000 * LIMITS.stepSeconds,
      `a positive step in milliseconds up to ${1000 * LIMITS.stepSeconds}`,
    );
  }
  const sc = section(source, "hybrid.config.scale", c.o.scale);
  const offset = sc.num("offset", (x) => Math.abs(x) <= FLOAT32_MAX, "a finite float32 number");
  const scale = sc.num(
    "scale",
    (x) => x >= FLOAT32_MIN_NORMAL && x <= FLOAT32_MAX,
    "a positive float32 number (a normal one: its inverse must be finite)",
  );
  if (mode === "multiplicative" && offset !== 0) sc.fail("offset", "0 for a multiplicative model");
  const iv = section(source, "hybrid.intervals", h.o.intervals);
  const q = iv.o.quantiles;
  if (
    !Array.isArray(q) ||
    q.length !== H ||
    !q.every((r) => Array.isArray(r) && r.length === 4 && r.every(isFiniteNum))
  ) {
    iv.fail("quantiles", `${H} rows (the horizon) of 4 finite numbers`);
  }
  (q as number[][]).forEach((r, i) => {
    if (!(r[0] <= r[1] && r[1] <= r[2] && r[2] <= r[3]) || r.some((x) => Math.abs(x) > 700))
      bad(
        `metadata says hybrid.intervals.quantiles[${i}] = ${show(r)}; expected 4 increasing residual quantiles (2.5, 10, 90, 97.5 %) of magnitude at most 700`,
      );
  });
  if (h.o.val_mase !== null) h.num("val_mase", (x) => x >= 0, "a finite number >= 0 or null");
  const members = h.o.members;
  if (!Array.isArray(members) || members.length !== K)
    h.fail("members", `${plural(K, "record")} (one per member in the weights)`);
  if (typeof h.o.refit !== "boolean") h.fail("refit", "true or false");

  // the common sections: one LSTM's shape, and data in the hybrid's working units
  checkFamilyModel(source, meta.model, {
    hidden_size: arch.hiddenSize,
    num_layers: arch.numLayers,
    horizon: H,
  });
  const ds = checkDataSplit(source, meta.data, meta.split, { F: 1, horizon: H, windowFits: true });
  const d = section(source, "data", meta.data);
  if (ds.lookback !== lookback) d.fail("lookback", `${lookback}, hybrid.config.lookback`);
  const sj = d.o.scaler as Obj;
  if (sj.type !== "standard" || (sj.mean as number[])[0] !== offset || (sj.scale as number[])[0] !== scale) {
    d.fail(
      "scaler",
      `the hybrid's working units, a standard scaler of mean ${show(offset)} and scale ${show(scale)}`,
    );
  }
  checkTraining(source, meta.training, false);
  if (meta.optimizer !== undefined)
    bad("the metadata holds recurrent.optimizer, but a hybrid checkpoint has no optimizer state to resume");
  if (meta.scheduler !== undefined) checkScheduler(source, meta.scheduler);
}

/** The raw metadata of an ETS checkpoint: the common sections and `recurrent.ets`. */
export interface RawEtsMeta extends RawForecastMeta {
  ets: unknown;
}

/**
 * Validates an ETS checkpoint (hybrid/fallback.ts): no weights, `recurrent.ets` = {spec, type, params,
 * period} with parameters that the filter can run with (smoothing in [0, 1], damping in (0, 1], finite
 * initial states, a season of `period` values, positive where multiplicative), and the common sections.
 */
export function validateEtsCheckpoint(
  meta: RawEtsMeta,
  tensors: Record<string, Tensor>,
  source: string,
): void {
  refuseWeights(tensors, source, "ETS");
  const e = section(source, "ets", meta.ets);
  const ty = section(source, "ets.type", e.o.type);
  const error = ty.oneOf("error", ["A", "M"]);
  const trend = ty.oneOf("trend", ["N", "A", "Ad"]);
  const seasonType = ty.oneOf("season", ["N", "A", "M"]);
  if (error === "A" && seasonType === "M")
    ty.fail("season", `"N" or "A" with additive errors (ETS(A,*,M) is not a model forecast::ets allows)`);
  const spec = `ETS(${error},${trend},${seasonType})`;
  if (e.o.spec !== spec) e.fail("spec", `${show(spec)}, as ets.type says`);
  const period = e.int("period", 1, LIMITS.etsPeriod);
  if (seasonType !== "N" && period < 2) e.fail("period", `a season of 2 to ${LIMITS.etsPeriod} steps`);
  const p = section(source, "ets.params", e.o.params);
  const unit = (field: string, lo: number) =>
    p.num(field, (x) => x >= lo && x <= 1, lo > 0 ? "a number in (0, 1]" : "a number in [0, 1]");
  unit("alpha", 0);
  unit("beta", 0);
  unit("gamma", 0);
  p.num("phi", (x) => x > 0 && x <= 1, "a damping factor in (0, 1]");
  const level = p.num("level", (x) => Math.abs(x) <= FLOAT32_MAX, "a finite initial level");
  p.num("trend", (x) => Math.abs(x) <= FLOAT32_MAX, "a finite initial trend");
  if (error === "M" && !(level > 0)) p.fail("level", "a positive initial level (multiplicative errors)");
  const s = p.o.season;
  const n = seasonType === "N" ? 0 : period;
  if (!Array.isArray(s) || s.length !== n || !s.every((x) => isFiniteNum(x) && Math.abs(x) <= FLOAT32_MAX))
    p.fail("season", `${plural(n, "finite initial seasonal state")} (the period)`);
  if (seasonType === "M" && !(s as number[]).every((x) => x > 0))
    p.fail("season", "positive initial seasonal states (a multiplicative season)");

  checkClassicalSections(source, meta, "ETS");
}

/** The raw metadata of an ARIMA checkpoint: the common sections and `recurrent.arima`. */
export interface RawArimaMeta extends RawForecastMeta {
  arima: unknown;
}

/**
 * Validates an ARIMA checkpoint (hybrid/fallback.ts): no weights, `recurrent.arima` = {spec, order,
 * params, sigma2, log} with orders autoArima can choose (p, q ≤ 5, d ≤ 2, P, Q ≤ 2, D ≤ 1, a season of
 * 1 to 366 steps), one finite coefficient per order, a finite σ² ≥ 0, and the common sections.
 */
export function validateArimaCheckpoint(
  meta: RawArimaMeta,
  tensors: Record<string, Tensor>,
  source: string,
): void {
  refuseWeights(tensors, source, "ARIMA");
  const a = section(source, "arima", meta.arima);
  a.str("spec");
  const o = section(source, "arima.order", a.o.order);
  const p = o.int("p", 0, 5);
  o.int("d", 0, 2);
  const q = o.int("q", 0, 5);
  const m = o.has("m") ? o.int("m", 1, LIMITS.arimaPeriod) : 1;
  const P = o.has("P") ? o.int("P", 0, m > 1 ? 2 : 0) : 0;
  if (o.has("D")) o.int("D", 0, m > 1 ? 1 : 0);
  const Q = o.has("Q") ? o.int("Q", 0, m > 1 ? 2 : 0) : 0;
  const pr = section(source, "arima.params", a.o.params);
  const coefficients = (field: string, n: number) => {
    const v = pr.o[field];
    if (n === 0 && v === undefined) return;
    if (!Array.isArray(v) || v.length !== n || !v.every((x) => isFiniteNum(x) && Math.abs(x) <= 1e3))
      pr.fail(field, `${plural(n, "finite coefficient")} of magnitude at most 1000 (the order's)`);
  };
  coefficients("ar", p);
  coefficients("ma", q);
  coefficients("sar", P);
  coefficients("sma", Q);
  pr.num("constant", (x) => Math.abs(x) <= FLOAT32_MAX, "a finite number");
  a.num("sigma2", (x) => x >= 0 && x <= FLOAT32_MAX, "a finite number >= 0");
  if (a.has("log") && typeof a.o.log !== "boolean") a.fail("log", "true or false");

  checkClassicalSections(source, meta, "ARIMA");
}

/** A checkpoint of a model without weights (ETS, ARIMA) that holds some is refused, naming the first. */
function refuseWeights(tensors: Record<string, Tensor>, source: string, what: "ETS" | "ARIMA"): void {
  const names = Object.keys(tensors);
  if (names.length > 0) {
    throw new CheckpointError(
      `${source}: the weights hold ${show(names[0])}${names.length > 1 ? ` and ${names.length - 1} more` : ""}, but an ${what} checkpoint has no weights`,
    );
  }
}

/**
 * The common sections of a checkpoint without weights (ETS, ARIMA): the horizon is the model's own (no
 * weights hold it), the data and split as for every model, and no optimizer state to resume.
 */
function checkClassicalSections(source: string, meta: RawForecastMeta, what: "ETS" | "ARIMA"): void {
  const d = section(source, "data", meta.data);
  const H = d.int("horizon", 1, LIMITS.horizon);
  checkFamilyModel(source, meta.model, { horizon: H });
  checkDataSplit(source, meta.data, meta.split, {
    F: 1,
    horizon: H,
    horizonFrom: "model's",
    windowFits: false,
  });
  checkTraining(source, meta.training, false);
  if (meta.optimizer !== undefined)
    throw new CheckpointError(
      `${source}: the metadata holds recurrent.optimizer, but an ${what} checkpoint has no optimizer state`,
    );
  if (meta.scheduler !== undefined) checkScheduler(source, meta.scheduler);
}
