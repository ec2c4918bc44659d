// Combination weights chosen on the validation part, against the equal weights `train --combine ets`
// uses: on the bench:forecast panel (same trainings, same protocols, same MASE), the test MASE of the
// hybrid's weight w in w · hybrid + (1 − w) · ETS for each rule, and the panel means.
//
//   npx tsx bench/forecast-weights.ts [--series a,b] [--members n]
//
// Every rule sees only the validation windows, where both partners forecast as in combine.ts: the
// hybrid trained on the training rows (early stopping on these windows), ETS (two restarts) fitted on
// the training rows. The test forecasts are those of bench:forecast: the hybrid as trained, ETS refitted
// on the rows before the test part. It reuses bench:forecast's stored trainings (and trains on a miss).
//
// Rules (Bates & Granger 1969; Timmermann 2006 for a survey; Smith & Wallis 2009 on why estimated
// weights often lose to the plain mean, "the forecast combination puzzle"):
//   equal      w = 0.5
//   select     the one of {0, 0.5, 1} with the smaller validation MAE
//   grid       the one of {0, 0.1, ..., 1} with the smallest validation MAE
//   inv-MSE    w = MSE_ets / (MSE_hyb + MSE_ets)
//   inv-MAE    w = MAE_ets / (MAE_hyb + MAE_ets)
//   opt-MSE    the w minimizing validation MSE with the errors' covariance, clipped to [0, 1]
//   shrunk     the mean of grid's w and 0.5
//   step-MAE   inv-MAE for each step ahead
// and a last column, equal weights with ETS fitted to the logarithms of a positive series
// (combineWithEts's `logs`), which changes the partner rather than the weights.

import { etsForecastAt, fitEtsMeta } from "../src/forecast/hybrid/fallback.js";
import { hybridForecastAt, hybridMetaOf } from "../src/forecast/hybrid/checkpoint.js";
import { COMBINE_ETS_RESTARTS, combineWithEts } from "../src/forecast/hybrid/combine.js";
import { hybridInputs, rowTimes } from "../src/forecast/hybrid/model.js";
import { ensembleForward, maskedWindows } from "../src/forecast/hybrid/train.js";
import {
  FORECASTERS,
  loadPanel,
  maseOf,
  type PanelSeries,
  type Protocol,
  runClassical,
  snaiveScale,
  trainedHybrid,
  trainingSourceHash,
  windows,
} from "./forecast.js";

/** The validation forecasts of both partners (N, H), working units, with targets and mask. */
interface Val {
  h: Float32Array;
  e: Float32Array;
  t: Float32Array;
  m: Float32Array;
  H: number;
}

/** A rule: the hybrid's weight for each step ahead (H), from the validation forecasts only. */
type Rule = (v: Val) => number[];

const sums = (v: Val, step: number | null) => {
  let sh = 0;
  let se = 0;
  let she = 0;
  let ah = 0;
  let ae = 0;
  for (let i = 0; i < v.h.length; i++) {
    if (v.m[i] === 0 || (step !== null && i % v.H !== step)) continue;
    const a = v.h[i] - v.t[i];
    const b = v.e[i] - v.t[i];
    sh += a * a;
    se += b * b;
    she += a * b;
    ah += Math.abs(a);
    ae += Math.abs(b);
  }
  return { sh, se, she, ah, ae };
};
const maeAt = (v: Val, w: number) => {
  let s = 0;
  for (let i = 0; i < v.h.length; i++)
    if (v.m[i] !== 0) s += Math.abs(w * v.h[i] + (1 - w) * v.e[i] - v.t[i]);
  return s;
};
/** The w of `ws` with the smallest validation MAE (ties: the one nearer 0.5). */
const best = (v: Val, ws: number[]) =>
  ws.reduce((a, w) => {
    const d = maeAt(v, w) - maeAt(v, a);
    return d < -1e-9 || (Math.abs(d) <= 1e-9 && Math.abs(w - 0.5) < Math.abs(a - 0.5)) ? w : a;
  });
const GRID = Array.from({ length: 11 }, (_, i) => i / 10);
const all = (v: Val, w: number) => new Array<number>(v.H).fill(w);

export const RULES: Record<string, Rule> = {
  equal: (v) => all(v, 0.5),
  select: (v) => all(v, best(v, [0, 0.5, 1])),
  grid: (v) => all(v, best(v, GRID)),
  "inv-MSE": (v) => {
    const s = sums(v, null);
    return all(v, s.se / (s.sh + s.se));
  },
  "inv-MAE": (v) => {
    const s = sums(v, null);
    return all(v, s.ae / (s.ah + s.ae));
  },
  "opt-MSE": (v) => {
    const s = sums(v, null);
    const d = s.sh + s.se - 2 * s.she;
    return all(v, d > 0 ? Math.min(1, Math.max(0, (s.se - s.she) / d)) : 0.5);
  },
  shrunk: (v) => all(v, (best(v, GRID) + 0.5) / 2),
  "step-MAE": (v) =>
    Array.from({ length: v.H }, (_, h) => {
      const s = sums(v, h);
      return s.ah + s.ae > 0 ? s.ae / (s.ah + s.ae) : 0.5;
    }),
};

/** The last column: equal weights with ETS of the logarithms where the series is positive. */
const LOGS = "equal, ETS of logs";

async function main(argv: string[]): Promise<void> {
  const si = argv.indexOf("--series");
  const mi = argv.indexOf("--members");
  const members = mi >= 0 ? Number(argv[mi + 1]) : undefined;
  const keep = si >= 0 ? (argv[si + 1] ?? "").split(",") : null;
  const panel = loadPanel().filter((s) => keep === null || keep.includes(s.key));
  const src = trainingSourceHash();
  const names = [...Object.keys(RULES), LOGS];
  const lines: string[] = [];
  for (const p of ["holdout", "rolling"] as Protocol[]) {
    lines.push(
      `${p}: test MASE (the hybrid's weight w)`,
      "",
      `| series | ${names.join(" | ")} |`,
      `|---|${names.map(() => "---|").join("")}`,
    );
    const rows: { key: string; mase: number[]; base: number }[] = [];
    for (const s of panel) {
      const r = await runSeries(s, p, src, members, names);
      rows.push({ key: s.key, mase: r.mase, base: r.base });
      const cell = (i: number) => `${r.mase[i].toFixed(3)} (${r.ws[i]})`;
      lines.push(`| ${s.key} | ${names.map((_, i) => cell(i)).join(" | ")} |`);
    }
    const mean = names.map((_, i) => rows.reduce((a, r) => a + r.mase[i], 0) / rows.length);
    const worst = names.map((_, i) =>
      rows.reduce((a, r) => (r.mase[i] / r.base > a.v ? { v: r.mase[i] / r.base, k: r.key } : a), {
        v: 0,
        k: "",
      }),
    );
    lines.push(
      `| **mean** | ${mean.map((v) => v.toFixed(4)).join(" | ")} |`,
      `| worst ratio to min(seasonal naive, ETS) | ${worst.map((w) => `${w.v.toFixed(2)} ${w.k}`).join(" | ")} |`,
      "",
    );
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

async function runSeries(
  s: PanelSeries,
  p: Protocol,
  src: string,
  members: number | undefined,
  names: string[],
): Promise<{ mase: number[]; ws: string[]; base: number }> {
  const values = Float32Array.from(s.values);
  const series = { values, dates: s.dates, step: s.step };
  const r = await trainedHybrid(s, p, src, true, {}, members);
  const c = r.config;
  const H = s.horizon;
  const T = values.length;
  // the validation windows, as combine.ts scores them
  const inp = hybridInputs(c, values, rowTimes(c, s.dates, T, H));
  const va = maskedWindows(inp.y, r.split.val.start, r.split.val.end, c.lookback, H);
  const os = va.origins.filter((o) => o >= 4);
  const skip = (va.origins.length - os.length) * H;
  let v: Val | null = null;
  if (os.length > 0 && !r.refit) {
    const { meta: early } = fitEtsMeta(
      values.subarray(0, r.split.train.end),
      Math.max(1, c.season),
      COMBINE_ETS_RESTARTS,
    );
    v = {
      h: ensembleForward(r.net, inp, os, r.split.val.end),
      e: Float32Array.from(
        etsForecastAt(early, values, os, H).point,
        (x) => (x - c.scale.offset) / c.scale.scale,
      ),
      t: va.target.subarray(skip),
      m: va.mask.subarray(skip),
      H,
    };
  }
  // the test forecasts of both partners, as bench:forecast makes them
  const { fitEnd, origins } = windows(s, p);
  const meta = hybridMetaOf(r, null);
  const hyb = hybridForecastAt(r.net, { ...meta, combine: null }, values, s.dates, origins).point;
  const etsOnly = combineWithEts(r, series, 0);
  const ets = hybridForecastAt(r.net, { ...meta, combine: etsOnly }, values, s.dates, origins).point;
  const actual = origins.map((o) => s.values.slice(o, o + H));
  const scale = snaiveScale(s.values.slice(0, fitEnd), s.period);
  const mase: number[] = [];
  const ws: string[] = [];
  const logsOnly = combineWithEts(r, series, 0, true);
  const etsLogs = hybridForecastAt(r.net, { ...meta, combine: logsOnly }, values, s.dates, origins).point;
  for (const n of names) {
    if (n === LOGS) {
      const fc = origins.map((_, k) =>
        Array.from({ length: H }, (_, h) => 0.5 * hyb[k * H + h] + 0.5 * etsLogs[k * H + h]),
      );
      mase.push(maseOf(actual, fc, scale));
      ws.push("0.50");
      continue;
    }
    const w = v === null ? new Array<number>(H).fill(0.5) : RULES[n](v);
    const fc = origins.map((_, k) =>
      Array.from({ length: H }, (_, h) => w[h] * hyb[k * H + h] + (1 - w[h]) * ets[k * H + h]),
    );
    mase.push(maseOf(actual, fc, scale));
    ws.push(w.every((x) => x === w[0]) ? w[0].toFixed(2) : "step");
  }
  const etsM = maseOf(actual, runClassical(s, p, FORECASTERS[0]).forecasts, scale);
  const snM = maseOf(actual, runClassical(s, p, FORECASTERS[4]).forecasts, scale);
  return { mase, ws, base: Math.min(etsM, snM) };
}

main(process.argv.slice(2)).catch((e: Error) => {
  process.stderr.write(`bench:forecast-weights: ${e.message}\n`);
  process.exit(1);
});
