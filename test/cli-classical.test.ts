// The classical models beside a trained one, through the real command: `evaluate` rows and
// `forecast --compare` columns, checked against the library's classical forecasters.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeCheckpoint } from "../src/forecast/checkpoint.js";
import {
  autoArima,
  classicalBacktest,
  fitEts,
  fitTheta,
  seasonalNaiveDrift,
} from "../src/forecast/classical/index.js";
import { prepareSeries } from "../src/forecast/data.js";
import { evaluateForecaster, forecasterFrom, seriesSpecOf } from "../src/forecast/forecast.js";
import { FIXTURES } from "./helpers.js";
import { runCli as run } from "./cli-run.js";

const FDIR = join(FIXTURES, "forecast");
const CKPT = join(FDIR, "lstm_co2.safetensors");
const CSV = join(FDIR, "lstm_co2.csv"); // the last 120 months of CO2

function co2(): { y: number[]; testStart: number } {
  const ck = decodeCheckpoint(new Uint8Array(readFileSync(CKPT)));
  const series = prepareSeries(readFileSync(CSV, "utf8"), seriesSpecOf(ck)).series;
  const ev = evaluateForecaster(forecasterFrom(ck), series, { season: 12 });
  return { y: Array.from(series.data), testStart: ev.testStart };
}

describe("recurrent evaluate: classical rows", () => {
  it("prints ETS and ARIMA with their selected models, Theta and seasonal naive with drift, and says which is best", async () => {
    const t = await run(["evaluate", "--model", CKPT, "--csv", CSV]);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/ETS\([AM],(N|A|Ad),[NAM]\) \(auto ETS\) +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+/);
    expect(t.stdout).toMatch(
      /\nARIMA\(\d,[012],\d\)\(\d,[01],\d\)\[12\]( with [a-z -]+)? of logs +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+/,
    );
    expect(t.stdout).toMatch(/\nTheta +[\d.]+ +[\d.]+ +[\d.]+ +[\d.]+/);
    expect(t.stdout).toMatch(/seasonal naive \+ drift \(m=12\) +[\d.]+/);
    // on this CO2 test part the LSTM fixture (MASE ~0.9) loses to the classical models
    expect(t.stdout).toMatch(/A classical model does better: .*MASE [\d.]+ against the model's [\d.]+\./);
    const none = await run(["evaluate", "--model", CKPT, "--csv", CSV, "--no-classical"]);
    expect(none.stdout).not.toMatch(/Theta|ETS|ARIMA/);
  });
  it("--json has the library's classical backtest on the same origins and scale", async () => {
    const r = await run(["evaluate", "--model", CKPT, "--csv", CSV, "--json", "--stride", "2"]);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    const { y, testStart } = co2();
    const lib = classicalBacktest({ series: y, testStart, horizon: j.horizon, m: 12, stride: 2 });
    expect(j.classical.map((c: { name: string }) => c.name)).toEqual([
      "ETS",
      "ARIMA",
      "Theta",
      "seasonal naive + drift",
    ]);
    for (let i = 0; i < lib.length; i++) {
      expect(j.classical[i].label).toBe(lib[i].label);
      expect(j.classical[i].scores).toEqual(lib[i].scores);
      expect(j.classical[i].per_step_mae.length).toBe(j.horizon);
    }
    // seasonal naive with drift, by hand at the first origin
    const o = testStart;
    const drift =
      (y.slice(o - 12, o).reduce((a, v) => a + v, 0) - y.slice(0, 12).reduce((a, v) => a + v, 0)) / (o - 12);
    expect(seasonalNaiveDrift(y.slice(0, o), 3, 12)[0]).toBeCloseTo(y[o - 12] + drift, 10);
  });
});

describe("recurrent forecast --compare", () => {
  it("adds ETS, ARIMA, Theta and seasonal naive with drift fitted on the whole series as columns", async () => {
    const t = await run(["forecast", "--model", CKPT, "--csv", CSV, "--compare", "--no-chart"]);
    expect(t.code).toBe(0);
    const lines = t.stdout.trim().split("\n");
    expect(lines[0]).toBe("date,value,ets,arima,theta,snaive_drift");
    const { y } = co2();
    const ets = fitEts(y, { period: 12 });
    const arima = autoArima(y.map(Math.log), { m: 12 });
    const a = arima.forecast(3).mean.map(Math.exp);
    const theta = fitTheta(y, { period: 12 }).forecast(3).mean;
    const sn = seasonalNaiveDrift(y, 3, 12);
    const e = ets.forecast(3).mean;
    for (let i = 0; i < 3; i++) {
      const c = lines[i + 1].split(",").map(Number);
      expect(c[2]).toBeCloseTo(e[i], 3);
      expect(c[3]).toBeCloseTo(a[i], 3);
      expect(c[4]).toBeCloseTo(theta[i], 3);
      expect(c[5]).toBeCloseTo(sn[i], 3);
    }
    expect(t.stderr).toContain(
      `ets = ${ets.spec} selected by AICc, arima = ${arima.spec} of logs selected by AICc`,
    );
    const j = JSON.parse(
      (await run(["forecast", "--model", CKPT, "--csv", CSV, "--compare", "--no-chart", "--json"])).stdout,
    );
    expect(j.compare.season).toBe(12);
    expect(j.compare.forecasters[0].label).toBe(ets.spec);
    expect(j.compare.forecasters[0].values[0]).toBeCloseTo(e[0], 10);
    const plain = await run(["forecast", "--model", CKPT, "--csv", CSV, "--no-chart"]);
    expect(plain.stdout.split("\n")[0]).toBe("date,value");
  });
});
