// `recurrent train ... --emit-torch DIR`: the settings of a training run as the small JSON config that
// scripts/torch_train.py reads (`--config DIR/torch_train.json`), so that PyTorch's DistributedDataParallel
// trains the same model on the same series as `recurrent train` would. Nothing is trained here; the
// series is read once so that a config is only written for data and settings that can train (the
// date column resolved, the split checked).

import * as fs from "node:fs";
import { join } from "node:path";
import type { FillMethod } from "../../data/series.js";
import { LIBRARY_VERSION } from "../../forecast/checkpoint.js";
import type { PreparedSeries } from "../../forecast/data.js";
import { type TrainOptions, planSplit } from "../../forecast/train.js";
import { CliError } from "./errors.js";

/** The `format` of the config, which the script checks. */
export const TORCH_CONFIG_FORMAT = "recurrent.torch_train";
export const TORCH_CONFIG_FILE = "torch_train.json";

export interface TorchTrainConfig {
  format: typeof TORCH_CONFIG_FORMAT;
  version: 1;
  library_version: string;
  /** Which series: the CSV as given on the command line, the columns, the resolved date column. */
  data: {
    csv: string;
    target: string;
    features: string[];
    /** The date column's name, or false for none (never left for the script to detect). */
    date_column: string | false;
    fill: FillMethod | null;
    /** Many series in one long-format file: the column naming each row's series. */
    id_column?: string;
  };
  /** recurrent's TrainOptions in snake_case (the script's DEFAULTS have the same keys). */
  settings: {
    lookback: number;
    horizon: number;
    val: number;
    test: number;
    scaler: "standard" | "minmax";
    window_norm: "last" | "none";
    cell: string;
    hidden: number;
    layers: number;
    dropout: number;
    batch_first: boolean;
    epochs: number;
    batch_size: number;
    lr: number;
    clip: number;
    seed: number;
    patience: number;
    lr_patience: number;
    lr_factor: number;
    min_lr: number;
  };
  /** The checkpoint to write, when --out was given. */
  out: string | null;
}

/** The config for training `options` on `prepared` (read from `csv` with `features`, `fill`). */
export function torchTrainConfig(
  csv: string,
  features: readonly string[] | undefined,
  prepared: PreparedSeries,
  options: TrainOptions,
  out: string | undefined,
): TorchTrainConfig {
  const s = prepared.series;
  // the same checks as training: a config is written only for a run that can start
  planSplit(s.shape[0], options.lookback, options.horizon, options.val, options.test);
  return {
    format: TORCH_CONFIG_FORMAT,
    version: 1,
    library_version: LIBRARY_VERSION,
    data: {
      csv,
      target: s.columns[s.targetIndex],
      features: [...(features ?? [])],
      date_column: prepared.dateColumn ?? false,
      fill: prepared.fill,
    },
    settings: {
      lookback: options.lookback,
      horizon: options.horizon,
      val: options.val,
      test: options.test,
      scaler: options.scaler,
      window_norm: options.windowNorm,
      cell: options.cell,
      hidden: options.hidden,
      layers: options.layers,
      dropout: options.dropout,
      batch_first: options.batchFirst,
      epochs: options.epochs,
      batch_size: options.batchSize,
      lr: options.lr,
      clip: options.clip,
      seed: options.seed,
      patience: options.patience,
      lr_patience: options.lrPatience,
      lr_factor: options.lrFactor,
      min_lr: options.minLr,
    },
    out: out ?? null,
  };
}

/** Writes DIR/torch_train.json (making DIR) and says on stdout how to run it. */
export function writeTorchConfig(dir: string, config: TorchTrainConfig): string {
  const path = join(dir, TORCH_CONFIG_FILE);
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
  } catch (e) {
    throw new CliError(`cannot write the PyTorch config ${path}: ${(e as Error).message}`);
  }
  const q = (p: string) => (/[^\w./-]/.test(p) ? JSON.stringify(p) : p);
  const out = config.out ?? "model.safetensors";
  const lines = [
    `wrote ${path}: the settings of this run for scripts/torch_train.py (nothing was trained)`,
    "",
    "train with PyTorch DistributedDataParallel (scripts/ of the recurrent repository), e.g. two processes here:",
    `  python3 scripts/torch_train.py --config ${q(path)} --nproc 2 --out ${q(out)}`,
    "or one process per GPU under torchrun (leave out --nproc):",
    `  torchrun --nproc-per-node 8 scripts/torch_train.py --config ${q(path)} --out ${q(out)}`,
    "then here:",
    `  recurrent evaluate --model ${q(out)} --csv ${q(config.data.csv)}`,
    `  recurrent forecast --model ${q(out)} --csv ${q(config.data.csv)}`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  return path;
}
