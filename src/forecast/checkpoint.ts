// Forecast checkpoints: one safetensors file holding the model's weights under PyTorch's names and, in
// `__metadata__`, everything needed to forecast again, evaluate, or resume training. Browser-safe: this
// file turns checkpoints into bytes and back; src/node writes them to disk.
//
// Tensors: exactly the ForecastNet state dict (`rnn.weight_ih_l0`, ..., `head.weight`, `head.bias`), so
// `torch.nn.Module.load_state_dict` takes the file's tensors as they are.
//
// Metadata (string -> string, as safetensors requires; JSON where structured):
//   format                    "pt" (the safetensors convention for PyTorch-layout weights)
//   recurrent.kind            "forecast"
//   recurrent.format_version  "1"
//   recurrent.library_version the library version that wrote the file
//   recurrent.model           {cell, input_size, hidden_size, num_layers, dropout, batch_first, horizon}
//   recurrent.data            {target, columns, target_index, lookback, horizon, fill, date_column,
//                              date_format, date_step, window_norm, scaler, rows, first_date, last_date,
//                              panel (many series: see panel-meta.ts)}
//   recurrent.split           {val, test (as given), rows, train/val/test [start, end), test_start_date,
//                              windows {train, val, test}}
//   recurrent.training        {seed, batch_size, lr, clip, patience, lr_patience, lr_factor, min_lr,
//                              monitor, best_epoch, best_loss, stopped, seconds, history: [{epoch, loss,
//                              val_loss, lr, seconds}]}
//   recurrent.optimizer       Adam's state dict at the best epoch, buffers as base64 little-endian float32
//   recurrent.scheduler       ReduceLROnPlateau's state dict at the best epoch
//
// How a forecast is computed from a checkpoint (what scripts/torch_forecast.py does too):
//   1. x = the last `lookback` rows of `columns` (T, F), scaled column by column with `scaler`
//      (standard: (x - mean) / scale; minmax: x * k + (lo - min * k) with k = (hi - lo) / (max - min)).
//   2. window_norm "last": ref = x[-1, target_index]; x[:, target_index] -= ref. ("none": ref = 0.)
//   3. y = ForecastNet(x) (H values), then y + ref, then the target column's inverse scaling.
// Steps 1 and 3 run in float64 and round to float32; the network runs in float32.

import type { DateFormat, DateStep } from "../data/dates.js";
import type { FillMethod } from "../data/series.js";
import type { SeriesSplit } from "../data/split.js";
import { type Scaler, type ScalerJSON, scalerFromJSON } from "../data/scaler.js";
import { Tensor } from "../core/tensor.js";
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from "../io/safetensors.js";
import type { OptimizerStateDict } from "../optim/optimizer.js";
import type { SchedulerStateDict } from "../optim/lr_scheduler.js";
import { CheckpointError } from "./errors.js";
import { ForecastNet, type ModelConfigJSON, modelConfigFromJSON } from "./model.js";
import { buildHybrid, checkHybridMeta, type HybridMetaJSON } from "./hybrid/checkpoint.js";
import { type ArimaMetaJSON, checkEtsMeta, type EtsMetaJSON } from "./hybrid/fallback.js";
import {
  validateArimaCheckpoint,
  validateEtsCheckpoint,
  validateForecastCheckpoint,
  validateHybridCheckpoint,
  validateOptimizerState,
} from "./validate.js";
import { checkPanelMeta, type PanelJSON } from "./panel-meta.js";

export const CHECKPOINT_KIND = "forecast";
export const CHECKPOINT_FORMAT_VERSION = 1;
/** The version of `recurrent` written into checkpoints (kept equal to package.json by a test). */
export const LIBRARY_VERSION = "0.1.0";

export type WindowNorm = "last" | "none";

export interface DataSpecJSON {
  target: string;
  /** Input columns in model order; the target among them at target_index. */
  columns: string[];
  target_index: number;
  lookback: number;
  horizon: number;
  fill: FillMethod | null;
  date_column: string | null;
  date_format: DateFormat | null;
  date_step: DateStep | null;
  window_norm: WindowNorm;
  scaler: ScalerJSON;
  /** Rows of the training series (after inserted dates or dropped rows). */
  rows: number;
  first_date: string | null;
  last_date: string | null;
  /** Many series (long format): their ids, scalers and splits; the fields above describe the first. */
  panel?: PanelJSON;
}

export interface SplitJSON {
  /** The sizes as given (fractions in [0, 1) or counts). */
  val: number;
  test: number;
  rows: number;
  train_range: [number, number];
  val_range: [number, number];
  test_range: [number, number];
  /** The date of the first test row, so evaluation finds the test part in a longer file. */
  test_start_date: string | null;
  windows: { train: number; val: number; test: number };
}

/** The split section of a checkpoint: the sizes as given, the ranges they gave on `rows` rows, the windows. */
export function splitToJSON(
  sizes: { val: number; test: number },
  rows: number,
  split: SeriesSplit,
  windows: SplitJSON["windows"],
  dateAt: (row: number) => string | null,
): SplitJSON {
  return {
    val: sizes.val,
    test: sizes.test,
    rows,
    train_range: [split.train.start, split.train.end],
    val_range: [split.val.start, split.val.end],
    test_range: [split.test.start, split.test.end],
    test_start_date: split.test.end > split.test.start ? dateAt(split.test.start) : null,
    windows,
  };
}

export interface EpochRecord {
  epoch: number;
  /** Mean training loss (MSE in model units) over the epoch's batches. */
  loss: number;
  /** Validation loss (MSE in model units), null without a validation part. */
  val_loss: number | null;
  /** The learning rate the epoch ran with. */
  lr: number;
  /** Wall time of the epoch. */
  seconds: number;
}

export interface TrainingJSON {
  seed: number;
  batch_size: number;
  /** The initial learning rate. */
  lr: number;
  /** Gradient-norm clip, 0 for none. */
  clip: number;
  patience: number;
  lr_patience: number;
  lr_factor: number;
  min_lr: number;
  /** What early stopping and the scheduler watch: "val_loss", or "loss" when there is no validation. */
  monitor: "val_loss" | "loss";
  /** The epoch whose weights are stored. */
  best_epoch: number;
  best_loss: number;
  /** "running" while training goes on, then "early-stop", "max-epochs", "interrupted" or "non-finite". */
  stopped: string;
  /** Total training time over all runs. */
  seconds: number;
  history: EpochRecord[];
}

export interface ForecastMeta {
  model: ModelConfigJSON;
  data: DataSpecJSON;
  split: SplitJSON;
  training: TrainingJSON;
  libraryVersion: string;
  /** Present for the hybrid forecaster (metadata `recurrent.hybrid`, see hybrid/checkpoint.ts). */
  hybrid?: HybridMetaJSON;
  /** Present when the saved forecaster is ETS (metadata `recurrent.ets`, see hybrid/fallback.ts). */
  ets?: EtsMetaJSON;
  /** Present when the saved forecaster is seasonal ARIMA (metadata `recurrent.arima`, hybrid/fallback.ts). */
  arima?: ArimaMetaJSON;
}

export interface ForecastCheckpoint {
  meta: ForecastMeta;
  /** The weights, by PyTorch name. */
  stateDict: Record<string, Tensor>;
  optimizer: OptimizerStateDict | null;
  scheduler: SchedulerStateDict | null;
}

// ---------------------------------------------------------------- base64 for optimizer buffers

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

function bytesToBase64(b: Uint8Array): string {
  let out = "";
  for (let i = 0; i < b.length; i += 3) {
    const n = (b[i] << 16) | ((b[i + 1] ?? 0) << 8) | (b[i + 2] ?? 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
    out += i + 1 < b.length ? B64[(n >> 6) & 63] : "=";
    out += i + 2 < b.length ? B64[n & 63] : "=";
  }
  return out;
}

function base64ToBytes(s: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) throw new Error("not base64");
  const pad = s.endsWith("==") ? 2 : s.endsWith("=") ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const v = (k: number) => (s[i + k] === "=" ? 0 : B64.indexOf(s[i + k]));
    const n = (v(0) << 18) | (v(1) << 12) | (v(2) << 6) | v(3);
    if (o < out.length) out[o++] = (n >> 16) & 255;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}

function f32ToBase64(a: Float32Array): string {
  const bytes = new Uint8Array(a.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < a.length; i++) view.setFloat32(4 * i, a[i], true);
  return bytesToBase64(bytes);
}

function base64ToF32(s: string): Float32Array {
  const bytes = base64ToBytes(s);
  if (bytes.length % 4 !== 0) throw new Error("not a whole number of float32 values");
  const view = new DataView(bytes.buffer);
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

function packOptimizer(o: OptimizerStateDict): unknown {
  const state: Record<string, Record<string, unknown>> = {};
  for (const [k, entry] of Object.entries(o.state)) {
    const e: Record<string, unknown> = {};
    for (const [name, v] of Object.entries(entry)) {
      e[name] = v instanceof Float32Array ? { f32: f32ToBase64(v) } : v;
    }
    state[k] = e;
  }
  return { state, param_groups: o.param_groups };
}

function unpackOptimizer(j: unknown): OptimizerStateDict {
  const o = j as { state?: unknown; param_groups?: unknown };
  if (
    o === null ||
    typeof o !== "object" ||
    typeof o.state !== "object" ||
    o.state === null ||
    !Array.isArray(o.param_groups)
  ) {
    throw new Error("expected {state, param_groups}");
  }
  const state: OptimizerStateDict["state"] = {};
  for (const [k, entry] of Object.entries(o.state as Record<string, Record<string, unknown>>)) {
    if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
      throw new Error(`state ${k} is ${JSON.stringify(entry)}, not an object of buffers`);
    }
    const e: Record<string, number | Float32Array | null> = {};
    for (const [name, v] of Object.entries(entry)) {
      if (v !== null && typeof v === "object" && typeof (v as { f32?: unknown }).f32 === "string") {
        e[name] = base64ToF32((v as { f32: string }).f32);
      } else if (typeof v === "number" || v === null) {
        e[name] = v;
      } else {
        throw new Error(`state ${k}.${name} is neither a number nor a float32 buffer`);
      }
    }
    state[k] = e;
  }
  return { state, param_groups: o.param_groups as OptimizerStateDict["param_groups"] };
}

// ---------------------------------------------------------------- encode / decode

/** The checkpoint's metadata strings. */
export function checkpointMetadata(ckpt: ForecastCheckpoint): Record<string, string> {
  const m = ckpt.meta;
  const out: Record<string, string> = {
    format: "pt",
    "recurrent.kind": CHECKPOINT_KIND,
    "recurrent.format_version": String(CHECKPOINT_FORMAT_VERSION),
    "recurrent.library_version": m.libraryVersion,
    "recurrent.model": JSON.stringify(m.model),
    "recurrent.data": JSON.stringify(m.data),
    "recurrent.split": JSON.stringify(m.split),
    "recurrent.training": JSON.stringify(m.training),
  };
  if (m.hybrid !== undefined) out["recurrent.hybrid"] = JSON.stringify(m.hybrid);
  if (m.ets !== undefined) out["recurrent.ets"] = JSON.stringify(m.ets);
  if (m.arima !== undefined) out["recurrent.arima"] = JSON.stringify(m.arima);
  if (ckpt.optimizer !== null) out["recurrent.optimizer"] = JSON.stringify(packOptimizer(ckpt.optimizer));
  if (ckpt.scheduler !== null) out["recurrent.scheduler"] = JSON.stringify(ckpt.scheduler);
  return out;
}

/** The checkpoint as safetensors bytes. */
export function encodeCheckpoint(ckpt: ForecastCheckpoint): Uint8Array {
  return encodeSafetensors(ckpt.stateDict, checkpointMetadata(ckpt));
}

function parseJson(metadata: Record<string, string>, key: string, source: string): unknown {
  const text = metadata[key];
  if (text === undefined) {
    throw new CheckpointError(
      `${source}: the checkpoint is damaged: its metadata has no ${JSON.stringify(key)}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new CheckpointError(
      `${source}: the checkpoint is damaged: metadata ${JSON.stringify(key)} is not valid JSON`,
    );
  }
}

/**
 * Reads a forecast checkpoint from its tensors and metadata. A valid safetensors file without our
 * metadata is "not a recurrent forecast checkpoint"; one with it but inconsistent is "damaged".
 * `source` names the file in messages.
 */
export function checkpointFromParts(
  tensors: Record<string, Tensor>,
  metadata: Record<string, string>,
  source = "checkpoint",
): ForecastCheckpoint {
  const kind = metadata["recurrent.kind"];
  if (kind === undefined) {
    const keys = Object.keys(metadata);
    const names = Object.keys(tensors);
    throw new CheckpointError(
      `${source} is a safetensors file but not a recurrent forecast checkpoint: its metadata has no "recurrent.kind" (metadata keys: ${keys.length ? keys.join(", ") : "none"}; ${names.length} tensor(s)${names.length ? `, e.g. ${names.slice(0, 3).join(", ")}` : ""}). Train one with \`recurrent train\`.`,
    );
  }
  if (kind !== CHECKPOINT_KIND) {
    throw new CheckpointError(
      `${source} is a recurrent checkpoint of kind ${JSON.stringify(kind)}, not a forecast model (kind "forecast")`,
    );
  }
  const version = Number(metadata["recurrent.format_version"]);
  if (!Number.isInteger(version) || version < 1) {
    throw new CheckpointError(
      `${source}: the checkpoint is damaged: recurrent.format_version is ${JSON.stringify(metadata["recurrent.format_version"] ?? null)}, expected a positive integer`,
    );
  }
  if (version > CHECKPOINT_FORMAT_VERSION) {
    throw new CheckpointError(
      `${source} was written in forecast checkpoint format ${version} (by recurrent ${metadata["recurrent.library_version"] ?? "?"}); this recurrent ${LIBRARY_VERSION} reads format ${CHECKPOINT_FORMAT_VERSION}: upgrade recurrent`,
    );
  }
  const model = parseJson(metadata, "recurrent.model", source) as ModelConfigJSON;
  const data = parseJson(metadata, "recurrent.data", source) as DataSpecJSON;
  const split = parseJson(metadata, "recurrent.split", source) as SplitJSON;
  const training = parseJson(metadata, "recurrent.training", source) as TrainingJSON;
  const scheduler =
    metadata["recurrent.scheduler"] === undefined
      ? null
      : (parseJson(metadata, "recurrent.scheduler", source) as SchedulerStateDict);
  // every field against its type, its bounds and the weights, before anything is allocated from them:
  // the recurrent network's, the hybrid ensemble's (weights members.*) or ETS's (no weights)
  const hybridText = metadata["recurrent.hybrid"];
  const etsText = metadata["recurrent.ets"];
  const arimaText = metadata["recurrent.arima"];
  const held = (
    [
      ["recurrent.hybrid", hybridText],
      ["recurrent.ets", etsText],
      ["recurrent.arima", arimaText],
    ] as const
  ).filter(([, t]) => t !== undefined);
  if (held.length > 1) {
    throw new CheckpointError(
      `${source}: the checkpoint is damaged: its metadata holds both ${held[0][0]} and ${held[1][0]} (one model per file)`,
    );
  }
  const raw = { model, data, split, training, ...(scheduler === null ? {} : { scheduler }) };
  const optimizerText = metadata["recurrent.optimizer"];
  if (hybridText !== undefined) {
    validateHybridCheckpoint(
      { ...raw, hybrid: parseJson(metadata, "recurrent.hybrid", source), optimizer: optimizerText },
      tensors,
      source,
    );
  } else if (etsText !== undefined) {
    validateEtsCheckpoint(
      { ...raw, ets: parseJson(metadata, "recurrent.ets", source), optimizer: optimizerText },
      tensors,
      source,
    );
  } else if (arimaText !== undefined) {
    validateArimaCheckpoint(
      { ...raw, arima: parseJson(metadata, "recurrent.arima", source), optimizer: optimizerText },
      tensors,
      source,
    );
  } else {
    validateForecastCheckpoint(raw, tensors, source);
  }
  if ((data as { panel?: unknown }).panel !== undefined) {
    if (held.length > 0)
      throw new CheckpointError(
        `${source}: the checkpoint is damaged: data.panel (many series) is for the LSTM forecaster, not a hybrid, ETS or ARIMA model`,
      );
    checkPanelMeta({ model, data, split, training }, tensors, source);
  }
  const damaged = (msg: string) => new CheckpointError(`${source}: the checkpoint is damaged: ${msg}`);
  let optimizer: OptimizerStateDict | null = null;
  if (metadata["recurrent.optimizer"] !== undefined) {
    try {
      optimizer = unpackOptimizer(parseJson(metadata, "recurrent.optimizer", source));
    } catch (e) {
      if (e instanceof CheckpointError) throw e;
      throw damaged(`recurrent.optimizer: ${(e as Error).message}`);
    }
    const names: string[] = [];
    for (let l = 0; l < model.num_layers; l++)
      for (const k of ["weight_ih", "weight_hh", "bias_ih", "bias_hh"]) names.push(`rnn.${k}_l${l}`);
    names.push("head.weight", "head.bias");
    validateOptimizerState(
      optimizer as Parameters<typeof validateOptimizerState>[0],
      names.map((n) => tensors[n].data.length),
      source,
    );
  }
  const ckpt: ForecastCheckpoint = {
    meta: {
      model,
      data,
      split,
      training,
      libraryVersion: metadata["recurrent.library_version"] ?? "unknown",
      ...(metadata["recurrent.hybrid"] !== undefined
        ? { hybrid: checkHybridMeta(parseJson(metadata, "recurrent.hybrid", source), source) }
        : {}),
      ...(metadata["recurrent.ets"] !== undefined
        ? { ets: checkEtsMeta(parseJson(metadata, "recurrent.ets", source), source) }
        : {}),
      ...(arimaText !== undefined
        ? { arima: parseJson(metadata, "recurrent.arima", source) as ArimaMetaJSON }
        : {}),
    },
    stateDict: tensors,
    optimizer,
    scheduler,
  };
  // checks the tensors against the config
  if (ckpt.meta.hybrid !== undefined) buildHybrid(ckpt, source);
  else if (ckpt.meta.ets === undefined && ckpt.meta.arima === undefined) buildModel(ckpt, source);
  return ckpt;
}

/** Decodes checkpoint bytes; malformed or truncated bytes are a CheckpointError naming `source`. */
export function decodeCheckpoint(bytes: Uint8Array, source = "checkpoint"): ForecastCheckpoint {
  let parts: { tensors: Record<string, Tensor>; metadata: Record<string, string> };
  try {
    parts = decodeSafetensors(bytes);
  } catch (e) {
    if (e instanceof SafetensorsError) {
      throw new CheckpointError(
        `${source} is not a readable safetensors file (damaged or truncated?): ${e.message}`,
      );
    }
    throw e;
  }
  return checkpointFromParts(parts.tensors, parts.metadata, source);
}

/** A ForecastNet of the checkpoint's config holding its weights (in evaluation mode). */
export function buildModel(ckpt: ForecastCheckpoint, source = "checkpoint"): ForecastNet {
  const model = new ForecastNet(modelConfigFromJSON(ckpt.meta.model));
  try {
    model.loadStateDict(ckpt.stateDict);
  } catch (e) {
    throw new CheckpointError(
      `${source}: the checkpoint is damaged: its tensors do not fit the model it describes (${(e as Error).message.replace(/\s+/g, " ").trim()})`,
    );
  }
  for (const [name, t] of Object.entries(ckpt.stateDict)) {
    if (!t.data.every(Number.isFinite))
      throw new CheckpointError(
        `${source}: the checkpoint is damaged: tensor ${name} holds NaN or infinite values`,
      );
  }
  return model.eval();
}

/** The checkpoint's scaler. */
export function checkpointScaler(ckpt: ForecastCheckpoint): Scaler {
  return scalerFromJSON(ckpt.meta.data.scaler);
}

/** Copies of the model's weights (so later training steps do not change a snapshot). */
export function snapshotWeights(model: ForecastNet): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(model.stateDict())) out[k] = new Tensor(t.data.slice(), [...t.shape]);
  return out;
}

/**
 * The checkpoint with its wall-clock fields (training.seconds, each epoch's and each hybrid member's
 * seconds) set to 0: what
 * `recurrent train --deterministic` writes, so that the same data, options and seed give the same bytes.
 */
export function withoutTimings(ckpt: ForecastCheckpoint): ForecastCheckpoint {
  const t = ckpt.meta.training;
  return {
    ...ckpt,
    meta: {
      ...ckpt.meta,
      training: { ...t, seconds: 0, history: t.history.map((h) => ({ ...h, seconds: 0 })) },
      ...(ckpt.meta.hybrid === undefined
        ? {}
        : {
            hybrid: {
              ...ckpt.meta.hybrid,
              members: ckpt.meta.hybrid.members.map((m) => ({ ...m, seconds: 0 })),
            },
          }),
    },
  };
}
