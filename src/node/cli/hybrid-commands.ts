// `recurrent train --model hybrid | auto` (hybrid is the default), and the ETS fallback for series too
// short for a learned model. The LSTM path (`--model lstm`) stays in forecast-commands.ts.

import { memberRunner } from "../members.js";
import type { ForecastCheckpoint } from "../../forecast/checkpoint.js";
import type { PreparedSeries } from "../../forecast/data.js";
import { describeModel } from "../../forecast/describe.js";
import { defaultSeason } from "../../forecast/data.js";
import { ForecastError } from "../../forecast/errors.js";
import { type AutoResult, trainAuto } from "../../forecast/hybrid/auto.js";
import { partnerSpec } from "../../forecast/hybrid/combine.js";
import { etsCheckpoint, trainHybridForecaster } from "../../forecast/hybrid/run.js";
import {
  type CombineKind,
  DEFAULT_HYBRID_OPTIONS,
  type HybridEpoch,
  type HybridOptions,
  SeriesTooShortError,
} from "../../forecast/hybrid/train.js";
import type { TrainOptions } from "../../forecast/train.js";
import { CliError } from "./errors.js";

export type ModelKind = "hybrid" | "lstm" | "auto";

export interface HybridCliOptions {
  csv: string;
  lookback: number;
  horizon: number;
  hidden: number;
  layers: number;
  members: number;
  combine?: CombineKind;
  season?: number;
  epochs: number;
  batchSize: number;
  lr: number;
  clip: number;
  seed: number;
  val: number;
  test: number;
  patience: number;
  lrPatience: number;
  json: boolean;
}

/** The hybrid's, ETS's or ARIMA's description (null for an LSTM checkpoint). */
export function describeSavedModel(ckpt: ForecastCheckpoint): string | null {
  const m = ckpt.meta;
  return m.hybrid === undefined && m.ets === undefined && m.arima === undefined ? null : describeModel(ckpt);
}

/** The hybrid options from the command line: the LSTM's defaults where they differ are the hybrid's own. */
export function hybridOptionsOf(o: HybridCliOptions, given: (k: string) => boolean): HybridOptions {
  const D = DEFAULT_HYBRID_OPTIONS;
  return {
    ...D,
    lookback: o.lookback,
    horizon: o.horizon,
    val: o.val,
    test: o.test,
    hidden: o.hidden,
    layers: o.layers,
    members: o.members,
    epochs: given("epochs") ? o.epochs : D.epochs,
    batchSize: o.batchSize,
    lr: o.lr,
    clip: o.clip,
    seed: o.seed,
    patience: given("patience") ? o.patience : D.patience,
    lrPatience: given("lrPatience") ? o.lrPatience : D.lrPatience,
    season: o.season ?? null,
    combine: o.combine ?? D.combine,
  };
}

export interface HybridTrainOutcome {
  checkpoint: ForecastCheckpoint;
  /** Lines for the summary (stdout). */
  lines: string[];
  json: Record<string, unknown>;
}

/**
 * Trains the hybrid (or, for `auto`, all three candidates) and returns the checkpoint to save. A series
 * too short for the hybrid falls back to ETS, with a note on stderr saying so.
 */
export async function trainHybridOrAuto(
  kind: "hybrid" | "auto",
  o: HybridCliOptions,
  given: (k: string) => boolean,
  prepared: PreparedSeries,
  lstmOptions: TrainOptions,
  shouldStop: () => boolean,
): Promise<HybridTrainOutcome> {
  const log = (s: string) => process.stderr.write(`${s}\n`);
  const opts = hybridOptionsOf(o, given);
  const period = opts.season ?? defaultSeason(prepared.step);
  const onEpoch = (e: HybridEpoch) => {
    log(
      `${e.phase === "refit" ? "refit " : ""}member ${e.member + 1}/${opts.members}  epoch ${String(e.epoch).padStart(3)}  loss ${e.loss.toFixed(4)}  val ${e.valLoss === null ? "-" : e.valLoss.toFixed(4)}  ${e.seconds.toFixed(2)}s`,
    );
  };
  const onPartnerNote = (text: string) => log(`combine: ${text}`);
  const onPartner = (what: string) =>
    log(`combine: fitting the hybrid's partner, ${what}, on the rows before the test part`);
  const fallback = (why: string): HybridTrainOutcome => {
    let ets: ReturnType<typeof etsCheckpoint>;
    try {
      ets = etsCheckpoint(
        prepared,
        opts.horizon,
        period,
        { val: opts.val, test: opts.test },
        "too-short",
        why,
        0,
      );
    } catch (e) {
      if (e instanceof ForecastError) throw new CliError(`${why}; and ${e.message}`);
      throw e;
    }
    const rows = ets.checkpoint.meta.split.val_range[1];
    log(
      `note: ${why}; falling back to ETS: ${ets.meta.spec}, selected by AICc on the ${rows} rows before the test part`,
    );
    return {
      checkpoint: ets.checkpoint,
      lines: [
        `model      ${ets.meta.spec} (fallback: the series is too short for the hybrid)`,
        `fitted on  ${rows} rows before the test part`,
      ],
      json: { model_kind: "ets", fallback: true, reason: why, ets: ets.meta },
    };
  };

  if (kind === "hybrid") {
    const mase = (v: number | null | undefined) => (v === null || v === undefined ? "-" : v.toFixed(4));
    // with a combination the saved forecaster is the average: its score, then its parts'
    const validationParts = (ck: ForecastCheckpoint): string => {
      const h = ck.meta.hybrid;
      const cb = h?.combine ?? null;
      if (h === undefined || cb === null) return "ensemble, ";
      const both = cb.ets !== undefined && cb.arima !== undefined;
      return `the average; the hybrid alone ${mase(h.val_mase)}, ${partnerSpec(cb)}${both ? " (their mean)" : ""} ${mase(cb.partner_val_mase)}; `;
    };
    let run: Awaited<ReturnType<typeof trainHybridForecaster>>;
    try {
      run = await trainHybridForecaster(prepared, opts, {
        onEpoch,
        shouldStop,
        onPartner,
        onPartnerNote,
        runMembers: memberRunner(),
      });
    } catch (e) {
      if (e instanceof SeriesTooShortError) return fallback(e.message);
      throw e;
    }
    const r = run.result;
    const c = r.config;
    const s = r.split;
    const rows = (a: { start: number; end: number }) => a.end - a.start;
    // the 80 % band at the first and last step in the series' terms: a share of the forecast where
    // the residuals are log ratios (multiplicative), a width in the series' units otherwise
    const band = (h: number): string => {
      const [, lo, hi] = r.intervals.quantiles[h];
      if (c.mode === "multiplicative") {
        const pct = (q: number) => `${q >= 0 ? "+" : "−"}${Math.abs(100 * Math.expm1(q)).toPrecision(2)}%`;
        return `${pct(lo)} to ${pct(hi)}`;
      }
      return ((hi - lo) * c.scale.scale).toPrecision(3);
    };
    const bandUnit =
      c.mode === "multiplicative"
        ? "of the forecast"
        : `wide (${prepared.series.columns[prepared.series.targetIndex]} units)`;
    return {
      checkpoint: run.checkpoint,
      lines: [
        `model      ${describeSavedModel(run.checkpoint)}`,
        `data       lookback ${c.lookback}, horizon ${c.horizon}; ${c.mode} (working units: (y - ${c.scale.offset.toPrecision(6)}) / ${c.scale.scale.toPrecision(6)})`,
        `split      train ${rows(s.train)} rows (${r.windows.train} windows), validation ${rows(s.val)} (${r.windows.val}), test ${rows(s.test)}`,
        `members    ${r.members.map((m, k) => `#${k + 1}: best epoch ${m.bestEpoch}/${m.epochs} (${m.bestLoss.toFixed(4)})`).join(", ")}`,
        `validation MASE ${mase(r.valMase)} (${validationParts(run.checkpoint)}in-sample seasonal-naive scale)`,
        `intervals  80% and 95% from ${r.intervals.source} residuals (${Math.min(...r.intervals.counts)} to ${Math.max(...r.intervals.counts)} per step); 80% band at step 1 / ${c.horizon}: ${band(0)} / ${band(c.horizon - 1)} ${bandUnit}`,
        `time       ${r.seconds.toFixed(1)} s`,
      ],
      json: {
        model_kind: "hybrid",
        epochs_run: r.members.reduce((n, m) => n + m.epochs, 0),
        hybrid: run.checkpoint.meta.hybrid,
        seconds: r.seconds,
      },
    };
  }

  // auto
  let a: AutoResult;
  try {
    a = await trainAuto(prepared, opts, lstmOptions, {
      onEpoch,
      shouldStop,
      onPartner,
      onPartnerNote,
      runMembers: memberRunner(),
      onModel: (m) =>
        log(
          `auto: fitting ${m === "hybrid" ? "the hybrid" : m === "lstm" ? "the LSTM" : m === "ets" ? "ETS" : "seasonal ARIMA"}`,
        ),
    });
  } catch (e) {
    if (e instanceof ForecastError) throw new CliError(e.message);
    throw e;
  }
  const ok = a.scores.filter((s) => s.mase !== null).sort((x, y) => x.mase! - y.mase!);
  const win = ok[0];
  const second = ok[1];
  const by =
    second === undefined
      ? "the only model that could be fitted"
      : `MASE ${win.mase!.toFixed(3)} vs ${second.mase!.toFixed(3)} for ${second.label}, ${(100 * (1 - win.mase! / second.mase!)).toFixed(1)}% lower`;
  const tooShort = a.scores.every((s) => s.model === "ets" || s.model === "arima" || s.mase === null);
  if (tooShort && a.winner === "ets") {
    log(
      `note: no learned model could be fitted (${a.scores
        .filter((s) => s.error)
        .map((s) => `${s.label}: ${s.error}`)
        .join("; ")}); falling back to ETS`,
    );
  }
  const width = Math.max(...a.scores.map((s) => s.label.length)) + 1;
  const lines = [
    `auto       validation on ${a.origins} rolling origin(s) of the validation part (horizon ${opts.horizon}, steps past its end left out):`,
    ...a.scores.map(
      (s) =>
        `             ${s.label.padEnd(width)} ${s.mase === null ? `not fitted: ${s.error}` : `MASE ${s.mase.toFixed(4)}`}  (${s.seconds.toFixed(1)} s)`,
    ),
    `winner     ${win.label}: ${by}`,
    `model      ${describeSavedModel(a.checkpoint) ?? "LSTM"}${a.winner === "ets" || a.winner === "arima" ? " (refitted on all rows before the test part)" : ""}`,
  ];
  return {
    checkpoint: a.checkpoint,
    lines,
    json: {
      model_kind: a.winner,
      auto: { winner: a.winner, origins: a.origins, scores: a.scores },
    },
  };
}
