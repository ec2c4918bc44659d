// The application core (src/app) that the command and the page share: the checks a checkpoint and a CSV
// pass before anything is forecast, the settings a checkpoint fixes, the views as plain data, and the
// gradient-flow input. The expected values are written out by hand here or come from the library's
// lower layers (forecastSeries, evaluateForecaster, randn) on the same data; the adapters' own tests
// (cli-forecast, web-checkpoint, e2e/web-jobs) only check that they render what these return.

import { beforeAll, describe, expect, it } from "vitest";
import {
  backtestView,
  chartHistory,
  checkFlowOptions,
  failureText,
  FLOW_DEFAULTS,
  flowInput,
  futureView,
  openForecast,
  prepareForCheckpoint,
  readCheckpoint,
  settingConflicts,
  sineModelName,
} from "../../src/app/index.js";
import { SineNet } from "../../src/experiments/sine.js";
import { describeModel, describeNet } from "../../src/forecast/describe.js";
import { randn } from "../../src/core/creation.js";
import { Generator } from "../../src/core/random.js";
import { type ForecastCheckpoint, encodeCheckpoint } from "../../src/forecast/checkpoint.js";
import { prepareSeries } from "../../src/forecast/data.js";
import { CheckpointError } from "../../src/forecast/errors.js";
import { evaluateForecaster, forecastSeries, forecasterFrom } from "../../src/forecast/forecast.js";
import { DEFAULT_TRAIN_OPTIONS, trainForecaster } from "../../src/forecast/train.js";

/** n monthly rows from 2015-01: y = 10 + sin(2πt/12) + t/10 (and a second column z = t). */
function monthlyCsv(n: number, header = "date,y,z"): string {
  const rows = [header];
  for (let t = 0; t < n; t++) {
    const d = new Date(Date.UTC(2015, t, 1)).toISOString().slice(0, 10);
    rows.push(`${d},${(10 + Math.sin((2 * Math.PI * t) / 12) + t / 10).toFixed(4)},${t}`);
  }
  return `${rows.join("\n")}\n`;
}

function dailyCsv(n: number): string {
  const rows = ["date,y,z"];
  for (let t = 0; t < n; t++) {
    rows.push(`${new Date(Date.UTC(2020, 0, 1 + t)).toISOString().slice(0, 10)},${10 + Math.sin(t)},${t}`);
  }
  return `${rows.join("\n")}\n`;
}

const CSV = monthlyCsv(60);
let ckpt: ForecastCheckpoint;

beforeAll(async () => {
  const prepared = prepareSeries(CSV, { target: "y" });
  const r = await trainForecaster(prepared, {
    ...DEFAULT_TRAIN_OPTIONS,
    lookback: 12,
    horizon: 3,
    hidden: 4,
    epochs: 2,
    val: 0.2,
    test: 0.2,
    seed: 1,
  });
  ckpt = r.checkpoint!;
}, 60_000);

describe("opening a checkpoint against a CSV: one set of checks for the command and the page", () => {
  it("an empty checkpoint file is refused by name", () => {
    expect(() => readCheckpoint(new Uint8Array(0), "m.safetensors")).toThrow(
      new CheckpointError("the checkpoint m.safetensors is empty (0 bytes)"),
    );
  });

  it("a CSV without the checkpoint's column or date column: the message names both sides", () => {
    const csv = monthlyCsv(60, "date,value,z");
    expect(() => openForecast(ckpt, "m.safetensors", csv, "other.csv")).toThrow(
      new CheckpointError(
        `the checkpoint m.safetensors reads columns y with dates in "date", which other.csv does not match: unknown column "y"; the columns are: date, value, z`,
      ),
    );
    expect(() => openForecast(ckpt, "m.safetensors", monthlyCsv(60, "when,y,z"), "when.csv")).toThrow(
      new CheckpointError(
        `the checkpoint m.safetensors reads columns y with dates in "date", which when.csv does not match: date column "date" is not in the CSV; its columns are: when, y, z`,
      ),
    );
  });

  it("a CSV sampled at another step is refused (the page used to accept it; resuming too)", () => {
    const msg = "the checkpoint m.safetensors was trained on monthly data but daily.csv is daily";
    expect(() => openForecast(ckpt, "m.safetensors", dailyCsv(60), "daily.csv")).toThrow(
      new CheckpointError(msg),
    );
    // train --resume prepares its CSV through the same function
    expect(() => prepareForCheckpoint(ckpt, "m.safetensors", dailyCsv(60), "daily.csv")).toThrow(msg);
  });

  it("bytes and a decoded checkpoint open the same session; the series is the checkpoint's columns", () => {
    const a = openForecast(encodeCheckpoint(ckpt), "m.safetensors", CSV, "a.csv");
    const b = openForecast(ckpt, "m.safetensors", CSV, "a.csv");
    expect(a.prepared.series.columns).toEqual(["y"]);
    expect(Array.from(a.prepared.series.data)).toEqual(Array.from(b.prepared.series.data));
    expect(a.prepared.series.shape).toEqual([60, 1]);
  });
});

describe("the settings a checkpoint fixes", () => {
  it("lists only the settings given that differ, with both values", () => {
    expect(settingConflicts(ckpt, { lookback: 12, horizon: 3, hidden: 4, cell: "lstm" })).toEqual([]);
    expect(settingConflicts(ckpt, { hidden: 8, lookback: 12, target: "z" })).toEqual([
      { key: "hidden", asked: "8", fixed: "4" },
      { key: "target", asked: "z", fixed: "y" },
    ]);
    expect(settingConflicts(ckpt, { features: ["z"] })).toEqual([
      { key: "features", asked: "z", fixed: "none" },
    ]);
    expect(settingConflicts(ckpt, { dateColumn: "none" })).toEqual([
      { key: "dateColumn", asked: "none", fixed: "date" },
    ]);
  });
});

describe("views as plain data", () => {
  it("chartHistory: 3 lookbacks or 4 forecasts, at most the series, or as asked", () => {
    expect(chartHistory(60, 12, 3)).toBe(36);
    expect(chartHistory(60, 2, 10)).toBe(40);
    expect(chartHistory(20, 12, 3)).toBe(20);
    expect(chartHistory(60, 12, 3, 5)).toBe(5);
  });

  it("futureView: the library's forecast, the last rows before it, dates continued monthly", () => {
    const s = openForecast(ckpt, "m.safetensors", CSV, "a.csv");
    const v = futureView(s, undefined, 5);
    const want = forecastSeries(forecasterFrom(ckpt), s.prepared.series);
    expect(v.values).toEqual(Array.from(want.values));
    expect(v.dates).toEqual(["2020-01-01", "2020-02-01", "2020-03-01"]);
    expect(v.steps).toEqual([60, 61, 62]);
    const y = (t: number) => Math.fround(Number((10 + Math.sin((2 * Math.PI * t) / 12) + t / 10).toFixed(4)));
    expect(v.lastObserved).toEqual({ stamp: "2019-12-01", value: y(59) });
    expect(v.chart.history).toEqual([55, 56, 57, 58, 59].map(y));
    expect(v.chart.forecast).toEqual(v.values);
    expect(v.chart.heldOut).toBeNull();
    expect(v.chart.dates).toEqual([
      ...[7, 8, 9, 10, 11].map((m) => Date.UTC(2019, m, 1)),
      ...[0, 1, 2].map((m) => Date.UTC(2020, m, 1)),
    ]);
    expect(v.chart.index).toEqual([55, 56, 57, 58, 59, 60, 61, 62]);
  });

  it("backtestView: the library's scores, baselines named once, the held-out blocks of the chart", () => {
    const s = openForecast(ckpt, "m.safetensors", CSV, "a.csv");
    const v = backtestView(s, { classical: false });
    const ev = evaluateForecaster(forecasterFrom(ckpt), s.prepared.series, { season: 12 });
    expect(v.season).toBe(12); // monthly
    expect(v.testStart).toBe(48); // test 0.2 of 60 rows
    expect(v.windows).toBe(10); // origins 48..57 with horizon 3
    expect(v.firstOrigin).toBe("2019-01-01");
    expect(v.lastOrigin).toBe("2019-10-01");
    expect(v.scores.map((r) => r.name)).toEqual(["LSTM model", "naive", "seasonal naive (m=12)"]);
    expect(v.scores[0]).toEqual({ name: "LSTM model", ...ev.scores.model });
    // blocks from origins 48, 51, 54, 57: window w = 3b, each forecast beside the truth
    expect(v.chart.forecast.length).toBe(12);
    for (let b = 0; b < 4; b++)
      for (let h = 0; h < 3; h++) {
        expect(v.chart.forecast[3 * b + h]).toBe(ev.forecasts.model[3 * b * 3 + h]);
        expect(v.chart.heldOut![3 * b + h]).toBe(s.prepared.series.data[48 + 3 * b + h]);
      }
    expect(v.chart.index[0]).toBe(48 - 24); // two lookbacks of history
    // with stride 2 the blocks stop at the first origin the stride skips (51 is not 48 + 2k)
    const strided = backtestView(s, { classical: false, stride: 2 });
    expect(strided.windows).toBe(5);
    expect(strided.chart.forecast.length).toBe(3);
    expect(strided.classical).toEqual([]);
  });

  it("backtestView fits the classical models unless told not to", () => {
    const s = openForecast(ckpt, "m.safetensors", CSV, "a.csv");
    const v = backtestView(s);
    expect(v.classical.map((c) => c.name)).toEqual(["ETS", "ARIMA", "Theta", "seasonal naive + drift"]);
    expect(v.scores.length).toBe(3 + v.classical.filter((c) => c.scores !== null).length);
  });
});

describe("the gradient-flow input", () => {
  it("sine is sin(linspace(0, 10, T)) in every feature; randn draws from a generator seeded seed + 1", () => {
    const x = flowInput("sine", 5, 2, 0);
    expect(x.shape).toEqual([5, 2]);
    const want = [0, 2.5, 5, 7.5, 10].flatMap((t) => [Math.fround(Math.sin(t)), Math.fround(Math.sin(t))]);
    expect(Array.from(x.data)).toEqual(want);
    expect(Array.from(flowInput("sine", 1, 3, 0).data)).toEqual([0, 0, 0]);
    const r = flowInput("randn", 4, 3, 6);
    expect(Array.from(r.data)).toEqual(Array.from(randn([4, 3], { generator: new Generator(7) }).data));
  });

  it("bad settings are refused with the setting and the value", () => {
    expect(() => checkFlowOptions({ ...FLOW_DEFAULTS, seqLen: 0 })).toThrow(
      "sequence length must be an integer in 1..1000, got 0",
    );
    expect(() => checkFlowOptions({ ...FLOW_DEFAULTS, initScale: -1 })).toThrow(
      "W_hh scale must be a positive number, got -1",
    );
  });
});

describe("model names: one wording, from the settings or the module", () => {
  it("sineModelName is what SineNet's modules print", () => {
    for (const [cell, hidden, layers] of [
      ["rnn", 16, 1],
      ["lstm", 5, 2],
      ["gru", 3, 3],
    ] as const) {
      const net = new SineNet(cell, hidden, layers);
      expect(sineModelName({ cell, hidden, layers })).toBe(`${net.rnn.toString()} + Linear(${hidden}, 1)`);
    }
  });

  it("describeNet words settings as describeModel words the checkpoint trained with them", () => {
    expect(describeNet({ cell: "lstm", inputSize: 1, hidden: 4, layers: 1, horizon: 3 })).toBe(
      describeModel(ckpt),
    );
    expect(describeNet({ cell: "gru", inputSize: 3, hidden: 8, layers: 2, horizon: 7 })).toBe(
      "GRU(3, 8, num_layers=2) -> Linear(8, 7)",
    );
  });
});

describe("training reports", () => {
  it("failureText says what became non-finite and where: a batch, or the validation pass", () => {
    expect(failureText({ epoch: 3, batch: 2, what: "loss", value: Number.NaN }, 0.5)).toBe(
      "training stopped: the loss became NaN at epoch 3, batch 2 (learning rate 0.5)",
    );
    expect(
      failureText({ epoch: 1, batch: 0, what: "validation loss", value: Number.POSITIVE_INFINITY }, 1e-3),
    ).toBe(
      "training stopped: the validation loss became Infinity in the validation pass of epoch 1 (learning rate 0.001)",
    );
  });
});
