// The forecasting benchmark (`npm run bench:forecast`): the shipped panel of real series, two protocols,
// MASE with the in-sample seasonal-naive scale, our classical forecasters beside the oracle's ETS and
// ARIMA (R's forecast::ets and forecast::auto.arima through bench/peers/forecast_oracle.py, or
// statsmodels without R), with the seconds each side took.
//
//   npm run bench:forecast                      # the whole panel, both protocols, with the oracle
//   npm run bench:forecast -- --no-oracle       # ours only
//   npm run bench:forecast -- --series co2,air  # some series
//   npm run bench:forecast -- --json            # machine-readable
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
// To add a forecaster (the neural models): push a SeriesForecaster onto FORECASTERS below —
// { name, fit(train, period, horizon) -> { label, forecast(history) -> Float64Array (horizon) } }.
// `fit` sees only the training part; `forecast` gets the history up to each origin.

import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type SeriesForecaster,
  etsForecaster,
  makeEtsForecaster,
  seasonalNaiveDriftForecaster,
  seasonalNaiveForecaster,
  thetaForecaster,
} from "../src/forecast/classical/index.js";
import { prepareSeries } from "../src/forecast/data.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The forecasters benchmarked on our side; append more (e.g. the hybrid recurrent model) here. */
export const FORECASTERS: SeriesForecaster[] = [
  etsForecaster,
  // the same, with two Nelder–Mead restarts from each optimum: better optima than forecast::ets's
  makeEtsForecaster({ name: "ETS+", restarts: 2 }),
  thetaForecaster,
  seasonalNaiveDriftForecaster,
  seasonalNaiveForecaster,
];

interface PanelSeries {
  key: string;
  title: string;
  values: number[];
  period: number;
  horizon: number;
  testStart: number;
}

/** The shipped panel: datasets/*.csv, each with its season and horizon. */
export function loadPanel(): PanelSeries[] {
  const read = (file: string) => readFileSync(join(ROOT, "datasets", file), "utf8");
  const column = (file: string, col: string): number[] => {
    const s = prepareSeries(read(file), { target: col, fill: "linear" }).series;
    return Array.from(s.data);
  };
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
    // float32 as the CLI reads them, widened: both sides see the same numbers
    const values = column(file, col);
    // the last 15 % (as `recurrent train` splits by default), but at least two horizons
    const testStart = values.length - Math.max(Math.round(0.15 * values.length), 2 * horizon);
    return { key, title, values, period, horizon, testStart };
  });
}

function snaiveScale(train: ArrayLike<number>, m: number): number {
  let s = 0;
  for (let t = m; t < train.length; t++) s += Math.abs(train[t] - train[t - m]);
  return s / (train.length - m);
}

function maseOf(actual: ArrayLike<number>[], forecast: ArrayLike<number>[], scale: number): number {
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

interface Cell {
  mase: number;
  label: string;
  seconds: number;
}

type Protocol = "holdout" | "rolling";

function windows(s: PanelSeries, p: Protocol): { fitEnd: number; origins: number[] } {
  const n = s.values.length;
  if (p === "holdout") return { fitEnd: n - s.horizon, origins: [n - s.horizon] };
  const origins: number[] = [];
  for (let o = s.testStart; o + s.horizon <= n; o++) origins.push(o);
  return { fitEnd: s.testStart, origins };
}

function runOurs(s: PanelSeries, p: Protocol, f: SeriesForecaster): Cell {
  const { fitEnd, origins } = windows(s, p);
  const y = Float64Array.from(s.values);
  const t0 = performance.now();
  const fitted = f.fit(y.subarray(0, fitEnd), s.period, s.horizon);
  const fc = origins.map((o) => fitted.forecast(y.subarray(0, o)));
  const seconds = (performance.now() - t0) / 1000;
  const actual = origins.map((o) => y.subarray(o, o + s.horizon));
  return {
    mase: maseOf(actual, fc, snaiveScale(y.subarray(0, fitEnd), s.period)),
    label: fitted.label,
    seconds,
  };
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

function runOracle(panel: PanelSeries[]): OracleOut | null {
  const dir = mkdtempSync(join(tmpdir(), "bench-forecast-"));
  try {
    const spec = join(dir, "spec.json");
    writeFileSync(
      spec,
      JSON.stringify({
        series: panel.map((s) => ({
          key: s.key,
          values: s.values,
          period: s.period,
          horizon: s.horizon,
          test_start: s.testStart,
        })),
      }),
    );
    const r = spawnSync("/usr/bin/python3", [join(ROOT, "bench/peers/forecast_oracle.py"), spec], {
      encoding: "utf8",
      maxBuffer: 1 << 28,
    });
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
}

function oracleCell(s: PanelSeries, p: Protocol, o: OracleOut, which: "ets" | "arima"): Cell {
  const r = o.series[s.key][p][which];
  const { fitEnd, origins } = windows(s, p);
  const fc = p === "holdout" ? [r.forecast!] : r.forecasts!;
  const actual = origins.map((at) => s.values.slice(at, at + s.horizon));
  return {
    mase: maseOf(actual, fc, snaiveScale(s.values.slice(0, fitEnd), s.period)),
    label: r.label,
    seconds: r.seconds,
  };
}

function main(argv: string[]): void {
  const json = argv.includes("--json");
  const noOracle = argv.includes("--no-oracle");
  const si = argv.indexOf("--series");
  let panel = loadPanel();
  if (si >= 0) {
    const keep = (argv[si + 1] ?? "").split(",");
    const unknown = keep.filter((k) => !panel.some((s) => s.key === k));
    if (unknown.length > 0) {
      throw new Error(
        `--series: unknown ${unknown.join(", ")}; the panel is ${panel.map((s) => s.key).join(", ")}`,
      );
    }
    panel = panel.filter((s) => keep.includes(s.key));
  }
  const t0 = performance.now();
  const ours: Record<string, Record<Protocol, Cell[]>> = {};
  for (const s of panel) {
    ours[s.key] = {
      holdout: FORECASTERS.map((f) => runOurs(s, "holdout", f)),
      rolling: FORECASTERS.map((f) => runOurs(s, "rolling", f)),
    };
  }
  const oursSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const oracle = noOracle ? null : runOracle(panel);
  const oracleSeconds = (performance.now() - t1) / 1000;
  const cols = [...FORECASTERS.map((f) => f.name), ...(oracle ? ["oracle ETS", "oracle ARIMA"] : [])];
  const result: Record<string, unknown> = { oracle: oracle?.oracle ?? null, columns: cols, protocols: {} };
  const lines: string[] = [];
  for (const p of ["holdout", "rolling"] as Protocol[]) {
    const rows = panel.map((s) => {
      const cells = [
        ...ours[s.key][p],
        ...(oracle ? [oracleCell(s, p, oracle, "ets"), oracleCell(s, p, oracle, "arima")] : []),
      ];
      return { s, cells };
    });
    (result.protocols as Record<string, unknown>)[p] = rows.map(({ s, cells }) => ({
      series: s.key,
      origins: windows(s, p).origins.length,
      horizon: s.horizon,
      cells: Object.fromEntries(cols.map((c, i) => [c, cells[i]])),
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
    for (const { s, cells } of rows) {
      const best = Math.min(...cells.map((c) => c.mase));
      const txt = cells.map((c, i) => {
        const v = c.mase.toFixed(3);
        const tag =
          cols[i].startsWith("ETS") || cols[i].startsWith("oracle") ? ` ${c.label.replace(/^ETS/, "")}` : "";
        return `${c.mase === best ? `**${v}**` : v}${tag}`;
      });
      lines.push(`| ${s.key} | ${windows(s, p).origins.length} × ${s.horizon} | ${txt.join(" | ")} |`);
    }
    const means = cols.map((_, i) => rows.reduce((a, r) => a + r.cells[i].mase, 0) / rows.length);
    lines.push(`| **mean** | | ${means.map((v) => v.toFixed(3)).join(" | ")} |`);
    const secs = cols.map((_, i) => rows.reduce((a, r) => a + r.cells[i].seconds, 0));
    lines.push(`| seconds | | ${secs.map((v) => v.toFixed(2)).join(" | ")} |`, "");
  }
  lines.push(
    `Ours: ${oursSeconds.toFixed(1)} s in all (this process, Node ${process.versions.node}). Oracle: ${oracle ? `${oracle.oracle}, ${oracleSeconds.toFixed(1)} s in all with process start` : "not run"}.`,
    "Per-column seconds are the fitting and forecasting time of that forecaster summed over the series (the oracle's as R or Python measured them).",
  );
  if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else process.stdout.write(`${lines.join("\n")}\n`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2));
}
