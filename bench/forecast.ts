// The forecasting benchmark (`npm run bench:forecast`): the shipped panel of real series, two protocols,
// MASE with the in-sample seasonal-naive scale, the hybrid recurrent model, its combination with ETS and
// our classical forecasters beside the oracle's ETS and ARIMA (R's forecast::ets and
// forecast::auto.arima through bench/peers/forecast_oracle.py, or statsmodels without R), with the
// seconds each side took, the worst ratio of each column to the classical baselines, and the coverage of
// the prediction intervals.
//
//   npm run bench:forecast                      # the whole panel, both protocols, with the oracle
//   npm run bench:forecast -- --no-oracle       # ours only
//   npm run bench:forecast -- --no-hybrid       # the classical forecasters only (seconds, not minutes)
//   npm run bench:forecast -- --series co2,air  # some series
//   npm run bench:forecast -- --json            # machine-readable
//   npm run bench:forecast -- --no-cache        # train the hybrid again even if a stored run matches
//   npm run bench:forecast -- --members 5       # the hybrid's ensemble size (default: train's)
//
// Protocols:
//   holdout  fit on all but the last H values, forecast them (H = 12 monthly, 8 quarterly, 7 daily).
//   rolling  fit on the part before the test part (the last 15 %, as `recurrent train` splits, and at
//            least two horizons), then at
//            every origin in the test part forecast the next H from the history so far, with the model
//            fitted before the test part (its parameters kept, its states run on). For CO2 and Seattle
//            this is exactly `recurrent evaluate`'s protocol on a default checkpoint: 101 origins of
//            12 months from 2011-01, and 213 origins of 7 days.
// MASE divides by the in-sample seasonal-naive MAE of the part the forecasters were fitted on.
//
// The hybrid is `recurrent train`'s model (src/forecast/hybrid), trained on the fit part with the last
// 15 % of the series as validation (early stopping, interval calibration), exactly as the command
// trains it. Column "hybrid" is the ensemble alone (`train --combine none`); "hybrid+ETS"
// (`--combine ets`, src/forecast/hybrid/combine.ts) the mean of the hybrid's and ETS's forecasts, its
// intervals calibrated on the combination's own validation residuals; "hybrid+ETS of logs"
// (`--combine ets-logs`) the same with ETS fitted to the logarithms where the series is positive;
// "hybrid+ARIMA" (`--combine arima`) with seasonal ARIMA (of the logarithms where positive), or on daily
// data the harmonic regression with ARIMA errors; "hybrid+ETS+ARIMA" (`--combine ets-arima`) the mean of
// the three (ETS and ARIMA of the logarithms where positive);
// "default" the command's default (`--combine auto`): ETS and ARIMA, or on daily data with two years of
// history a harmonic regression with ARIMA errors (src/forecast/hybrid/harmonic.ts). Training
// takes minutes on a loaded two-core machine, so each trained ensemble is stored under
// node_modules/.cache/recurrent-bench-forecast/, keyed by the series, the protocol, the options and
// the source the training runs (src/core, nn, optim, kernels, data and the hybrid's train, model, es,
// ops); a change there trains again. The combination and the forecasts are computed on every run.
// R's figures are stored the same way, keyed by the series and the oracle script.
//
// To add a classical forecaster: push a SeriesForecaster onto FORECASTERS below —
// { name, fit(train, period, horizon) -> { label, forecast(history) -> Float64Array (horizon) } }.
// `fit` sees only the training part; `forecast` gets the history up to each origin.

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { DateStep } from "../src/data/dates.js";
import {
  arimaForecaster,
  etsForecaster,
  makeArimaForecaster,
  makeEtsForecaster,
  type SeriesForecaster,
  seasonalNaiveDriftForecaster,
  seasonalNaiveForecaster,
  thetaForecaster,
} from "../src/forecast/classical/index.js";
import { memberRunner } from "../src/node/members.js";
import { prepareSeries } from "../src/forecast/data.js";
import { type HybridMetaJSON, hybridForecastAt, hybridMetaOf } from "../src/forecast/hybrid/checkpoint.js";
import { Tensor } from "../src/core/tensor.js";
import { classicalCandidates } from "../src/forecast/hybrid/auto.js";
import { combineWith, partnerSpec } from "../src/forecast/hybrid/combine.js";
import { arimaForecastAt, etsForecastAt, fitArimaMeta, fitEtsMeta } from "../src/forecast/hybrid/fallback.js";
import { HybridNet } from "../src/forecast/hybrid/model.js";
import {
  DEFAULT_HYBRID_OPTIONS,
  type HybridOptions,
  type HybridTrainResult,
  trainHybrid,
} from "../src/forecast/hybrid/train.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const CACHE = join(ROOT, "node_modules", ".cache", "recurrent-bench-forecast");

/** The classical forecasters benchmarked on our side; append more here. */
export const FORECASTERS: SeriesForecaster[] = [
  etsForecaster,
  // the same, with two Nelder–Mead restarts from each optimum: better optima than forecast::ets's
  makeEtsForecaster({ name: "ETS+", restarts: 2 }),
  // seasonal ARIMA chosen as auto.arima chooses it, on the series and on its logarithms
  arimaForecaster,
  makeArimaForecaster({ name: "ARIMA of logs", log: true }),
  thetaForecaster,
  seasonalNaiveDriftForecaster,
  seasonalNaiveForecaster,
];

export interface PanelSeries {
  key: string;
  title: string;
  values: number[];
  /** Row dates (ms since the epoch) and their step: the hybrid's calendar features read them. */
  dates: number[] | null;
  step: DateStep | null;
  period: number;
  horizon: number;
  testStart: number;
}

/** The shipped panel: datasets/*.csv, each with its season and horizon. */
export function loadPanel(): PanelSeries[] {
  const spec: [string, string, string, string, number, number][] = [
    ["co2", "Mauna Loa CO2 (monthly)", "co2-concentration.csv", "CO2", 12, 12],
    ["seattle", "Seattle max temperature (daily)", "seattle-weather.csv", "temp_max", 7, 7],
    ["air", "airline passengers (monthly)", "air-passengers.csv", "passengers", 12, 12],
    ["wine", "Australian wine sales (monthly)", "australian-wine-sales.csv", "litres", 12, 12],
    ["gas", "Australian gas production (monthly)", "australian-gas-production.csv", "gas", 12, 12],
    ["usdeaths", "US accidental deaths (monthly)", "us-accidental-deaths.csv", "deaths", 12, 12],
    ["nottem", "Nottingham temperature (monthly)", "nottingham-temperature.csv", "temperature", 12, 12],
    ["ukgas", "UK gas consumption (quarterly)", "uk-gas-consumption.csv", "gas", 4, 8],
    ["wool", "Australian woollen yarn (quarterly)", "australian-woollen-yarn.csv", "tonnes", 4, 8],
    ["jj", "Johnson & Johnson earnings (quarterly)", "johnson-johnson-earnings.csv", "earnings", 4, 8],
  ];
  return spec.map(([key, title, file, col, period, horizon]) => {
    const p = prepareSeries(readFileSync(join(ROOT, "datasets", file), "utf8"), {
      target: col,
      fill: "linear",
    });
    // float32 as the CLI reads them, widened: both sides see the same numbers
    const values = Array.from(p.series.data);
    // the last 15 % (as `recurrent train` splits by default), but at least two horizons
    const testStart = values.length - Math.max(Math.round(0.15 * values.length), 2 * horizon);
    return { key, title, values, dates: p.series.dates, step: p.step, period, horizon, testStart };
  });
}

export type Protocol = "holdout" | "rolling";

/** Where the fitting part ends and the origins each protocol forecasts from. */
export function windows(s: PanelSeries, p: Protocol): { fitEnd: number; origins: number[] } {
  const n = s.values.length;
  if (p === "holdout") return { fitEnd: n - s.horizon, origins: [n - s.horizon] };
  const origins: number[] = [];
  for (let o = s.testStart; o + s.horizon <= n; o++) origins.push(o);
  return { fitEnd: s.testStart, origins };
}

/** The in-sample mean absolute error of seasonal naive (lag m) on `train`: MASE's scale. */
export function snaiveScale(train: ArrayLike<number>, m: number): number {
  let s = 0;
  for (let t = m; t < train.length; t++) s += Math.abs(train[t] - train[t - m]);
  return s / (train.length - m);
}

/** MASE of forecasts (origins, H) against the actual values (origins, H). */
export function maseOf(actual: ArrayLike<number>[], forecast: ArrayLike<number>[], scale: number): number {
  let s = 0;
  let n = 0;
  for (let w = 0; w < actual.length; w++) {
    for (let h = 0; h < actual[w].length; h++) {
      s += Math.abs(actual[w][h] - forecast[w][h]);
      n++;
    }
  }
  return s / n / scale;
}

/** A prediction interval at each origin and step: lower and upper (origins, H). */
export interface Band {
  level: number;
  lower: number[][];
  upper: number[][];
}

/** The share of actual values (origins, H) inside the band, bounds included. */
export function coverageOf(actual: ArrayLike<number>[], band: Band): number {
  let inside = 0;
  let n = 0;
  for (let w = 0; w < actual.length; w++) {
    for (let h = 0; h < actual[w].length; h++) {
      const a = actual[w][h];
      if (a >= band.lower[w][h] && a <= band.upper[w][h]) inside++;
      n++;
    }
  }
  return inside / n;
}

/** The element-wise mean of several columns' forecasts (origins, H): an equal-weight combination. */
export function combineForecasts(runs: number[][][]): number[][] {
  return runs[0].map((row, w) => row.map((_, h) => runs.reduce((a, r) => a + r[w][h], 0) / runs.length));
}

/**
 * For each column, the largest ratio over the series of its MASE to a reference MASE of that series
 * (e.g. the better of seasonal naive and ETS), and the series where it happens.
 */
export function worstRatio(
  mase: number[][], // (series, columns)
  reference: number[], // (series)
  keys: string[],
): { ratio: number; series: string }[] {
  const cols = mase[0]?.length ?? 0;
  return Array.from({ length: cols }, (_, c) => {
    let worst = { ratio: Number.NEGATIVE_INFINITY, series: "" };
    mase.forEach((row, i) => {
      const r = row[c] / reference[i];
      if (r > worst.ratio) worst = { ratio: r, series: keys[i] };
    });
    return worst;
  });
}

/** One column's result on one series under one protocol. */
export interface Run {
  label: string;
  seconds: number;
  forecasts: number[][]; // (origins, H)
  bands?: Band[];
}

export function runClassical(s: PanelSeries, p: Protocol, f: SeriesForecaster): Run {
  const { fitEnd, origins } = windows(s, p);
  const y = Float64Array.from(s.values);
  const t0 = performance.now();
  const fitted = f.fit(y.subarray(0, fitEnd), s.period, s.horizon);
  const forecasts = origins.map((o) => Array.from(fitted.forecast(y.subarray(0, o))));
  return { label: fitted.label, seconds: (performance.now() - t0) / 1000, forecasts };
}

/** The source a trained hybrid depends on: a change to it invalidates the stored trainings. */
export function trainingSourceHash(): string {
  const h = createHash("sha256");
  const walk = (path: string) => {
    const st = readdirSync(path, { withFileTypes: true }).sort((x, y) => x.name.localeCompare(y.name));
    for (const e of st) {
      const p = join(path, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ts")) h.update(p.slice(ROOT.length)).update(readFileSync(p));
    }
  };
  for (const d of ["src/core", "src/nn", "src/optim", "src/kernels", "src/data"]) walk(join(ROOT, d));
  for (const f of ["train", "model", "es", "ops"])
    h.update(readFileSync(join(ROOT, `src/forecast/hybrid/${f}.ts`)));
  return h.digest("hex").slice(0, 16);
}

function cached<T>(key: unknown, use: boolean, make: () => Promise<T>): Promise<T> {
  const name = `${createHash("sha256").update(JSON.stringify(key)).digest("hex").slice(0, 24)}.json`;
  const file = join(CACHE, name);
  if (use && existsSync(file)) return Promise.resolve(JSON.parse(readFileSync(file, "utf8")) as T);
  return make().then((v) => {
    mkdirSync(CACHE, { recursive: true });
    writeFileSync(`${file}.tmp`, JSON.stringify(v));
    renameSync(`${file}.tmp`, file); // whole or not at all
    return v;
  });
}

/** The hybrid's options for one series and protocol: the command's defaults, validation the last 15 %. */
export function hybridOptionsFor(s: PanelSeries, p: Protocol, members?: number): HybridOptions {
  const n = s.values.length;
  const { fitEnd } = windows(s, p);
  return {
    ...DEFAULT_HYBRID_OPTIONS,
    members: members ?? DEFAULT_HYBRID_OPTIONS.members,
    horizon: s.horizon,
    season: s.period,
    val: Math.round(0.15 * n),
    test: n - fitEnd,
  };
}

/** A trained hybrid as stored: everything of HybridTrainResult but the network, which is its weights. */
type StoredTraining = Omit<HybridTrainResult, "net" | "history"> & { weights: Record<string, number[]> };

/** Trains the hybrid on the fit part (or takes a stored training of the same source and options). */
export async function trainedHybrid(
  s: PanelSeries,
  p: Protocol,
  src: string,
  useCache: boolean,
  extra: Partial<HybridOptions> = {},
  members?: number,
): Promise<HybridTrainResult> {
  const options = { ...hybridOptionsFor(s, p, members), ...extra };
  const { combine: _, ...training } = options; // the combination is fitted after training, never stored
  const stored = await cached<StoredTraining>(
    { src, key: s.key, p, training, n: s.values.length },
    useCache,
    async () => {
      const r = await trainHybrid(
        { values: Float32Array.from(s.values), dates: s.dates, step: s.step },
        options,
        { runMembers: memberRunner() },
      );
      const { net, history: _h, ...rest } = r;
      const weights = Object.fromEntries(
        Object.entries(net.stateDict()).map(([k, t]) => [k, Array.from(t.data)]),
      );
      return { ...rest, weights };
    },
  );
  const { weights, ...rest } = stored;
  const net = new HybridNet(stored.config);
  net.loadStateDict(
    Object.fromEntries(
      Object.entries(net.stateDict()).map(([k, t]) => [
        k,
        new Tensor(Float32Array.from(weights[k]), [...t.shape]),
      ]),
    ),
  );
  return { ...rest, net: net.eval(), history: [] };
}

/**
 * The hybrid's runs on one series and protocol: alone, combined with ETS, with ETS of the logarithms
 * (for a positive series), and with train's default partner ("auto", see combine.ts).
 */
export async function runHybrid(
  s: PanelSeries,
  p: Protocol,
  src: string,
  useCache: boolean,
  members?: number,
): Promise<Run[]> {
  const { origins } = windows(s, p);
  const values = Float32Array.from(s.values);
  const r = await trainedHybrid(s, p, src, useCache, {}, members);
  const series = { values, dates: s.dates, step: s.step };
  const timed = (kind: "auto" | "ets" | "ets-logs" | "arima" | "ets-arima") => {
    const t0 = performance.now();
    const c = combineWith(r, series, kind);
    return { c, seconds: (performance.now() - t0) / 1000 };
  };
  const ets = timed("ets");
  const logs = timed("ets-logs");
  const dflt = timed("auto");
  const arima = timed("arima");
  const both = timed("ets-arima");
  const meta = hybridMetaOf(r, null);
  const H = s.horizon;
  const runOf = (m: HybridMetaJSON, label: string, seconds: number): Run => {
    const t1 = performance.now();
    const fc = hybridForecastAt(r.net, m, values, s.dates, origins);
    const rows = (a: Float32Array) => origins.map((_, w) => Array.from(a.subarray(w * H, (w + 1) * H)));
    return {
      label,
      seconds: seconds + (performance.now() - t1) / 1000,
      forecasts: rows(fc.point),
      bands: fc.bands.map((b) => ({ level: b.level, lower: rows(b.lower), upper: rows(b.upper) })),
    };
  };
  // `train --model auto` without its LSTM candidate: the default combination, ETS or seasonal ARIMA,
  // whichever scores best on the validation part (auto.ts), the classical winner refitted on all rows
  // before the test part
  const t2 = performance.now();
  const { train, val } = r.split;
  const candidates = [
    { model: "hybrid", mase: dflt.c.val_mase ?? r.valMase },
    ...classicalCandidates(values, train.end, val.start, val.end, s.period, H),
  ].filter((c) => c.mase !== null) as { model: string; mase: number }[];
  const winner = candidates.reduce((a, b) => (b.mase < a.mase ? b : a)).model;
  let auto: Run;
  if (winner === "hybrid") {
    auto = runOf({ ...meta, combine: dflt.c }, `hybrid + ${partnerSpec(dflt.c)}`, r.seconds + dflt.seconds);
  } else {
    const before = values.subarray(0, val.end);
    const etsMeta = winner === "ets" ? fitEtsMeta(before, s.period).meta : null;
    const arimaMeta = winner === "arima" ? fitArimaMeta(before, s.period) : null;
    const fc =
      etsMeta !== null
        ? etsForecastAt(etsMeta, values, origins, H)
        : arimaForecastAt(arimaMeta!, values, origins, H);
    const rows = (a: Float32Array) => origins.map((_, w) => Array.from(a.subarray(w * H, (w + 1) * H)));
    auto = {
      label: (etsMeta ?? arimaMeta)!.spec,
      // the hybrid was trained to take part in the choice
      seconds: r.seconds + dflt.seconds,
      forecasts: rows(fc.point),
      bands: fc.bands.map((b) => ({ level: b.level, lower: rows(b.lower), upper: rows(b.upper) })),
    };
  }
  auto.seconds += (performance.now() - t2) / 1000;
  return [
    runOf(meta, `hybrid ${r.config.mode.slice(0, 4)}.`, r.seconds),
    ...[ets, logs, arima, both, dflt].map(({ c, seconds }) =>
      runOf({ ...meta, combine: c }, `hybrid + ${partnerSpec(c)}`, r.seconds + seconds),
    ),
    auto,
  ];
}

interface OracleOut {
  oracle: string;
  series: Record<
    string,
    Record<
      Protocol,
      Record<"ets" | "arima", { label: string; forecast?: number[]; forecasts?: number[][]; seconds: number }>
    >
  >;
}

function runOracle(panel: PanelSeries[], useCache: boolean): Promise<OracleOut | null> {
  const body = {
    series: panel.map((s) => ({
      key: s.key,
      values: s.values,
      period: s.period,
      horizon: s.horizon,
      test_start: s.testStart,
    })),
  };
  const script = join(ROOT, "bench/peers/forecast_oracle.py");
  const make = async (): Promise<OracleOut | null> => {
    const dir = mkdtempSync(join(tmpdir(), "bench-forecast-"));
    try {
      const spec = join(dir, "spec.json");
      writeFileSync(spec, JSON.stringify(body));
      const r = spawnSync("/usr/bin/python3", [script, spec], { encoding: "utf8", maxBuffer: 1 << 28 });
      if (r.status !== 0) {
        process.stderr.write(
          `bench:forecast: the oracle did not run (${r.stderr?.slice(-500) ?? r.error?.message})\n`,
        );
        return null;
      }
      return JSON.parse(r.stdout) as OracleOut;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  // the oracle's figures depend only on the series and the script (R takes minutes on the panel)
  const key = { oracle: readFileSync(script, "utf8"), body, env: process.env.ORACLE ?? null };
  return cached(key, useCache, make).then((o) => o);
}

function oracleRun(s: PanelSeries, p: Protocol, o: OracleOut, which: "ets" | "arima"): Run {
  const r = o.series[s.key][p][which];
  return { label: r.label, seconds: r.seconds, forecasts: p === "holdout" ? [r.forecast!] : r.forecasts! };
}

const HELP = `npm run bench:forecast -- [--series a,b] [--members n] [--no-oracle] [--no-hybrid] [--no-cache] [--json]`;

async function main(argv: string[]): Promise<void> {
  const known = new Set([
    "--json",
    "--no-oracle",
    "--no-hybrid",
    "--no-cache",
    "--series",
    "--members",
    "--help",
  ]);
  const bad = argv.filter(
    (a, i) =>
      a.startsWith("--") && !known.has(a) && argv[i - 1] !== "--series" && argv[i - 1] !== "--members",
  );
  if (bad.length > 0) throw new Error(`unknown option ${bad.join(", ")}; usage: ${HELP}`);
  if (argv.includes("--help")) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const json = argv.includes("--json");
  const useCache = !argv.includes("--no-cache");
  const withHybrid = !argv.includes("--no-hybrid");
  const mi = argv.indexOf("--members");
  const members = mi >= 0 ? Number(argv[mi + 1]) : undefined;
  if (members !== undefined && !(Number.isInteger(members) && members >= 1))
    throw new Error(`--members: expected a positive integer, got ${argv[mi + 1] ?? "nothing"}`);
  const si = argv.indexOf("--series");
  let panel = loadPanel();
  if (si >= 0) {
    const keep = (argv[si + 1] ?? "").split(",");
    const unknown = keep.filter((k) => !panel.some((s) => s.key === k));
    if (unknown.length > 0) {
      throw new Error(
        `--series: unknown ${unknown.join(", ") || "(none given)"}; the panel is ${panel.map((s) => s.key).join(", ")}`,
      );
    }
    panel = panel.filter((s) => keep.includes(s.key));
  }
  const protocols: Protocol[] = ["holdout", "rolling"];
  const t0 = performance.now();
  const src = withHybrid ? trainingSourceHash() : "";
  const ours: Record<string, Record<Protocol, Run[]>> = {};
  for (const s of panel) {
    ours[s.key] = { holdout: [], rolling: [] };
    for (const p of protocols) {
      const runs = withHybrid ? await runHybrid(s, p, src, useCache, members) : [];
      ours[s.key][p] = [...runs, ...FORECASTERS.map((f) => runClassical(s, p, f))];
      if (!json) process.stderr.write(`bench:forecast: ${s.key} ${p} done\n`);
    }
  }
  const oursSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const oracle = argv.includes("--no-oracle") ? null : await runOracle(panel, useCache);
  const oracleSeconds = (performance.now() - t1) / 1000;
  const cols = [
    ...(withHybrid
      ? [
          "hybrid",
          "hybrid+ETS",
          "hybrid+ETS of logs",
          "hybrid+ARIMA",
          "hybrid+ETS+ARIMA",
          "default",
          "auto (no LSTM)",
        ]
      : []),
    ...FORECASTERS.map((f) => f.name),
    ...(oracle ? ["R ets", "R auto.arima"] : []),
  ];
  const oracleName = oracle?.oracle.startsWith("R ") ? null : "statsmodels";
  if (oracleName !== null && oracle) cols.splice(cols.length - 2, 2, "oracle ETS", "oracle ARIMA");
  const result: Record<string, unknown> = { oracle: oracle?.oracle ?? null, columns: cols, protocols: {} };
  const lines: string[] = [];
  for (const p of protocols) {
    const rows = panel.map((s) => {
      const { fitEnd, origins } = windows(s, p);
      const actual = origins.map((o) => s.values.slice(o, o + s.horizon));
      const scale = snaiveScale(s.values.slice(0, fitEnd), s.period);
      const runs = [
        ...ours[s.key][p],
        ...(oracle ? [oracleRun(s, p, oracle, "ets"), oracleRun(s, p, oracle, "arima")] : []),
      ];
      const mase = runs.map((r) => maseOf(actual, r.forecasts, scale));
      const coverage = runs.map((r) =>
        r.bands?.map((b) => ({ level: b.level, share: coverageOf(actual, b) })),
      );
      return { s, runs, mase, coverage, origins: origins.length };
    });
    (result.protocols as Record<string, unknown>)[p] = rows.map((r) => ({
      series: r.s.key,
      origins: r.origins,
      horizon: r.s.horizon,
      cells: Object.fromEntries(
        cols.map((c, i) => [
          c,
          {
            mase: r.mase[i],
            label: r.runs[i].label,
            seconds: r.runs[i].seconds,
            coverage: r.coverage[i] ?? null,
          },
        ]),
      ),
    }));
    const title =
      p === "holdout"
        ? "Protocol 1: the last horizon held out (one forecast), MASE"
        : "Protocol 2: rolling origin over the last 15 % (model fitted before it, states run on), MASE";
    lines.push(
      title,
      "",
      `| series | origins × H | ${cols.join(" | ")} |`,
      `|---|---|${cols.map(() => "---|").join("")}`,
    );
    for (const r of rows) {
      const best = Math.min(...r.mase);
      const txt = r.mase.map((v, i) => {
        const t = v.toFixed(3);
        const c = cols[i];
        const tag =
          c.startsWith("ETS") || c.endsWith("ets") || c.startsWith("oracle")
            ? ` ${r.runs[i].label.replace(/^ETS/, "")}`
            : "";
        return `${v === best ? `**${t}**` : t}${tag}`;
      });
      lines.push(`| ${r.s.key} | ${r.origins} × ${r.s.horizon} | ${txt.join(" | ")} |`);
    }
    const means = cols.map((_, i) => rows.reduce((a, r) => a + r.mase[i], 0) / rows.length);
    lines.push(`| **mean** | | ${means.map((v) => v.toFixed(3)).join(" | ")} |`);
    const keys = rows.map((r) => r.s.key);
    const ci = (name: string) => cols.indexOf(name);
    const baseline = rows.map((r) => Math.min(r.mase[ci("ETS")], r.mase[ci("seasonal naive")]));
    const w1 = worstRatio(
      rows.map((r) => r.mase),
      baseline,
      keys,
    );
    lines.push(
      `| worst ratio to min(seasonal naive, ETS) | | ${w1.map((w) => `${w.ratio.toFixed(2)} ${w.series}`).join(" | ")} |`,
    );
    if (oracle) {
      const ref = rows.map((r) => Math.min(r.mase[cols.length - 2], r.mase[cols.length - 1]));
      const w2 = worstRatio(
        rows.map((r) => r.mase),
        ref,
        keys,
      );
      lines.push(
        `| worst ratio to the oracle's better | | ${w2.map((w) => `${w.ratio.toFixed(2)} ${w.series}`).join(" | ")} |`,
      );
    }
    const secs = cols.map((_, i) => rows.reduce((a, r) => a + r.runs[i].seconds, 0));
    lines.push(`| seconds | | ${secs.map((v) => v.toFixed(2)).join(" | ")} |`, "");
    const banded = cols
      .map((c, i) => ({ c, i }))
      .filter(({ i }) => rows.every((r) => r.coverage[i] !== undefined));
    if (banded.length > 0) {
      lines.push(
        `Interval coverage (${p}): share of held-out points inside the 80 % / 95 % intervals`,
        "",
        `| series | points | ${banded.map(({ c }) => c).join(" | ")} |`,
        `|---|---|${banded.map(() => "---|").join("")}`,
      );
      const fmt = (cv: { level: number; share: number }[]) =>
        cv.map((x) => `${(100 * x.share).toFixed(1)}`).join(" / ");
      for (const r of rows)
        lines.push(
          `| ${r.s.key} | ${r.origins * r.s.horizon} | ${banded.map(({ i }) => fmt(r.coverage[i]!)).join(" | ")} |`,
        );
      const meanCv = banded.map(({ i }) =>
        [0, 1].map((k) => (100 * rows.reduce((a, r) => a + r.coverage[i]![k].share, 0)) / rows.length),
      );
      lines.push(
        `| **mean** | | ${meanCv.map((m) => m.map((v) => v.toFixed(1)).join(" / ")).join(" | ")} |`,
        "",
      );
    }
  }
  lines.push(
    `Ours: ${oursSeconds.toFixed(1)} s in all (this process, Node ${process.versions.node}${useCache && withHybrid ? "; stored hybrid runs reused" : ""}). Oracle: ${oracle ? `${oracle.oracle}, ${oracleSeconds < 1 ? "a stored run" : `${oracleSeconds.toFixed(1)} s in all with process start`}` : "not run"}.`,
    "Per-column seconds are the fitting and forecasting time of that forecaster summed over the series (the oracle's as R or Python measured them; the hybrid's as measured when it was trained).",
  );
  if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else process.stdout.write(`${lines.join("\n")}\n`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((e: Error) => {
    process.stderr.write(`bench:forecast: ${e.message}\n`);
    process.exit(1);
  });
}
