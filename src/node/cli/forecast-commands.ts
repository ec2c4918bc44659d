// `recurrent train | forecast | evaluate`: forecasting real series from CSV files, with checkpoints in
// safetensors (weights under PyTorch's names, everything else in the metadata).
//
// Exit codes: 0 success, 1 bad input or a failed run (message, no stack trace), 2 usage errors,
// 130 interrupted by Ctrl-C (after saving the best checkpoint so far).

import * as fs from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { type Command, Option } from "commander";
import { formatDate } from "../../data/dates.js";
import { DataError, escapeControls } from "../../data/errors.js";
import type { FillMethod } from "../../data/series.js";
import {
  type BacktestView,
  type CheckpointSetting,
  type ForecastSession,
  type FutureView,
  backtestView,
  classicalName,
  futureView,
  openForecast,
  prepareForCheckpoint,
  readCheckpoint,
  sessionOf,
  settingConflicts,
} from "../../app/session.js";
import { failureText } from "../../app/train.js";
import { type ForecastCheckpoint, checkpointMetadata, withoutTimings } from "../../forecast/checkpoint.js";
import {
  FILL_HINT,
  type PreparedSeries,
  defaultSeason,
  describeStep,
  prepareSeries,
} from "../../forecast/data.js";
import { ForecastError } from "../../forecast/errors.js";
import { seriesSpecOf } from "../../forecast/forecast.js";
import { exportForecastOnnx } from "../../forecast/onnx.js";
import { DEFAULT_TRAIN_OPTIONS, type TrainOptions, trainForecaster } from "../../forecast/train.js";
import { forecastChart, lossChart } from "../../viz/index.js";
import { saveSafetensors } from "../checkpoint.js";
import { classicalForecasts, classicalVerdict, perStepMae } from "./classical.js";
import { CliError, UsageError, num } from "./errors.js";
import { makeProgress } from "./progress.js";
import { torchTrainConfig, writeTorchConfig } from "./torch-config.js";
import { type HybridCliOptions, type ModelKind, trainHybridOrAuto } from "./hybrid-commands.js";
import { describeModel } from "../../forecast/describe.js";
import {
  type PanelCli,
  checkpointForSeries,
  checkpointToExport,
  evaluatePanelCommand,
  forecastPanelCommand,
  idColumnOption,
  pickSeries,
  seriesOption,
  trainPanelCommand,
} from "./panel-commands.js";

const D = DEFAULT_TRAIN_OPTIONS;

// ---------------------------------------------------------------- helpers

/** Reads a text file, or a CliError that says what went wrong with which file. */
export function readText(path: string, what: string): string {
  try {
    return fs.readFileSync(path, "utf8");
  } catch (e) {
    throw new CliError(`cannot read the ${what} ${path}: ${ioReason(e)}`);
  }
}

function ioReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EISDIR") return "it is a directory, not a file";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  return (e as Error).message;
}

/** The data layer asks for `fill: ...`; on the command line that is the --fill option. */
export function cliMessage(e: unknown): unknown {
  if (e instanceof DataError || e instanceof ForecastError) {
    const msg = e.message
      .split(FILL_HINT)
      .join("pass --fill ffill, linear or drop")
      .replace(/ask for a horizon of (\d+) or less/, "pass --horizon $1 or less");
    if (msg !== e.message) return new CliError(msg);
  }
  return e;
}

/** A CSV file's columns as `spec` selects them, or (resuming) as the checkpoint reads them, with its checks. */
function prepare(
  csvPath: string,
  spec:
    | Parameters<typeof prepareSeries>[1]
    | { checkpoint: ForecastCheckpoint; source: string; fill?: FillMethod },
): PreparedSeries {
  const text = readText(csvPath, "CSV file");
  try {
    return "checkpoint" in spec
      ? prepareForCheckpoint(spec.checkpoint, spec.source, text, csvPath, spec.fill)
      : prepareSeries(text, spec);
  } catch (e) {
    throw cliMessage(e);
  }
}

/** Loads a forecast checkpoint file; missing, damaged, truncated and foreign files are CliErrors. */
export function loadCheckpointFile(path: string): ForecastCheckpoint {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(path);
  } catch (e) {
    throw new CliError(`cannot read the checkpoint ${path}: ${ioReason(e)}`);
  }
  return readCheckpoint(bytes, path);
}

/** Saves a checkpoint atomically (temporary file + rename); `deterministic` zeroes its timings. */
export async function saveCheckpointFile(
  path: string,
  ckpt: ForecastCheckpoint,
  deterministic = false,
): Promise<void> {
  const c = deterministic ? withoutTimings(ckpt) : ckpt;
  await saveSafetensors(path, c.stateDict, checkpointMetadata(c));
}

/** Fails early, before any training, when `path` cannot be written. */
export function checkWritable(path: string, what: string): void {
  if (path.trim() === "" || /[/\\]$/.test(path))
    throw new CliError(`cannot write the ${what} ${JSON.stringify(path)}: expected a file name`);
  const dir = dirname(resolve(path));
  let st: fs.Stats;
  try {
    st = fs.statSync(dir);
  } catch {
    throw new CliError(`cannot write the ${what} ${path}: the folder ${dir} does not exist`);
  }
  if (!st.isDirectory()) throw new CliError(`cannot write the ${what} ${path}: ${dir} is not a folder`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new CliError(`cannot write the ${what} ${path}: the folder ${dir} is not writable`);
  }
  if (fs.existsSync(path) && fs.statSync(path).isDirectory()) {
    throw new CliError(`cannot write the ${what} ${path}: it is a directory`);
  }
}

/** The shortest decimal that reads back as the same float32. */
export function f32str(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const x = Math.fround(v);
  for (let p = 1; p <= 9; p++) {
    const s = x.toPrecision(p);
    if (Math.fround(Number(s)) === x) return String(Number(s));
  }
  return String(x);
}

const fmt = (x: number, digits = 4): string =>
  !Number.isFinite(x)
    ? String(x)
    : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e6
      ? x.toFixed(digits)
      : x.toExponential(digits - 1);

export function duration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  if (s < 9.95) return `${s.toFixed(1)}s`;
  const whole = Math.round(s);
  if (whole < 60) return `${whole}s`;
  const m = Math.floor(whole / 60);
  if (m < 60) return `${m}m${String(whole - m * 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}

function parseList(name: string) {
  return (v: string): string[] => {
    const items = v.split(",").map((s) => s.trim());
    if (items.some((s) => s === ""))
      throw new UsageError(`option ${name} expects comma-separated column names, got '${v}'`);
    return items;
  };
}

function parseSize(name: string) {
  return (v: string): number => {
    const x = Number(v);
    if (v.trim() === "" || !Number.isFinite(x) || x < 0 || (x >= 1 && !Number.isInteger(x))) {
      throw new UsageError(
        `option ${name} expects a fraction in [0, 1) or a whole number of rows, got '${v}'`,
      );
    }
    return x;
  };
}

function parseFraction(name: string, lo: number, hi: number, closedHi: boolean) {
  return (v: string): number => {
    const x = Number(v);
    if (v.trim() === "" || !Number.isFinite(x) || x < lo || (closedHi ? x > hi : x >= hi)) {
      throw new UsageError(
        `option ${name} expects a number in [${lo}, ${hi}${closedHi ? "]" : ")"}, got '${v}'`,
      );
    }
    return x;
  };
}

function nonNegative(name: string) {
  return (v: string): number => {
    const x = Number(v);
    if (v.trim() === "" || !Number.isFinite(x) || x < 0)
      throw new UsageError(`option ${name} expects a number >= 0, got '${v}'`);
    return x;
  };
}

function nonNegativeInt(name: string) {
  return (v: string): number => {
    const x = Number(v);
    if (v.trim() === "" || !Number.isInteger(x) || x < 0)
      throw new UsageError(`option ${name} expects an integer >= 0, got '${v}'`);
    return x;
  };
}

const fillOption = () =>
  new Option(
    "--fill <method>",
    "missing values and missing dates: ffill or linear insert and fill them, drop removes rows with a missing value (default: they are errors)",
  ).choices(["ffill", "linear", "drop"]);

function dateColumnOf(v: string | undefined): string | false | undefined {
  if (v === undefined) return undefined;
  return v === "none" ? false : v;
}

function dataNote(p: PreparedSeries): string {
  const s = p.series;
  const T = s.shape[0];
  const fmtDate = (i: number) => (s.dates === null ? "" : formatDate(s.dates[i], s.dateFormat ?? undefined));
  const span = s.dates === null ? "" : `, ${describeStep(p.step)} ${fmtDate(0)} to ${fmtDate(T - 1)}`;
  const notes: string[] = [];
  if (p.insertedDates > 0) notes.push(`${p.insertedDates} missing date(s) inserted and filled (${p.fill})`);
  if (p.missingDates > 0) notes.push(`${p.missingDates} missing date(s) left as holes (fill drop)`);
  return `${T} rows${span}${notes.length ? `; ${notes.join("; ")}` : ""}`;
}

// ---------------------------------------------------------------- train

/** The `train` command line: the training options (less minLr), the hybrid's, and the command's own. */
interface TrainCli extends Omit<TrainOptions, "minLr">, HybridCliOptions, PanelCli {
  csv: string;
  target?: string;
  features?: string[];
  dateColumn?: string;
  fill?: FillMethod;
  out?: string;
  resume?: string;
  lossChart?: string;
  emitTorch?: string;
  /** hybrid (default), lstm, or auto. */
  model: ModelKind;
  deterministic?: boolean;
}

/** The option of each setting a checkpoint fixes (app/session.ts checkpointSettings). */
const SETTING_FLAG: Record<CheckpointSetting | "features", string> = {
  lookback: "--lookback",
  horizon: "--horizon",
  cell: "--cell",
  hidden: "--hidden",
  layers: "--layers",
  dropout: "--dropout",
  batchFirst: "--no-batch-first",
  val: "--val",
  test: "--test",
  scaler: "--scaler",
  windowNorm: "--window-norm",
  target: "--target",
  dateColumn: "--date-column",
  features: "--features",
};

/** `train`: check the command line, read the CSV, then train the LSTM (or the hybrid, or auto). */
async function trainCommand(o: TrainCli, cmd: Command): Promise<void> {
  const given = (k: string) => cmd.getOptionValueSource(k) === "cli";
  const resume = resumeCheckpoint(o, given);
  const options = trainOptionsOf(o, resume, given);
  // many series (--id-column without --series): one global LSTM (panel-commands.ts)
  if (await trainPanelCommand(o, given, options)) return;
  // --emit-torch is for the LSTM forecaster that scripts/torch_train.py trains: it stands for --model lstm
  if (o.emitTorch !== undefined)
    return emitTorch({ ...o, model: given("model") ? o.model : "lstm" }, o.emitTorch);
  const out = o.out ?? o.resume;
  if (out === undefined) throw new UsageError("train needs --out FILE.safetensors (where to save the model)");
  checkWritable(out, "checkpoint");
  if (o.lossChart !== undefined) checkWritable(`${o.lossChart}.svg`, "chart");
  if (resume === null) checkDropout(o);

  const spec = resume
    ? { ...seriesSpecOf(resume), fill: o.fill ?? resume.meta.data.fill ?? undefined }
    : { target: o.target!, features: o.features, dateColumn: dateColumnOf(o.dateColumn), fill: o.fill };
  // --series: that series of a long-format file
  const prepared =
    pickSeries(o.csv, spec, o) ??
    prepare(o.csv, resume ? { checkpoint: resume, source: o.resume!, fill: o.fill } : spec);
  const cols = prepared.series.columns;
  const ti = prepared.series.targetIndex;
  // column names come from the file
  process.stderr.write(
    `${escapeControls(`${resume ? `resuming ${o.resume} (${resume.meta.training.history.length} epochs run, best ${resume.meta.training.best_epoch})` : o.model === "lstm" ? "training" : `training the ${o.model === "auto" ? "candidates (--model auto)" : "hybrid"}`} on ${o.csv}: target ${cols[ti]}${cols.length > 1 ? ` with ${cols.length - 1} feature(s) (${cols.filter((_, i) => i !== ti).join(", ")})` : ""}, ${dataNote(prepared)}`)}\n`,
  );

  if (o.model === "lstm" && o.combine !== undefined) {
    throw new UsageError(`--combine ${o.combine} applies to --model hybrid or auto, not --model lstm`);
  }
  if (resume === null && o.model !== "lstm") {
    await hybridTrainCommand(o, cmd, prepared, options, out);
    return;
  }
  const { result: r, savedNote } = await trainLstm(o, prepared, options, resume, out);
  const ck = r.checkpoint;
  if (r.stopped === "non-finite") {
    const note = savedNote();
    throw new CliError(
      `${failureText(r.failure!, options.lr)}; try a smaller --lr${options.clip > 0 ? "" : " or --clip 1"}. ${note[0].toUpperCase()}${note.slice(1)}`,
    );
  }
  const charts = o.lossChart !== undefined && ck !== null ? await writeLossChart(ck, o.lossChart) : null;
  if (r.stopped === "interrupted") {
    if (o.json) process.stdout.write(`${JSON.stringify(trainJson(r, ck, out, charts), null, 2)}\n`);
    throw new CliError(`interrupted after ${r.epochsRun} epoch(s); ${savedNote()}`, 130);
  }
  if (ck === null) throw new CliError("training ran no epoch (--epochs 0?)");
  if (o.json) {
    process.stdout.write(`${JSON.stringify(trainJson(r, ck, out, charts), null, 2)}\n`);
    return;
  }
  process.stdout.write(`${escapeControls(trainSummary(o, r, ck, out, charts).join("\n"))}\n`);
}

/** --resume: the checkpoint, checked against the command line (null without --resume). */
function resumeCheckpoint(o: TrainCli, given: (k: string) => boolean): ForecastCheckpoint | null {
  if (o.resume === undefined) {
    if (o.target === undefined)
      throw new UsageError("train needs --target COLUMN (the column to forecast), or --resume CHECKPOINT");
    return null;
  }
  if (given("model") && o.model !== "lstm") {
    throw new UsageError(`--resume continues LSTM checkpoints (--model lstm), not --model ${o.model}`);
  }
  const resume = loadCheckpointFile(o.resume);
  if (resume.meta.hybrid !== undefined || resume.meta.ets !== undefined || resume.meta.arima !== undefined) {
    const what = resume.meta.hybrid ? "hybrid" : resume.meta.ets ? "ETS" : "ARIMA";
    throw new UsageError(
      `${o.resume} holds a${what === "ARIMA" ? "n" : ""} ${what} model; --resume continues LSTM checkpoints only: train it again instead`,
    );
  }
  const asked = Object.fromEntries(
    Object.keys(SETTING_FLAG)
      .filter(given)
      .map((k) => [k, o[k as keyof TrainCli]]),
  );
  const [c] = settingConflicts(resume, { ...asked, features: o.features });
  if (c !== undefined) {
    throw new UsageError(
      `${SETTING_FLAG[c.key]} ${c.asked} differs from the checkpoint being resumed (${c.fixed}); --resume takes the ${c.key === "features" ? "columns" : "data and model settings"} from the checkpoint`,
    );
  }
  return resume;
}

function checkDropout(o: TrainCli): void {
  if (o.dropout > 0 && o.layers < 2) {
    throw new UsageError(
      `--dropout acts between stacked recurrent layers; it needs --layers 2 or more (got --layers ${o.layers})`,
    );
  }
}

/** The command line as training options; resuming keeps the checkpoint's lr and seed unless given. */
function trainOptionsOf(
  o: TrainCli,
  resume: ForecastCheckpoint | null,
  given: (k: string) => boolean,
): TrainOptions {
  return {
    ...D,
    lookback: o.lookback,
    horizon: o.horizon,
    val: o.val,
    test: o.test,
    scaler: o.scaler,
    windowNorm: o.windowNorm,
    cell: o.cell,
    hidden: o.hidden,
    layers: o.layers,
    dropout: o.dropout,
    batchFirst: o.batchFirst,
    epochs: o.epochs,
    batchSize: o.batchSize,
    lr: resume && !given("lr") ? resume.meta.training.lr : o.lr,
    clip: o.clip,
    seed: resume && !given("seed") ? resume.meta.training.seed : o.seed,
    patience: o.patience,
    lrPatience: o.lrPatience,
    lrFactor: o.lrFactor,
  };
}

/**
 * Trains the LSTM with a progress line per epoch, saving the checkpoint at every improvement and at the
 * end. Ctrl-C: the first asks training to stop after the current batch (the best checkpoint is kept and
 * saved); a second one exits at once (saves are atomic, so no file is left half written).
 */
async function trainLstm(
  o: TrainCli,
  prepared: PreparedSeries,
  options: TrainOptions,
  resume: ForecastCheckpoint | null,
  out: string,
): Promise<{ result: Awaited<ReturnType<typeof trainForecaster>>; savedNote: () => string }> {
  const log = process.stderr;
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) {
      log.write("\ninterrupted again: exiting without waiting\n");
      process.exit(130);
    }
    interrupted = true;
    log.write(
      "\ninterrupted: stopping after this batch and saving the best checkpoint (Ctrl-C again to quit at once)\n",
    );
  };
  process.on("SIGINT", onSigint);
  const progress = makeProgress(o.epochs, "epoch {epoch} | loss {loss} | val {val} | lr {lr}", log);
  let saved: number | null = null; // the epoch saved last
  let meanEpoch = 0;
  let result: Awaited<ReturnType<typeof trainForecaster>>;
  try {
    result = await trainForecaster(
      prepared,
      options,
      {
        shouldStop: () => interrupted,
        onImprove: async (ckpt) => {
          await saveCheckpointFile(out, ckpt, o.deterministic);
          saved = ckpt.meta.training.best_epoch;
        },
        onEpoch: (r) => {
          meanEpoch += (r.seconds - meanEpoch) / r.done;
          const left = (r.planned - r.done) * meanEpoch;
          const val = r.val_loss === null ? "-" : r.val_loss.toExponential(3);
          progress.update(
            r.done,
            { epoch: `${r.epoch}`, loss: r.loss.toExponential(3), val, lr: r.lr.toExponential(1) },
            `epoch ${String(r.epoch).padStart(3)}/${r.planned + (r.epoch - r.done)}  loss ${r.loss.toExponential(3)}  val ${val}  lr ${r.lr.toExponential(1)}  ${r.seconds.toFixed(2)}s${r.improved ? "  *best" : ""}  (at most ${duration(left)} left)`,
          );
        },
      },
      resume,
    );
  } catch (e) {
    throw cliMessage(e);
  } finally {
    progress.stop();
    process.off("SIGINT", onSigint);
  }
  if (result.stopped !== "non-finite" && result.checkpoint !== null) {
    // the final save: best weights with the whole history and why training stopped
    await saveCheckpointFile(out, result.checkpoint, o.deterministic);
    saved = result.checkpoint.meta.training.best_epoch;
  }
  const savedNote = (): string =>
    saved === null
      ? `no epoch finished, so no checkpoint was written${fs.existsSync(out) ? ` (${out} was left as it was)` : ""}`
      : `the best checkpoint so far (epoch ${saved}) is saved in ${out}`;
  return { result, savedNote };
}

/** --loss-chart: the training and validation loss per epoch. */
async function writeLossChart(
  ck: ForecastCheckpoint,
  stem: string,
): Promise<{ svgPath: string; pngPath: string }> {
  const h = ck.meta.training.history;
  const series = [{ name: "training loss", values: h.map((e) => e.loss) }];
  if (h.some((e) => e.val_loss !== null))
    series.push({ name: "validation loss", values: h.map((e) => e.val_loss ?? Number.NaN) });
  const { writeChart } = await import("../render.js"); // loaded only when a chart is wanted
  return writeChart(
    lossChart({
      series,
      x: h.map((e) => e.epoch),
      title: `${ck.meta.data.target}: training of ${describeModel(ck)}`,
      subtitle: `MSE in scaled units; best epoch ${ck.meta.training.best_epoch}`,
      logScale: true,
    }),
    stem,
  );
}

/** The lines `train` prints when it is done. */
function trainSummary(
  o: TrainCli,
  r: Awaited<ReturnType<typeof trainForecaster>>,
  ck: ForecastCheckpoint,
  out: string,
  charts: { svgPath: string; pngPath: string } | null,
): string[] {
  const t = ck.meta.training;
  const s = ck.meta.split;
  const rows = (a: [number, number]) => a[1] - a[0];
  const best = t.history.find((e) => e.epoch === t.best_epoch);
  const reason =
    r.stopped === "early-stop"
      ? `early stop: no better ${t.monitor === "val_loss" ? "validation" : "training"} loss for ${t.patience} epochs`
      : `ran the ${o.epochs} epochs asked for`;
  const lines = [
    "",
    `model      ${describeModel(ck)} on ${ck.meta.data.columns.join(", ")} (lookback ${ck.meta.data.lookback}, horizon ${ck.meta.data.horizon}, window norm ${ck.meta.data.window_norm}, ${ck.meta.data.scaler.type} scaling)`,
    `split      train ${rows(s.train_range)} rows (${s.windows.train} windows), validation ${rows(s.val_range)} (${s.windows.val}), test ${rows(s.test_range)} (${s.windows.test})`,
    `epochs     ${r.epochsRun} in ${r.seconds.toFixed(1)} s (${reason})`,
    `best       epoch ${t.best_epoch}: loss ${best ? best.loss.toExponential(3) : "?"}${best?.val_loss != null ? `, validation loss ${best.val_loss.toExponential(3)}` : ""} (MSE, scaled units)`,
    `saved      ${out}`,
  ];
  if (charts) lines.push(`chart      ${charts.svgPath}, ${charts.pngPath}`);
  const q = (p: string) => (/[^\w./-]/.test(p) ? JSON.stringify(p) : p);
  lines.push(
    "",
    "next:",
    `  recurrent evaluate --model ${q(out)} --csv ${q(o.csv)}`,
    `  recurrent forecast --model ${q(out)} --csv ${q(o.csv)}`,
  );
  return lines;
}

/** --emit-torch: the run's settings for scripts/torch_train.py, nothing trained. */
function emitTorch(o: TrainCli, dir: string): void {
  if (o.resume !== undefined)
    throw new UsageError("--emit-torch writes the settings of a fresh run; leave out --resume");
  // scripts/torch_train.py trains the recurrent-cell forecaster (ForecastNet), not other model families
  if (o.model !== "lstm") {
    throw new UsageError(
      `--emit-torch writes settings for the LSTM forecaster (--model lstm) that scripts/torch_train.py trains, got --model ${o.model}`,
    );
  }
  checkDropout(o);
  const prepared = prepare(o.csv, {
    target: o.target!,
    features: o.features,
    dateColumn: dateColumnOf(o.dateColumn),
    fill: o.fill,
  });
  const options = trainOptionsOf(o, null, () => false);
  try {
    writeTorchConfig(dir, torchTrainConfig(o.csv, o.features, prepared, options, o.out));
  } catch (e) {
    throw cliMessage(e);
  }
}

/** `train --model hybrid | auto`: train, save, summarize (see hybrid-commands.ts). */
async function hybridTrainCommand(
  o: TrainCli,
  cmd: Command,
  prepared: PreparedSeries,
  lstmOptions: TrainOptions,
  out: string,
): Promise<void> {
  const given = (k: string) => cmd.getOptionValueSource(k) === "cli";
  if (o.model === "hybrid" && prepared.series.columns.length > 1) {
    throw new UsageError(
      "the hybrid model is univariate: --features needs --model lstm (or --model auto, which then compares the LSTM and ETS)",
    );
  }
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(
      "\ninterrupted: keeping the ensemble members that finished (Ctrl-C again to quit at once)\n",
    );
  };
  process.on("SIGINT", onSigint);
  let r: Awaited<ReturnType<typeof trainHybridOrAuto>>;
  try {
    r = await trainHybridOrAuto(
      o.model as "hybrid" | "auto",
      o,
      given,
      prepared,
      lstmOptions,
      () => interrupted,
    );
  } catch (e) {
    throw cliMessage(e);
  } finally {
    process.off("SIGINT", onSigint);
  }
  await saveCheckpointFile(out, r.checkpoint, o.deterministic);
  if (o.json) {
    process.stdout.write(
      `${JSON.stringify({ checkpoint: out, ...r.json, model: r.checkpoint.meta.model, data: r.checkpoint.meta.data, split: r.checkpoint.meta.split }, null, 2)}\n`,
    );
    return;
  }
  const q = (p: string) => (/[^\w./-]/.test(p) ? JSON.stringify(p) : p);
  const lines = [
    "",
    ...r.lines,
    `saved      ${out}`,
    "",
    "next:",
    `  recurrent evaluate --model ${q(out)} --csv ${q(o.csv)}`,
    `  recurrent forecast --model ${q(out)} --csv ${q(o.csv)}`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  if (interrupted) {
    // a stop during the classical fits keeps the hybrid alone: say so, since its forecasts then differ
    // from what a finished run would save
    const h = r.checkpoint.meta.hybrid;
    const alone =
      h !== undefined && (h.combine ?? null) === null && (o.combine ?? "auto") !== "none"
        ? ", the hybrid alone (the classical models it is averaged with were not fitted)"
        : "";
    throw new CliError(`interrupted; the members that finished are saved in ${out}${alone}`, 130);
  }
}

function trainJson(
  r: Awaited<ReturnType<typeof trainForecaster>>,
  ck: ForecastCheckpoint | null,
  out: string,
  charts: { svgPath: string; pngPath: string } | null,
) {
  return {
    checkpoint: ck === null ? null : out,
    stopped: r.stopped,
    epochs_run: r.epochsRun,
    seconds: r.seconds,
    best_epoch: ck?.meta.training.best_epoch ?? null,
    best_loss: ck?.meta.training.best_loss ?? null,
    monitor: ck?.meta.training.monitor ?? null,
    model: ck?.meta.model ?? null,
    data: ck === null ? null : { ...ck.meta.data, scaler: ck.meta.data.scaler },
    split: ck?.meta.split ?? null,
    history: ck?.meta.training.history ?? [],
    loss_chart: charts === null ? null : { svg: charts.svgPath, png: charts.pngPath },
  };
}

// ---------------------------------------------------------------- forecast

interface ForecastCli extends PanelCli {
  model: string;
  csv: string;
  horizon?: number;
  fill?: FillMethod;
  json: boolean;
  out: string;
  chart: boolean;
  history?: number;
  compare?: boolean;
}

/**
 * The checkpoint file against the CSV file, with every check (app/session.ts openForecast). --series:
 * that series of a long-format file (and of a checkpoint of many series, its scaler and split).
 */
function loadForUse(
  modelPath: string,
  csvPath: string,
  fill: FillMethod | undefined,
  pick: PanelCli = {},
): ForecastSession {
  const { ckpt, idColumn } = checkpointForSeries(loadCheckpointFile(modelPath), pick, modelPath);
  const spec = { ...seriesSpecOf(ckpt), fill: fill ?? ckpt.meta.data.fill ?? undefined };
  const picked = pickSeries(csvPath, spec, pick, idColumn);
  try {
    if (picked !== null) return sessionOf(ckpt, modelPath, picked, csvPath);
    return openForecast(ckpt, modelPath, readText(csvPath, "CSV file"), csvPath, fill);
  } catch (e) {
    throw cliMessage(e);
  }
}

async function forecastCommand(o: ForecastCli): Promise<void> {
  if (forecastPanelCommand(o)) return; // every series of a long-format file
  const session = loadForUse(o.model, o.csv, o.fill, o);
  const { ckpt, prepared } = session;
  if (o.chart) checkWritable(`${o.out}.svg`, "chart");
  const d = ckpt.meta.data;
  const series = prepared.series;
  let fc: FutureView;
  try {
    fc = futureView(session, o.horizon, o.history);
  } catch (e) {
    if (e instanceof ForecastError && /Ask for (\d+) steps or fewer/.test(e.message)) {
      throw new CliError(e.message.replace(/Ask for (\d+) steps or fewer/, "Use --horizon $1 or less"));
    }
    throw cliMessage(e);
  }
  const T = series.shape[0];
  const n = fc.values.length;
  let charts: { svgPath: string; pngPath: string } | null = null;
  if (o.chart) {
    const c = fc.chart;
    const spec = forecastChart({
      history: c.history,
      forecast: c.forecast,
      ...(c.bands !== null ? { bands: c.bands } : {}),
      ...(c.dates !== null ? { dates: c.dates } : { index: c.index }),
      title: `${d.target}${o.series === undefined ? "" : ` of ${o.series}`}: ${n}-step forecast`,
      subtitle: `${describeModel(ckpt)}, lookback ${d.lookback}${fc.recursiveSteps > 0 ? `; steps after ${d.horizon} fed back recursively` : ""} (${basename(o.model)})`,
      yLabel: d.target,
    });
    const { writeChart } = await import("../render.js"); // loaded only when a chart is wanted
    charts = await writeChart(spec, o.out);
  }
  const key = fc.dates !== null ? "date" : "step";
  const stamps = fc.dates ?? Array.from({ length: n }, (_, i) => String(T + i));
  const season = defaultSeason(prepared.step ?? d.date_step);
  const compare = o.compare === true ? classicalForecasts(series, season, n) : null;
  if (o.json) {
    const result = {
      target: d.target,
      model: o.model,
      lookback: d.lookback,
      trained_horizon: d.horizon,
      steps: n,
      recursive_steps: fc.recursiveSteps,
      last_observed: {
        [key]: fc.lastObserved.stamp,
        value: Number(f32str(fc.lastObserved.value)),
      },
      forecast: Array.from(fc.values, (v, i) => ({
        [key]: key === "date" ? stamps[i] : Number(stamps[i]),
        value: Number(f32str(v)),
        ...intervalFields(fc.intervals, i, (x) => Number(f32str(x))),
      })),
      intervals: fc.intervals === null ? null : fc.intervals.map((b) => b.level),
      chart: charts === null ? null : { svg: charts.svgPath, png: charts.pngPath },
      ...(compare === null
        ? {}
        : {
            compare: {
              season,
              forecasters: compare.map((c) => ({
                name: c.name,
                label: c.label,
                values: c.values === null ? null : Array.from(c.values),
                ...(c.error !== undefined ? { error: c.error } : {}),
              })),
            },
          }),
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const extraCols = fc.intervals === null ? [] : Object.keys(intervalFields(fc.intervals, 0, (x) => x));
  const cols = compare ?? [];
  const short: Record<string, string> = { ETS: "ets", ARIMA: "arima", Theta: "theta" };
  const head = cols.map((c) => `,${short[c.name] ?? "snaive_drift"}`).join("");
  if (compare !== null) {
    const chosen = (name: string) => {
      const c = compare.find((x) => x.name === name);
      return c?.values === null ? `not fitted (${c?.error})` : `${c?.label} selected by AICc`;
    };
    process.stderr.write(
      `compare: ets = ${chosen("ETS")}, arima = ${chosen("ARIMA")}, theta = Theta method, snaive_drift = seasonal naive with drift (m=${season}), each fitted on the whole series\n`,
    );
  }
  // rows go out in blocks, so a reader that stops early (`| head`) stops the writing (bin.ts ends the
  // command quietly on EPIPE)
  writeRows(
    `${[key, "value", ...extraCols].join(",")}${head}`,
    fc.values.length,
    (i) =>
      `${[stamps[i], f32str(fc.values[i]), ...Object.values(intervalFields(fc.intervals, i, f32str))].join(",")}${cols.map((c) => `,${c.values === null ? "" : fmt(c.values[i], 4)}`).join("")}`,
  );
  if (fc.recursiveSteps > 0) {
    process.stderr.write(
      `note: steps ${d.horizon + 1} to ${n} feed the model's own forecasts back (it was trained for ${d.horizon})\n`,
    );
  }
  if (charts) process.stderr.write(`chart: ${charts.svgPath}, ${charts.pngPath}\n`);
}

/** lower_80, upper_80, lower_95, upper_95 of step i (nothing without intervals). */
function intervalFields<T>(
  bands: { level: number; lower: ArrayLike<number>; upper: ArrayLike<number> }[] | null,
  i: number,
  f: (x: number) => T,
): Record<string, T> {
  const out: Record<string, T> = {};
  for (const b of bands ?? []) {
    const pct = Math.round(b.level * 100);
    out[`lower_${pct}`] = f(b.lower[i]);
    out[`upper_${pct}`] = f(b.upper[i]);
  }
  return out;
}

/** Writes a header line and `n` rows to stdout in blocks of 1000 lines, stopping if stdout closed. */
function writeRows(header: string, n: number, row: (i: number) => string): void {
  process.stdout.write(`${header}\n`);
  for (let i = 0; i < n && !process.stdout.destroyed; i += 1000) {
    const block: string[] = [];
    for (let j = i; j < Math.min(n, i + 1000); j++) block.push(row(j));
    process.stdout.write(`${block.join("\n")}\n`);
  }
}

// ---------------------------------------------------------------- evaluate

interface EvaluateCli extends PanelCli {
  model: string;
  csv: string;
  season?: number;
  stride: number;
  horizon?: number;
  fill?: FillMethod;
  json: boolean;
  classical: boolean;
}

function evaluateCommand(o: EvaluateCli): void {
  if (evaluatePanelCommand(o)) return; // every series of a long-format file, and overall
  const session = loadForUse(o.model, o.csv, o.fill, o);
  const { ckpt, prepared } = session;
  let view: BacktestView;
  try {
    view = backtestView(session, {
      season: o.season,
      stride: o.stride,
      horizon: o.horizon,
      classical: o.classical,
    });
  } catch (e) {
    throw cliMessage(e);
  }
  const ev = view.evaluation;
  const season = view.season;
  const names = {
    model: `${view.modelKind} (${basename(o.model)})`,
    naive: "naive",
    seasonalNaive: `seasonal naive (m=${season})`,
  };
  const H = ev.horizon;
  const W = ev.origins.length;
  const perStep = (fc: Float32Array): number[] => perStepMae(fc, ev.actuals, H);
  const T = prepared.series.shape[0];
  const classical = view.classical;
  const first = ev.originDates?.[0] ?? String(ev.origins[0]);
  const last = ev.originDates?.[W - 1] ?? String(ev.origins[W - 1]);
  if (o.json) {
    const result = {
      model: o.model,
      csv: o.csv,
      target: ckpt.meta.data.target,
      test_start: ev.testStart,
      test_start_date: ev.originDates?.[0] ?? null,
      test_rows: T - ev.testStart,
      horizon: H,
      trained_horizon: ckpt.meta.data.horizon,
      season,
      stride: ev.stride,
      windows: W,
      origins: { first, last },
      scores: { model: ev.scores.model, naive: ev.scores.naive, seasonal_naive: ev.scores.seasonalNaive },
      coverage:
        ev.coverage === null
          ? null
          : Object.fromEntries(ev.coverage.map((c) => [String(Math.round(c.level * 100)), c.coverage])),
      per_step_mae: {
        model: perStep(ev.forecasts.model),
        naive: perStep(ev.forecasts.naive),
        seasonal_naive: perStep(ev.forecasts.seasonalNaive),
      },
      classical: classical.map((r) => ({
        name: r.name,
        label: r.label,
        scores: r.scores,
        per_step_mae: r.forecasts === null ? null : perStepMae(r.forecasts, ev.actuals, H),
        seconds: r.seconds,
      })),
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const rows: [string, (typeof ev.scores)["model"]][] = [
    [names.model, ev.scores.model],
    [names.naive, ev.scores.naive],
    [names.seasonalNaive, ev.scores.seasonalNaive],
    ...classical
      .filter((r) => r.scores !== null)
      .map((r) => [classicalName(r), r.scores!] as [string, (typeof ev.scores)["model"]]),
  ];
  const w0 = Math.max(8, ...rows.map(([n]) => n.length));
  const cell = (x: number) => fmt(x, 3).padStart(10);
  const lines = [
    `Rolling-origin backtest of ${o.model} on the test part of ${o.csv} (target ${ckpt.meta.data.target}${o.series === undefined ? "" : `, series ${o.series}`})`,
    `test part: ${T - ev.testStart} rows from ${ev.originDates?.[0] ?? `row ${ev.testStart}`}; ${W} forecast origin(s) from ${first} to ${last}, every ${ev.stride} step(s); horizon ${H}${ev.horizonCut ? ` (the test part's length: the model forecasts ${ckpt.meta.data.horizon} steps, the first ${H} are scored)` : ""}; season ${season}`,
    "",
    `${"forecaster".padEnd(w0)}  ${"MAE".padStart(10)}${"RMSE".padStart(10)}${"sMAPE %".padStart(10)}${"MASE".padStart(10)}`,
    ...rows.map(([n, s]) => `${n.padEnd(w0)}  ${cell(s.mae)}${cell(s.rmse)}${cell(s.smape)}${cell(s.mase)}`),
    "",
  ];
  const m = ev.scores.model.mase;
  const sn = ev.scores.seasonalNaive.mase;
  const nv = ev.scores.naive.mase;
  const beats = [m < nv ? "naive" : null, m < sn ? "seasonal naive" : null].filter((x) => x !== null);
  lines.push(
    `MASE scales MAE by the in-sample seasonal-naive error (m=${season}) on the rows before the test part; below 1 beats that.`,
    beats.length === 2
      ? `The model beats both baselines (MASE ${fmt(m, 3)} vs ${fmt(sn, 3)} seasonal naive, ${fmt(nv, 3)} naive).`
      : beats.length === 1
        ? `The model beats ${beats[0]} only (MASE ${fmt(m, 3)} vs ${fmt(sn, 3)} seasonal naive, ${fmt(nv, 3)} naive).`
        : `The model does not beat the baselines (MASE ${fmt(m, 3)} vs ${fmt(sn, 3)} seasonal naive, ${fmt(nv, 3)} naive).`,
  );
  if (ev.coverage !== null) {
    lines.push(
      `Prediction intervals: ${ev.coverage.map((c) => `${Math.round(c.level * 100)}% cover ${(100 * c.coverage).toFixed(1)}% of the ${W * H} held-out points`).join("; ")}.`,
    );
  }
  if (o.classical) {
    for (const r of classical) if (r.scores === null) lines.push(`${r.name}: not fitted (${r.label})`);
    lines.push(classicalVerdict(m, classical, fmt));
  }
  process.stdout.write(`${escapeControls(lines.join("\n"))}\n`);
}

// ---------------------------------------------------------------- registration

/** Adds `train`, `forecast` and `evaluate` to the `recurrent` program. */
export function registerForecastCommands(program: Command): void {
  program
    .command("train")
    .summary("train a forecaster on a CSV column and save it as a checkpoint")
    .description(
      [
        "Train a recurrent forecaster on a column of a CSV file and save it as a safetensors checkpoint.",
        "--model hybrid (the default): an ES-RNN-style hybrid, Holt-Winters level, trend and seasonality with learned coefficients inside an LSTM forecaster, an ensemble of --members seeds with 80% and 95% prediction intervals; univariate. A series too short for it falls back to ETS, with a note. --model auto also fits the plain LSTM and ETS, compares the three on the validation part and keeps the best. --model lstm: the plain LSTM described below.",
        "The series is split in time order into training, validation and test parts; scaling is fitted on the training part only. Each window of --lookback rows predicts the next --horizon values of the target at once. With --window-norm last (the default) the network sees and predicts changes from the window's last value, so trends it never saw in training are followed. Adam with ReduceLROnPlateau on the validation loss; training stops early when the validation loss has not improved for --patience epochs, and the checkpoint keeps the best epoch's weights. The checkpoint is (re)written at every improvement; Ctrl-C stops, saves the best so far, and exits with code 130.",
      ].join("\n\n"),
    )
    .requiredOption("--csv <file>", "the CSV file (a header line, then one row per time step)")
    .option("--target <column>", "the column to forecast")
    .addOption(
      new Option(
        "--model <kind>",
        "hybrid: Holt-Winters inside an LSTM forecaster (ES-RNN), an ensemble with 80/95% intervals; lstm: the plain LSTM (features, --cell, --resume); auto: fit hybrid, LSTM and ETS and keep the best on the validation part",
      )
        .choices(["hybrid", "lstm", "auto"])
        .default("hybrid"),
    )
    .option(
      "--members <n>",
      "hybrid: ensemble members, each from its own seed, trained side by side on one worker thread per core (RECURRENT_NUM_THREADS)",
      num("--members", "posint"),
      5,
    )
    .addOption(
      new Option(
        "--combine <kind>",
        "hybrid, auto: what the hybrid is averaged with: auto (the default) a harmonic regression with ARIMA errors where the hybrid learns a yearly (daily data) or weekly (hourly data) season, else both ETS and seasonal ARIMA (the three averaged), of the logarithms for a positive series; ets, ets-logs, arima, ets-arima that; none keeps the hybrid alone",
      ).choices(["auto", "ets", "ets-logs", "arima", "ets-arima", "none"]),
    )
    .option(
      "--season <m>",
      "hybrid, auto: the Holt-Winters season (default from the dates: 12 monthly, 7 daily, 24 hourly)",
      num("--season", "posint"),
    )
    .option(
      "--features <a,b,...>",
      "other columns to read as inputs (comma-separated)",
      parseList("--features"),
    )
    .option("--date-column <column>", "the date column (default: the first ISO-date column; 'none' for none)")
    .addOption(idColumnOption())
    .addOption(seriesOption())
    .addOption(fillOption())
    .option("--lookback <n>", "rows of history each forecast reads", num("--lookback", "posint"), D.lookback)
    .option("--horizon <n>", "steps forecast at once", num("--horizon", "posint"), D.horizon)
    .addOption(new Option("--cell <type>", "recurrent cell").choices(["rnn", "lstm", "gru"]).default(D.cell))
    .option("--hidden <n>", "hidden size", num("--hidden", "posint"), D.hidden)
    .option("--layers <n>", "stacked recurrent layers", num("--layers", "posint"), D.layers)
    .option(
      "--dropout <p>",
      "dropout between stacked layers (needs --layers 2+)",
      parseFraction("--dropout", 0, 1, false),
      D.dropout,
    )
    .option("--no-batch-first", "store the model as batch_first=False (a layout choice for PyTorch users)")
    .option(
      "--epochs <n>",
      "most epochs to run (with --resume: more epochs)",
      num("--epochs", "posint"),
      D.epochs,
    )
    .option("--batch-size <n>", "windows per mini-batch", num("--batch-size", "posint"), D.batchSize)
    .option("--lr <x>", "Adam learning rate", num("--lr", "posfloat"), D.lr)
    .option(
      "--clip <x>",
      "clip the gradient norm to this value (0: no clipping)",
      nonNegative("--clip"),
      D.clip,
    )
    .option("--seed <n>", "random seed for weights and batch order", num("--seed", "int"), D.seed)
    .option("--val <size>", "validation part: a fraction or a number of rows", parseSize("--val"), D.val)
    .option(
      "--test <size>",
      "test part, held out for `evaluate`: a fraction or a number of rows",
      parseSize("--test"),
      D.test,
    )
    .option(
      "--patience <n>",
      "stop after this many epochs without improvement (0: never)",
      nonNegativeInt("--patience"),
      D.patience,
    )
    .option(
      "--lr-patience <n>",
      "halve the learning rate after this many epochs without improvement",
      nonNegativeInt("--lr-patience"),
      D.lrPatience,
    )
    .option(
      "--lr-factor <x>",
      "factor applied to the learning rate on a plateau",
      parseFraction("--lr-factor", 0, 1, false),
      D.lrFactor,
    )
    .addOption(
      new Option("--scaler <kind>", "per-column scaling fitted on the training part")
        .choices(["standard", "minmax"])
        .default(D.scaler),
    )
    .addOption(
      new Option(
        "--window-norm <kind>",
        "last: work relative to each window's last target value; none: absolute",
      )
        .choices(["last", "none"])
        .default(D.windowNorm),
    )
    .option(
      "--out <file>",
      "where to save the checkpoint (.safetensors); default with --resume: the resumed file",
    )
    .option("--resume <checkpoint>", "continue training a checkpoint (weights, optimizer state, history)")
    .option("--loss-chart <stem>", "also draw the loss curves to <stem>.svg and <stem>.png")
    .option("--json", "print a JSON summary instead of text")
    .option(
      "--emit-torch <dir>",
      "train nothing: write <dir>/torch_train.json, this run's settings for scripts/torch_train.py (PyTorch DDP)",
    )
    .option(
      "--deterministic",
      "write 0 for the timing fields, so the same data, options and seed give a byte-identical checkpoint",
    )
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  recurrent train --csv datasets/co2-concentration.csv --target CO2 --fill linear --out co2.safetensors",
        "  recurrent train --csv weather.csv --target temp_max --features temp_min,wind --lookback 28 --horizon 7 \\",
        "      --cell gru --hidden 64 --out weather.safetensors",
        "  recurrent train --csv datasets/co2-concentration.csv --resume co2.safetensors --epochs 50",
        "  recurrent train --csv datasets/co2-concentration.csv --target CO2 --fill linear --emit-torch run",
        "      (then: python3 scripts/torch_train.py --config run/torch_train.json --nproc 2 --out co2.safetensors)",
        "  recurrent train --csv datasets/monthly-panel.csv --id-column id --target value --out panel.safetensors",
        "      (many series in long format: one LSTM over all of them, each series scaled on its own)",
        "",
        "Progress goes to stderr (a bar on a terminal, one line per epoch otherwise); the summary to stdout.",
      ].join("\n"),
    )
    .action(async (opts: TrainCli, cmd: Command) => {
      await trainCommand(opts, cmd);
    });

  program
    .command("forecast")
    .summary("forecast the steps after the end of a CSV series with a trained checkpoint")
    .description(
      [
        "Forecast the steps after the end of the series in a CSV file with a trained checkpoint. Prints CSV (date,value; step,value without dates) or JSON, with dates continued from the series, and draws the recent history with the forecast to <out>.svg and <out>.png.",
        "--horizon may exceed the trained horizon for a univariate model: forecasts are then fed back as history, one trained horizon at a time (errors grow with each round).",
      ].join("\n\n"),
    )
    .requiredOption("--model <checkpoint>", "a checkpoint written by `recurrent train`")
    .requiredOption("--csv <file>", "the series to continue (it needs the checkpoint's columns)")
    .option("--horizon <n>", "steps to forecast (default: the trained horizon)", num("--horizon", "posint"))
    .addOption(idColumnOption())
    .addOption(seriesOption())
    .addOption(fillOption())
    .option("--json", "print JSON instead of CSV")
    .option("--out <stem>", "chart file stem (writes <stem>.svg and <stem>.png)", "forecast")
    .option("--no-chart", "do not draw the chart")
    .option("--history <n>", "observed points shown in the chart", num("--history", "posint"))
    .option(
      "--compare",
      "add the forecasts of ETS (auto), ARIMA (auto, of the logarithms of a positive series), Theta and seasonal naive with drift as columns",
    )
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  recurrent forecast --model co2.safetensors --csv datasets/co2-concentration.csv",
        "  recurrent forecast --model co2.safetensors --csv datasets/co2-concentration.csv --horizon 36 --out co2-3y",
        "  recurrent forecast --model co2.safetensors --csv datasets/co2-concentration.csv --json --no-chart",
        "  recurrent forecast --model panel.safetensors --csv datasets/monthly-panel.csv   (id,date,value rows)",
      ].join("\n"),
    )
    .action(async (opts: ForecastCli) => {
      await forecastCommand(opts);
    });

  program
    .command("evaluate")
    .summary("backtest a checkpoint on its held-out test part against naive baselines")
    .description(
      [
        "Rolling-origin backtest on the test part that the checkpoint's split held out: from each origin in the test part, every forecaster sees the series up to the origin and forecasts the next horizon steps. Reports MAE, RMSE, sMAPE and MASE for the model beside the naive (last value) and seasonal-naive (last season) forecasts on the same windows, and beside the classical models fitted on the rows before the test part: ETS (selected by AICc as R's forecast::ets), seasonal ARIMA (chosen as R's forecast::auto.arima chooses it, of the logarithms of a positive series), Theta, and seasonal naive with drift.",
      ].join("\n\n"),
    )
    .requiredOption("--model <checkpoint>", "a checkpoint written by `recurrent train`")
    .requiredOption("--csv <file>", "the series the model was trained on (or a longer version of it)")
    .option(
      "--season <m>",
      "season length for seasonal naive and MASE (default: 12 monthly, 4 quarterly, 7 daily, 52 weekly, 24 hourly, else 1)",
      num("--season", "posint"),
    )
    .option("--stride <s>", "steps between origins", num("--stride", "posint"), 1)
    .option(
      "--horizon <n>",
      "score only the first n steps (default: the trained horizon, or the test part's length where that is shorter)",
      num("--horizon", "posint"),
    )
    .addOption(idColumnOption())
    .addOption(seriesOption())
    .addOption(fillOption())
    .option("--json", "print JSON instead of a table")
    .option("--no-classical", "leave out the classical models (ETS, ARIMA, Theta, seasonal naive with drift)")
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  recurrent evaluate --model co2.safetensors --csv datasets/co2-concentration.csv",
        "  recurrent evaluate --model co2.safetensors --csv datasets/co2-concentration.csv --stride 12 --json",
        "  recurrent evaluate --model panel.safetensors --csv datasets/monthly-panel.csv --series wine",
      ].join("\n"),
    )
    .action((opts: EvaluateCli) => {
      evaluateCommand(opts);
    });

  program
    .command("export")
    .summary("write a checkpoint's forecaster as an ONNX model (raw values in, forecasts out)")
    .description(
      "Write the checkpoint's forecaster as one ONNX graph (opset 17) that onnxruntime runs anywhere: input x (batch, lookback, columns) holds the last lookback rows of the checkpoint's columns in their own units, output forecast (batch, horizon) is in the target's units. The scaling, the window normalisation and the way back are inside the graph.",
    )
    .requiredOption("--model <checkpoint>", "a checkpoint written by `recurrent train`")
    .requiredOption("--onnx <file>", "the ONNX file to write")
    .addOption(seriesOption())
    .option("--json", "print what was written as JSON")
    .addHelpText(
      "after",
      ["", "Examples:", "  recurrent export --model co2.safetensors --onnx co2.onnx"].join("\n"),
    )
    .action((opts: { model: string; onnx: string; json?: boolean; series?: string }) => {
      const ckpt = checkpointToExport(loadCheckpointFile(opts.model), opts, opts.model);
      const bytes = exportForecastOnnx(ckpt, opts.model);
      try {
        fs.writeFileSync(opts.onnx, bytes);
      } catch (e) {
        throw new CliError(`cannot write ${opts.onnx}: ${ioReason(e)}`);
      }
      const d = ckpt.meta.data;
      const info = {
        onnx: opts.onnx,
        bytes: bytes.length,
        input: { name: "x", shape: ["batch", d.lookback, d.columns.length], columns: d.columns },
        output: { name: "forecast", shape: ["batch", d.horizon], target: d.target },
      };
      if (opts.json) process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
      else
        process.stdout.write(
          `wrote ${opts.onnx} (${bytes.length} bytes): x (batch, ${d.lookback}, ${d.columns.length}) = the last ${d.lookback} rows of ${d.columns.join(", ")} -> forecast (batch, ${d.horizon}) of ${d.target}\n`,
        );
    });
}
