// Many series on the command line: `--id-column COL` reads a long-format CSV (id,date,value rows) and
// `--series ID` picks one of its series. Without --series, `train` fits one global LSTM over every series
// (src/forecast/panel.ts), `evaluate` backtests each series and pools the scores, and `forecast` writes
// id,date,value rows for every series. With --series, each command works on that one series as on a
// one-series file (a panel checkpoint then uses that series' scaler and split).

import { Option } from "commander";
import { formatDate } from "../../data/dates.js";
import { DataError, escapeControls } from "../../data/errors.js";
import type { FillMethod } from "../../data/series.js";
import type { ForecastCheckpoint } from "../../forecast/checkpoint.js";
import { type PreparedSeries, type SeriesSpec, defaultSeason, describeStep } from "../../forecast/data.js";
import { describeModel, modelKind } from "../../forecast/describe.js";
import { CheckpointError } from "../../forecast/errors.js";
import { seriesSpecOf } from "../../forecast/forecast.js";
import {
  type PreparedPanel,
  evaluatePanel,
  forecastPanel,
  panelMember,
  panelOf,
  panelWindows,
  preparePanel,
  seriesCheckpoint,
  trainPanel,
} from "../../forecast/panel.js";
import type { TrainOptions } from "../../forecast/train.js";
import { CliError, UsageError } from "./errors.js";
import {
  checkWritable,
  cliMessage,
  f32str,
  loadCheckpointFile,
  readText,
  saveCheckpointFile,
} from "./forecast-commands.js";
import { makeProgress } from "./progress.js";
import { torchTrainConfig, writeTorchConfig } from "./torch-config.js";

/** The two options every forecasting command takes. */
export interface PanelCli {
  idColumn?: string;
  series?: string;
}

/** --id-column, for train, forecast, evaluate. */
export const idColumnOption = (): Option =>
  new Option(
    "--id-column <column>",
    "many series in one long-format file (rows id,date,value): the column naming each row's series (default for a checkpoint trained on many: its own)",
  );

/** --series, for train, forecast, evaluate, export. */
export const seriesOption = (): Option =>
  new Option("--series <id>", "with many series: use only the series with this id");

const q = (p: string) => (/[^\w./-]/.test(p) ? JSON.stringify(p) : p);
const fmt = (x: number, digits = 3): string =>
  !Number.isFinite(x)
    ? String(x)
    : Math.abs(x) >= 1e-3 && Math.abs(x) < 1e6
      ? x.toFixed(digits)
      : x.toExponential(digits - 1);

/** Reads a long-format CSV; data errors become command-line messages. */
export function readPanel(csvPath: string, spec: SeriesSpec & { idColumn: string }): PreparedPanel {
  const text = readText(csvPath, "CSV file");
  try {
    return preparePanel(text, spec);
  } catch (e) {
    throw cliMessage(e);
  }
}

/**
 * With --series: that series of the long-format file, prepared as a one-series file is (else null, and
 * the file is read as one series). --series needs an id column: --id-column, or the checkpoint's.
 */
export function pickSeries(
  csvPath: string,
  spec: SeriesSpec,
  o: PanelCli,
  ckptIdColumn?: string,
): PreparedSeries | null {
  if (o.series === undefined) return null;
  const idColumn = o.idColumn ?? ckptIdColumn;
  if (idColumn === undefined)
    throw new UsageError(
      "--series picks one series of a long-format file: name its id column with --id-column",
    );
  const panel = readPanel(csvPath, { ...spec, idColumn });
  try {
    return panelMember(panel, o.series).prepared;
  } catch (e) {
    throw cliMessage(e);
  }
}

/** A panel checkpoint narrowed to --series (its scaler and split), with its id column; others as they are. */
export function checkpointForSeries(
  ckpt: ForecastCheckpoint,
  o: PanelCli,
  source: string,
): { ckpt: ForecastCheckpoint; idColumn: string | undefined } {
  const p = panelOf(ckpt);
  if (p === null || o.series === undefined) return { ckpt, idColumn: o.idColumn ?? p?.id_column };
  return { ckpt: seriesCheckpoint(ckpt, o.series, source), idColumn: o.idColumn ?? p.id_column };
}

/**
 * `export`: the ONNX graph holds one series' scaling, so a checkpoint of many series needs --series;
 * --series on a one-series checkpoint is a mistake too.
 */
export function checkpointToExport(
  ckpt: ForecastCheckpoint,
  o: PanelCli,
  source: string,
): ForecastCheckpoint {
  const p = panelOf(ckpt);
  if (p === null) {
    if (o.series !== undefined)
      throw new UsageError(
        `--series ${o.series}: ${source} was trained on one series, so there is none to pick`,
      );
    return ckpt;
  }
  if (o.series === undefined) {
    throw new UsageError(
      `${source} holds one model of ${p.series.length} series, each with its own scaling, and the ONNX graph holds the scaling of one: pick it with --series ID (${p.series
        .slice(0, 5)
        .map((s) => s.id)
        .join(", ")}${p.series.length > 5 ? ", ..." : ""})`,
    );
  }
  return seriesCheckpoint(ckpt, o.series, source);
}

// ---------------------------------------------------------------- train

interface PanelTrainCli extends PanelCli {
  csv: string;
  target?: string;
  features?: string[];
  dateColumn?: string | false;
  fill?: FillMethod;
  out?: string;
  json: boolean;
  emitTorch?: string;
  deterministic?: boolean;
  resume?: string;
  model: string;
}

/**
 * `train --id-column COL` without --series: one global LSTM over every series. Returns false when this is
 * not such a run (the caller trains one series). --model hybrid and auto fit one series at a time and are
 * refused here with what to do instead.
 */
export async function trainPanelCommand(
  o: PanelTrainCli,
  given: (k: string) => boolean,
  options: TrainOptions,
): Promise<boolean> {
  if (o.series !== undefined && o.idColumn === undefined)
    throw new UsageError(
      "--series picks one series of a long-format file: name its id column with --id-column",
    );
  if (o.idColumn === undefined || o.series !== undefined) return false;
  if (o.resume !== undefined)
    throw new UsageError(
      "--resume continues a one-series checkpoint; a model of many series (--id-column) is trained afresh",
    );
  if (given("model") && o.model !== "lstm") {
    throw new UsageError(
      `--model ${o.model} fits one series at a time, so it does not take many series (--id-column ${o.idColumn}): train one global LSTM over all of them with --model lstm (the default with --id-column), or one series with --series ID`,
    );
  }
  if (o.target === undefined) throw new UsageError("train needs --target COLUMN (the column to forecast)");
  const spec = {
    target: o.target,
    features: o.features,
    dateColumn: o.dateColumn,
    fill: o.fill,
    idColumn: o.idColumn,
  };
  const panel = readPanel(o.csv, spec);
  if (o.emitTorch !== undefined) {
    let w: ReturnType<typeof panelWindows>;
    try {
      w = panelWindows(panel, options); // a config only for data that can train
    } catch (e) {
      throw cliMessage(e);
    }
    const base = torchTrainConfig(o.csv, o.features, w.members[0].prepared, options, o.out);
    writeTorchConfig(o.emitTorch, { ...base, data: { ...base.data, id_column: o.idColumn } });
    return true;
  }
  const out = o.out;
  if (out === undefined) throw new UsageError("train needs --out FILE.safetensors (where to save the model)");
  checkWritable(out, "checkpoint");
  const log = process.stderr;
  const m0 = panel.members[0].prepared;
  log.write(
    `${escapeControls(`training one LSTM on ${panel.members.length} series of ${o.csv} (ids in ${JSON.stringify(o.idColumn)}): target ${o.target}, ${describeStep(m0.step)}, ${panel.members.reduce((s, m) => s + m.prepared.series.shape[0], 0)} rows`)}\n`,
  );
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    log.write("\ninterrupted: stopping after this batch and saving the best checkpoint\n");
  };
  process.on("SIGINT", onSigint);
  const progress = makeProgress(options.epochs, "epoch {epoch} | loss {loss} | val {val} | lr {lr}", log);
  let r: Awaited<ReturnType<typeof trainPanel>>;
  try {
    r = await trainPanel(panel, options, {
      shouldStop: () => interrupted,
      onImprove: async (ck) => saveCheckpointFile(out, ck, o.deterministic),
      onEpoch: (e) => {
        const val = e.val_loss === null ? "-" : e.val_loss.toExponential(3);
        progress.update(
          e.done,
          { epoch: `${e.epoch}`, loss: e.loss.toExponential(3), val, lr: e.lr.toExponential(1) },
          `epoch ${String(e.epoch).padStart(3)}/${e.planned}  loss ${e.loss.toExponential(3)}  val ${val}  lr ${e.lr.toExponential(1)}  ${e.seconds.toFixed(2)}s${e.improved ? "  *best" : ""}`,
        );
      },
    });
  } catch (e) {
    throw cliMessage(e);
  } finally {
    progress.stop();
    process.off("SIGINT", onSigint);
  }
  const ck = r.checkpoint;
  if (r.stopped === "non-finite") {
    const f = r.failure!;
    throw new CliError(
      `training stopped: the ${f.what} became ${f.value} at epoch ${f.epoch}; try a smaller --lr${ck === null ? "" : ` (the best checkpoint so far is saved in ${out})`}`,
    );
  }
  if (ck === null) throw new CliError("training ran no epoch");
  await saveCheckpointFile(out, ck, o.deterministic);
  const w = r.windows;
  const t = ck.meta.training;
  if (o.json) {
    const summary = {
      checkpoint: out,
      stopped: r.stopped,
      epochs_run: r.epochsRun,
      seconds: r.seconds,
      best_epoch: t.best_epoch,
      best_loss: t.best_loss,
      model: ck.meta.model,
      panel: ck.meta.data.panel,
      windows: { train: w.train.n, val: w.val.n, test: w.test },
      history: t.history,
    };
    process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    if (r.stopped === "interrupted")
      throw new CliError(`interrupted; the best checkpoint is saved in ${out}`, 130);
    return true;
  }
  const best = t.history.find((e) => e.epoch === t.best_epoch);
  const d = ck.meta.data;
  const lines = [
    "",
    `model      ${describeModel(ck)} on ${d.columns.join(", ")} (lookback ${d.lookback}, horizon ${d.horizon}, window norm ${d.window_norm}, ${d.scaler.type} scaling per series)`,
    `series     ${w.members.length} trained on: ${w.members.map((m) => `${m.id} (${m.prepared.series.shape[0]} rows)`).join(", ")}`,
    ...w.skipped.map((s) => `skipped    ${s.id} (${s.rows} rows): ${s.reason}`),
    `windows    train ${w.train.n}, validation ${w.val.n}, test ${w.test} over all series`,
    `epochs     ${r.epochsRun} in ${r.seconds.toFixed(1)} s (${r.stopped === "early-stop" ? `early stop: no better ${t.monitor === "val_loss" ? "validation" : "training"} loss for ${t.patience} epochs` : r.stopped === "interrupted" ? "interrupted" : "ran the epochs asked for"})`,
    `best       epoch ${t.best_epoch}: loss ${best ? best.loss.toExponential(3) : "?"}${best?.val_loss != null ? `, validation loss ${best.val_loss.toExponential(3)}` : ""} (MSE, scaled units)`,
    `saved      ${out}`,
    "",
    "next:",
    `  recurrent evaluate --model ${q(out)} --csv ${q(o.csv)}`,
    `  recurrent forecast --model ${q(out)} --csv ${q(o.csv)}`,
  ];
  process.stdout.write(`${escapeControls(lines.join("\n"))}\n`);
  if (r.stopped === "interrupted")
    throw new CliError(`interrupted; the best checkpoint is saved in ${out}`, 130);
  return true;
}

// ---------------------------------------------------------------- forecast and evaluate

interface UseCli extends PanelCli {
  model: string;
  csv: string;
  fill?: FillMethod;
  json: boolean;
}

/**
 * The checkpoint and the long-format file for a run over all series (no --series), or null when this
 * is not one (a one-series checkpoint without --id-column, or --series given).
 */
function loadPanelRun(
  o: UseCli,
): { ckpt: ForecastCheckpoint; panel: PreparedPanel; idColumn: string } | null {
  if (o.series !== undefined) return null;
  const ckpt = loadCheckpointFile(o.model);
  const p = panelOf(ckpt);
  if (p === null) {
    if (o.idColumn === undefined) return null;
    throw new UsageError(
      `${o.model} was trained on one series: pick the series of ${o.csv} to use it on with --series ID`,
    );
  }
  const idColumn = o.idColumn ?? p.id_column;
  const d = ckpt.meta.data;
  let panel: PreparedPanel;
  try {
    panel = readPanel(o.csv, { ...seriesSpecOf(ckpt), fill: o.fill ?? d.fill ?? undefined, idColumn });
  } catch (e) {
    if (e instanceof DataError && /^unknown column/.test(e.message)) {
      throw new CheckpointError(
        `the checkpoint ${o.model} was trained on many series (ids in column ${JSON.stringify(idColumn)}) reading ${d.columns.join(", ")}, which ${o.csv} does not match: ${e.message}${o.idColumn === undefined ? "; name its id column with --id-column" : ""}`,
      );
    }
    throw e;
  }
  const now = panel.members.find((m) => m.prepared.step !== null)?.prepared.step ?? null;
  if (d.date_step !== null && now !== null && JSON.stringify(d.date_step) !== JSON.stringify(now)) {
    throw new CheckpointError(
      `the checkpoint ${o.model} was trained on ${describeStep(d.date_step)} data but ${o.csv} is ${describeStep(now)}`,
    );
  }
  return { ckpt, panel, idColumn };
}

/** `forecast` over every series: id,date,value rows (JSON with --json). False when not a panel run. */
export function forecastPanelCommand(
  o: UseCli & { horizon?: number; chart: boolean; compare?: boolean },
): boolean {
  const run = loadPanelRun(o);
  if (run === null) return false;
  if (o.compare === true)
    throw new UsageError("--compare fits the classical models to one series: pick it with --series ID");
  const { ckpt, panel, idColumn } = run;
  let fc: ReturnType<typeof forecastPanel>;
  try {
    fc = forecastPanel(ckpt, panel, o.horizon, o.model);
  } catch (e) {
    throw cliMessage(e);
  }
  const d = ckpt.meta.data;
  const notes: string[] = [];
  if (fc.unknown.length > 0)
    notes.push(`not forecast (the checkpoint was not trained on them): ${fc.unknown.join(", ")}`);
  if (fc.missing.length > 0) notes.push(`trained on but not in ${o.csv}: ${fc.missing.join(", ")}`);
  if (o.json) {
    const result = {
      target: d.target,
      model: o.model,
      id_column: idColumn,
      lookback: d.lookback,
      trained_horizon: d.horizon,
      series: fc.series.map(({ id, forecast }) => {
        const s = panelMember(panel, id).prepared.series;
        const T = s.shape[0];
        return {
          id,
          last_observed: {
            ...(s.dates !== null
              ? { date: formatDate(s.dates[T - 1], s.dateFormat ?? undefined) }
              : { step: T - 1 }),
            value: Number(f32str(s.data[(T - 1) * s.shape[1] + s.targetIndex])),
          },
          forecast: Array.from(forecast.values, (v, i) => ({
            ...(forecast.dates !== null ? { date: forecast.dates[i] } : { step: T + i }),
            value: Number(f32str(v)),
          })),
        };
      }),
      unknown: fc.unknown,
      missing: fc.missing,
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else {
    const key = fc.series.every((s) => s.forecast.dates !== null) ? "date" : "step";
    const rows = [`${idColumn},${key},value`];
    for (const { id, forecast } of fc.series) {
      const T = panelMember(panel, id).prepared.series.shape[0];
      const cell = /[",\n\r]/.test(id) ? `"${id.replace(/"/g, '""')}"` : id;
      forecast.values.forEach((v, i) => {
        rows.push(`${cell},${forecast.dates?.[i] ?? T + i},${f32str(v)}`);
      });
    }
    process.stdout.write(`${rows.join("\n")}\n`);
  }
  if (o.chart) notes.push("no chart for many series: draw one with --series ID");
  for (const n of notes) process.stderr.write(`note: ${escapeControls(n)}\n`);
  return true;
}

/** `evaluate` over every series: a table per series and the pooled scores. False when not a panel run. */
export function evaluatePanelCommand(
  o: UseCli & { season?: number; stride: number; horizon?: number },
): boolean {
  const run = loadPanelRun(o);
  if (run === null) return false;
  const { ckpt, panel, idColumn } = run;
  const step = panel.members.find((m) => m.prepared.step !== null)?.prepared.step ?? ckpt.meta.data.date_step;
  const season = o.season ?? defaultSeason(step);
  let ev: ReturnType<typeof evaluatePanel>;
  try {
    ev = evaluatePanel(ckpt, panel, { season, stride: o.stride, horizon: o.horizon }, o.model);
  } catch (e) {
    throw cliMessage(e);
  }
  const H = ev.series[0].evaluation.horizon;
  const scoresJson = (s: (typeof ev.overall)["scores"]) => ({
    model: s.model,
    naive: s.naive,
    seasonal_naive: s.seasonalNaive,
  });
  if (o.json) {
    const result = {
      model: o.model,
      csv: o.csv,
      target: ckpt.meta.data.target,
      id_column: idColumn,
      horizon: H,
      season,
      stride: o.stride,
      series: ev.series.map(({ id, evaluation: e }) => ({
        id,
        test_start: e.testStart,
        test_start_date: e.originDates?.[0] ?? null,
        windows: e.origins.length,
        scores: scoresJson(e.scores),
      })),
      skipped: ev.skipped,
      overall: {
        series: ev.series.length,
        windows: ev.overall.windows,
        points: ev.overall.points,
        scores: scoresJson(ev.overall.scores),
      },
    };
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return true;
  }
  const w0 = Math.max(`seasonal naive (m=${season})`.length, ...ev.series.map((s) => s.id.length));
  const cell = (x: number) => fmt(x).padStart(10);
  const head = `${"MAE".padStart(10)}${"RMSE".padStart(10)}${"sMAPE %".padStart(10)}${"MASE".padStart(10)}`;
  const lines = [
    `Rolling-origin backtest of ${o.model} (${modelKind(ckpt)}, one model for all series) on the test part of each series of ${o.csv} (target ${ckpt.meta.data.target}, ids in ${JSON.stringify(idColumn)}); horizon ${H}; season ${season}; origins every ${o.stride} step(s)`,
    "",
    `${"series".padEnd(w0)}  ${"windows".padStart(8)}${head}${"snaive MASE".padStart(13)}`,
    ...ev.series.map(({ id, evaluation: e }) => {
      const s = e.scores.model;
      return `${id.padEnd(w0)}  ${String(e.origins.length).padStart(8)}${cell(s.mae)}${cell(s.rmse)}${cell(s.smape)}${cell(s.mase)}${fmt(e.scores.seasonalNaive.mase).padStart(13)}`;
    }),
    "",
    `overall: ${ev.series.length} series, ${ev.overall.windows} windows, ${ev.overall.points} points (MAE, sMAPE, MASE: means over the points; RMSE: root of the mean square)`,
    `${"forecaster".padEnd(w0)}  ${" ".repeat(8)}${head}`,
    ...(
      [
        [modelKind(ckpt), ev.overall.scores.model],
        ["naive", ev.overall.scores.naive],
        [`seasonal naive (m=${season})`, ev.overall.scores.seasonalNaive],
      ] as const
    ).map(
      ([n, s]) =>
        `${n.padEnd(w0)}  ${" ".repeat(8)}${cell(s.mae)}${cell(s.rmse)}${cell(s.smape)}${cell(s.mase)}`,
    ),
  ];
  for (const s of ev.skipped) lines.push(`not evaluated: ${s.id}: ${s.reason}`);
  const m = ev.overall.scores.model.mase;
  const sn = ev.overall.scores.seasonalNaive.mase;
  lines.push(
    "",
    `MASE scales each series' errors by its own in-sample seasonal-naive error (m=${season}); below 1 beats that. Overall the model ${m < sn ? "beats" : "does not beat"} seasonal naive (MASE ${fmt(m)} vs ${fmt(sn)}); per series it beats it on ${ev.series.filter((s) => s.evaluation.scores.model.mase < s.evaluation.scores.seasonalNaive.mase).length} of ${ev.series.length}.`,
  );
  process.stdout.write(`${escapeControls(lines.join("\n"))}\n`);
  return true;
}
