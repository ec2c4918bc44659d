// The forecasting core (src/forecast): PyTorch reproduces our forecasts from our checkpoints, the model
// is the composition it claims to be, the pipeline's numbers match hand computations, checkpoints
// round-trip and bad ones are refused, and training keeps its promises (scaling fitted on training
// rows only, seeded determinism, best weights kept, non-finite losses caught, interrupt and resume).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Tensor } from "../src/core/tensor.js";
import { StandardScaler } from "../src/data/scaler.js";
import type { Series } from "../src/data/series.js";
import {
  type ForecastCheckpoint,
  LIBRARY_VERSION,
  buildModel,
  checkpointMetadata,
  decodeCheckpoint,
  encodeCheckpoint,
} from "../src/forecast/checkpoint.js";
import { defaultSeason, prepareSeries } from "../src/forecast/data.js";
import { CheckpointError } from "../src/forecast/errors.js";
import {
  evaluateForecaster,
  forecastSeries,
  forecasterFrom,
  seriesSpecOf,
  testStartIn,
} from "../src/forecast/forecast.js";
import { ForecastNet } from "../src/forecast/model.js";
import {
  type PipelineSpec,
  decodeOutputs,
  predictWindows,
  scaleSeries,
  windowInputs,
  windowTargets,
} from "../src/forecast/pipeline.js";
import {
  DEFAULT_TRAIN_OPTIONS,
  type TrainOptions,
  originsIn,
  trainForecaster,
} from "../src/forecast/train.js";
import { encodeSafetensors } from "../src/io/safetensors.js";
import { FIXTURES, expectClose, loadFixture } from "./helpers.js";

const ROOT = join(import.meta.dirname, "..");
const FDIR = join(FIXTURES, "forecast");
const CO2 = readFileSync(join(ROOT, "datasets", "co2-concentration.csv"), "utf8");

function loadCase(name: string): { ckpt: ForecastCheckpoint; csv: string } {
  const bytes = new Uint8Array(readFileSync(join(FDIR, `${name}.safetensors`)));
  return {
    ckpt: decodeCheckpoint(bytes, `${name}.safetensors`),
    csv: readFileSync(join(FDIR, `${name}.csv`), "utf8"),
  };
}

function seriesFor(ckpt: ForecastCheckpoint, csv: string): Series {
  return prepareSeries(csv, { ...seriesSpecOf(ckpt), fill: ckpt.meta.data.fill ?? undefined }).series;
}

/** A small seasonal series with a trend, as CSV text with monthly dates. */
function syntheticCsv(T: number, noise = 0.3): string {
  const lines = ["month,y,x"];
  let s = 1;
  const rnd = () => {
    s = (s * 16807) % 2147483647;
    return s / 2147483647 - 0.5;
  };
  for (let t = 0; t < T; t++) {
    const y = 10 + 0.05 * t + 2 * Math.sin((2 * Math.PI * t) / 12) + noise * rnd();
    const x = Math.cos((2 * Math.PI * t) / 12) + noise * rnd();
    const yr = 2000 + Math.floor(t / 12);
    const mo = (t % 12) + 1;
    lines.push(`${yr}-${String(mo).padStart(2, "0")},${y.toFixed(4)},${x.toFixed(4)}`);
  }
  return `${lines.join("\n")}\n`;
}

const SMALL: TrainOptions = {
  ...DEFAULT_TRAIN_OPTIONS,
  lookback: 8,
  horizon: 2,
  hidden: 4,
  batchSize: 16,
  epochs: 3,
  val: 0.2,
  test: 0.2,
};

describe("PyTorch reproduces our forecasts (fixtures from scripts/torch_forecast.py)", () => {
  type Fx = Record<string, Record<string, unknown>>;
  const fx = loadFixture<Fx>("forecast", "forecast");
  const cases = JSON.parse(readFileSync(join(FDIR, "cases.json"), "utf8")) as {
    name: string;
    steps: number[];
  }[];

  it("covers three cases", () => {
    expect(cases.map((c) => c.name)).toEqual(["lstm_co2", "gru_weather", "rnn_gaps"]);
  });

  for (const c of cases) {
    it(`${c.name}: the state dict keys are PyTorch's and the forecasts agree to 1e-5`, () => {
      const { ckpt, csv } = loadCase(c.name);
      const f = forecasterFrom(ckpt);
      expect(Object.keys(f.model!.stateDict()).sort()).toEqual(fx[c.name].state_dict_keys);
      const series = seriesFor(ckpt, csv);
      for (const steps of c.steps) {
        const want = fx[c.name][String(steps)] as { dates: string[] | null; values: number[] };
        const got = forecastSeries(f, series, steps);
        expect(got.values.length).toBe(steps);
        // 1e-5 relative to the values' size (CO2 is ~400 ppm, where float32 itself resolves ~3e-5)
        const scale = Math.max(1, ...want.values.map(Math.abs));
        expectClose(got.values, want.values, {
          atol: 1e-5 * scale,
          rtol: 0,
          what: `${c.name} steps ${steps}`,
        });
        expect(got.dates).toEqual(want.dates);
        expect(got.recursiveSteps).toBe(Math.max(0, steps - ckpt.meta.data.horizon));
      }
    });
  }

  it("the fixtures exercise what they claim: recursion, batch_first false, dropout, minmax, fills, no dates", () => {
    const co2 = loadCase("lstm_co2").ckpt.meta;
    const gru = loadCase("gru_weather").ckpt.meta;
    const rnn = loadCase("rnn_gaps").ckpt.meta;
    expect([co2.model.cell, gru.model.cell, rnn.model.cell]).toEqual(["lstm", "gru", "rnn"]);
    expect(gru.model.batch_first).toBe(false);
    expect(gru.model.dropout).toBeGreaterThan(0);
    expect(gru.data.scaler.type).toBe("minmax");
    expect(gru.data.window_norm).toBe("none");
    expect(gru.data.columns).toEqual(["temp_max", "temp_min", "wind"]);
    expect(co2.data.window_norm).toBe("last");
    expect(rnn.data.fill).toBe("linear");
    expect(rnn.data.date_column).toBeNull();
    const rnnCsv = loadCase("rnn_gaps").csv.trimEnd().split("\n");
    expect(rnnCsv.slice(-rnn.data.lookback).some((l) => l === "")).toBe(true); // a filled gap is read
  });
});

describe("ForecastNet", () => {
  it("is rnn -> last step's top-layer output -> head; batch_first only changes the layout", () => {
    for (const cell of ["rnn", "lstm", "gru"] as const) {
      const cfg = {
        cell,
        inputSize: 3,
        hiddenSize: 5,
        numLayers: 2,
        dropout: 0,
        batchFirst: true,
        horizon: 4,
      };
      const a = new ForecastNet(cfg);
      const b = new ForecastNet({ ...cfg, batchFirst: false });
      b.loadStateDict(a.stateDict());
      const B = 2;
      const L = 6;
      const x = new Float32Array(B * L * 3).map((_, i) => Math.sin(i * 0.7));
      const ya = a.predict(new Tensor(x, [B, L, 3]));
      const xt = new Float32Array(B * L * 3); // (L, B, F)
      for (let n = 0; n < B; n++)
        for (let l = 0; l < L; l++)
          for (let f = 0; f < 3; f++) xt[(l * B + n) * 3 + f] = x[(n * L + l) * 3 + f];
      const yb = b.predict(new Tensor(xt, [L, B, 3]));
      expectClose(yb.data, ya.data, { atol: 0, rtol: 0, what: `${cell} layouts` });
      // the top layer's final hidden state is the last step's output: head(h_n[-1]) is the same forecast
      const [, state] = (
        a.rnn as unknown as { forward(x: Tensor): [Tensor, Tensor | [Tensor, Tensor]] }
      ).forward(new Tensor(x, [B, L, 3]));
      const hN = Array.isArray(state) ? state[0] : state; // (layers, B, H)
      const top = new Tensor(hN.data.slice(5 * B), [B, 5]);
      expectClose(a.head.forward(top).data, ya.data, { atol: 1e-7, what: `${cell} via h_n` });
    }
  });

  it("has PyTorch's parameter names and refuses dropout on one layer", () => {
    const m = new ForecastNet({
      cell: "lstm",
      inputSize: 2,
      hiddenSize: 3,
      numLayers: 1,
      dropout: 0,
      batchFirst: true,
      horizon: 5,
    });
    expect(Object.keys(m.stateDict())).toEqual([
      "rnn.weight_ih_l0",
      "rnn.weight_hh_l0",
      "rnn.bias_ih_l0",
      "rnn.bias_hh_l0",
      "head.weight",
      "head.bias",
    ]);
    expect(m.stateDict()["rnn.weight_ih_l0"].shape).toEqual([12, 2]);
    expect(m.stateDict()["head.weight"].shape).toEqual([5, 3]);
    expect(
      () =>
        new ForecastNet({
          cell: "gru",
          inputSize: 1,
          hiddenSize: 3,
          numLayers: 1,
          dropout: 0.2,
          batchFirst: true,
          horizon: 1,
        }),
    ).toThrow(/needs at least 2 layers/);
  });
});

describe("the pipeline", () => {
  const scaler = StandardScaler.fromJSON({ type: "standard", mean: [1, 10], scale: [2, 5] });
  const series = { data: Float32Array.from([1, 10, 3, 15, 5, 20, 7, 5, 9, 0, 11, 30]), shape: [6, 2] }; // (T, F)

  it("scales, windows and shifts by the last target value as computed by hand", () => {
    const spec: PipelineSpec = { scaler, targetIndex: 1, lookback: 3, horizon: 2, windowNorm: "last" };
    const scaled = scaleSeries(spec, series);
    // column 0: (v - 1) / 2; column 1: (v - 10) / 5
    expect(Array.from(scaled)).toEqual([0, 0, 1, 1, 2, 2, 3, -1, 4, -2, 5, 4]);
    const { x, refs } = windowInputs(spec, scaled, 2, [4]);
    // rows 1..3 = (1, 1), (2, 2), (3, -1); ref = -1 shifts the target column by +1
    expect(Array.from(refs)).toEqual([-1]);
    expect(Array.from(x)).toEqual([1, 2, 2, 3, 3, 0]);
    const y = windowTargets(spec, scaled, 2, [4], refs);
    expect(Array.from(y)).toEqual([-1, 5]); // rows 4, 5 of column 1: -2 and 4, plus 1
    // decoding model outputs equal to the targets gives back the series' values
    expect(Array.from(decodeOutputs(spec, y, refs))).toEqual([0, 30]);
  });

  it("window norm none leaves the inputs absolute", () => {
    const spec: PipelineSpec = { scaler, targetIndex: 1, lookback: 2, horizon: 1, windowNorm: "none" };
    const scaled = scaleSeries(spec, series);
    const { x, refs } = windowInputs(spec, scaled, 2, [2, 5]);
    expect(Array.from(refs)).toEqual([0, 0]);
    expect(Array.from(x)).toEqual([0, 0, 1, 1, 3, -1, 4, -2]);
  });

  it("a network that predicts no change forecasts the last value (norm last) or the mean (norm none)", () => {
    const csv = syntheticCsv(60);
    const prepared = prepareSeries(csv, { target: "y", features: ["x"] });
    const base = {
      cell: "gru" as const,
      inputSize: 2,
      hiddenSize: 3,
      numLayers: 1,
      dropout: 0,
      batchFirst: true,
      horizon: 3,
    };
    const s = prepared.series;
    const T = s.shape[0];
    const last = s.data[(T - 1) * 2];
    let mean = 0;
    for (let t = 0; t < 40; t++) mean += s.data[t * 2];
    mean /= 40;
    for (const norm of ["last", "none"] as const) {
      const model = new ForecastNet(base);
      model.head.weight.data.fill(0);
      model.head.bias!.data.fill(0);
      const sc = new StandardScaler().fit({ data: s.data, shape: [T, 2] }, { end: 40 });
      const spec: PipelineSpec = { scaler: sc, targetIndex: 0, lookback: 5, horizon: 3, windowNorm: norm };
      const { x, refs } = windowInputs(spec, scaleSeries(spec, s), 2, [T]);
      const y = decodeOutputs(spec, predictWindows(model, x, 1), refs);
      const want = norm === "last" ? last : mean;
      expectClose(y, [want, want, want], { atol: 0, rtol: 1e-6, what: norm });
    }
  });
});

describe("checkpoints", () => {
  it("round-trip bit for bit, optimizer buffers in standard little-endian base64", () => {
    const { ckpt } = loadCase("lstm_co2");
    const again = decodeCheckpoint(encodeCheckpoint(ckpt));
    expect(again.meta).toEqual(ckpt.meta);
    for (const [k, t] of Object.entries(ckpt.stateDict))
      expect(Array.from(again.stateDict[k].data)).toEqual(Array.from(t.data));
    expect(ckpt.optimizer).not.toBeNull();
    const st = ckpt.optimizer!.state["0"];
    const avg = st.exp_avg as Float32Array;
    expect(avg).toBeInstanceOf(Float32Array);
    expect(avg.length).toBe(ckpt.stateDict["rnn.weight_ih_l0"].data.length);
    const packed = JSON.parse(checkpointMetadata(ckpt)["recurrent.optimizer"]);
    expect(packed.state["0"].exp_avg.f32).toBe(
      Buffer.from(avg.buffer, avg.byteOffset, avg.byteLength).toString("base64"),
    );
    expect(Array.from(again.optimizer!.state["0"].exp_avg as Float32Array)).toEqual(Array.from(avg));
    expect(checkpointMetadata(ckpt).format).toBe("pt");
  });

  it("refuse foreign, other-kind, newer, damaged and truncated files with clear messages", () => {
    const { ckpt } = loadCase("lstm_co2");
    const meta = checkpointMetadata(ckpt);
    const with_ = (m: Record<string, string>, dict = ckpt.stateDict) => encodeSafetensors(dict, m);
    expect(() =>
      decodeCheckpoint(encodeSafetensors({ w: new Tensor(new Float32Array(2), [2]) }), "x.st"),
    ).toThrow(
      /x\.st is a safetensors file but not a recurrent forecast checkpoint: its metadata has no "recurrent.kind" \(metadata keys: none; 1 tensor\(s\), e\.g\. w\)/,
    );
    expect(() => decodeCheckpoint(with_({ ...meta, "recurrent.kind": "classifier" }))).toThrow(
      /kind "classifier", not a forecast model/,
    );
    expect(() => decodeCheckpoint(with_({ ...meta, "recurrent.format_version": "2" }))).toThrow(
      /format 2 .*reads format 1: upgrade recurrent/,
    );
    expect(() => decodeCheckpoint(with_({ ...meta, "recurrent.model": "{" }))).toThrow(
      /damaged: metadata "recurrent.model" is not valid JSON/,
    );
    expect(() =>
      decodeCheckpoint(
        with_({ ...meta, "recurrent.data": JSON.stringify({ ...ckpt.meta.data, lookback: "12" }) }),
      ),
    ).toThrow(/metadata says data\.lookback = "12"; expected an integer in \[1, 120\]/);
    const { "head.bias": _, ...noBias } = ckpt.stateDict;
    expect(() => decodeCheckpoint(with_(meta, noBias))).toThrow(/the weights have no head\.bias/);
    const bytes = encodeCheckpoint(ckpt);
    for (const cut of [4, 100, bytes.length - 8]) {
      expect(() => decodeCheckpoint(bytes.subarray(0, cut), "c.st")).toThrow(CheckpointError);
      expect(() => decodeCheckpoint(bytes.subarray(0, cut), "c.st")).toThrow(
        /c\.st is not a readable safetensors file/,
      );
    }
  });

  it("say so when the series does not have the model's columns", () => {
    const { ckpt } = loadCase("gru_weather");
    const f = forecasterFrom(ckpt);
    const wrong = prepareSeries(loadCase("gru_weather").csv, {
      target: "temp_max",
      features: ["wind"],
    }).series;
    expect(() => forecastSeries(f, wrong)).toThrow(
      /reads columns temp_max, temp_min, wind but the CSV gave temp_max, wind/,
    );
  });

  it("carry the library version that package.json has", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    expect(LIBRARY_VERSION).toBe(pkg.version);
    expect(loadCase("rnn_gaps").ckpt.meta.libraryVersion).toBe(pkg.version);
  });
});

describe("forecast and evaluate", () => {
  it("a multivariate model cannot go beyond its horizon, and says why", () => {
    const { ckpt, csv } = loadCase("gru_weather");
    const f = forecasterFrom(ckpt);
    expect(() => forecastSeries(f, seriesFor(ckpt, csv), 5)).toThrow(
      /forecasts 4 step\(s\) at once and reads 3 columns; going beyond 4 steps would need future values of temp_min, wind/,
    );
  });

  it("the backtest scores the model's forecast from every origin, as forecasting from the cut series does", () => {
    const { ckpt, csv } = loadCase("lstm_co2");
    const f = forecasterFrom(ckpt);
    const series = seriesFor(ckpt, csv);
    const ev = evaluateForecaster(f, series, { season: 12 });
    const T = series.shape[0];
    const start = ckpt.meta.split.test_range[0];
    const H = ckpt.meta.data.horizon;
    expect(ev.testStart).toBe(start);
    expect(ev.origins).toEqual(Array.from({ length: T - H - start + 1 }, (_, i) => start + i));
    let absSum = 0;
    ev.origins.forEach((o, w) => {
      const cut: Series = {
        ...series,
        data: series.data.slice(0, o),
        shape: [o, 1],
        dates: series.dates!.slice(0, o),
      };
      const own = forecastSeries(f, cut).values;
      expectClose(ev.forecasts.model.subarray(w * H, (w + 1) * H), own, {
        atol: 0,
        rtol: 0,
        what: `origin ${o}`,
      });
      for (let h = 0; h < H; h++) absSum += Math.abs(series.data[o + h] - own[h]);
    });
    expect(ev.scores.model.mae).toBeCloseTo(absSum / (ev.origins.length * H), 10);
    // the test part is found by date in a file that starts later
    const lines = csv.trimEnd().split("\n");
    const later = `${[lines[0], ...lines.slice(11)].join("\n")}\n`;
    const s2 = seriesFor(ckpt, later);
    expect(testStartIn(ckpt, s2)).toBe(start - 10);
    expect(evaluateForecaster(f, s2, { season: 12 }).forecasts.model).toEqual(ev.forecasts.model);
    expect(() => evaluateForecaster(f, series, { season: 12, horizon: H + 1 })).toThrow(
      /integer in \[1, 3\]/,
    );
  });
});

describe("series from CSV", () => {
  it("missing dates are an error without fill, inserted and filled with linear, left with drop", () => {
    expect(() => prepareSeries(CO2, { target: "CO2" })).toThrow(
      /the monthly dates in column "Date" skip 5 step\(s\) in 3 place\(s\), first between 1958-05-01 \(line 4\) and 1958-07-01 \(line 5\)/,
    );
    const lin = prepareSeries(CO2, { target: "CO2", fill: "linear" });
    expect(lin.series.shape).toEqual([746, 1]);
    expect(lin.insertedDates).toBe(5);
    // 1958-06 lies halfway between 1958-05 (317.51) and 1958-07 (315.86)
    expect(lin.series.data[3]).toBeCloseTo((317.51 + 315.86) / 2, 4);
    const drop = prepareSeries(CO2, { target: "CO2", fill: "drop" });
    expect(drop.series.shape).toEqual([741, 1]);
    expect(drop.missingDates).toBe(5);
    expect(defaultSeason(lin.step)).toBe(12);
  });
});

describe("training", () => {
  const csv = syntheticCsv(120);
  const prepared = prepareSeries(csv, { target: "y", features: ["x"] });

  it("fits the scaler on the training rows only and stores everything to forecast again", async () => {
    const r = await trainForecaster(prepared, SMALL);
    const ck = r.checkpoint!;
    const trainEnd = ck.meta.split.train_range[1];
    expect(ck.meta.split.train_range).toEqual([0, 120 - 24 - 24]);
    const s = prepared.series;
    let m = 0;
    for (let t = 0; t < trainEnd; t++) m += s.data[t * 2];
    m /= trainEnd;
    const sc = ck.meta.data.scaler as { type: "standard"; mean: number[] };
    expect(sc.mean[0]).toBeCloseTo(m, 9);
    expect(ck.meta.data.columns).toEqual(["y", "x"]);
    expect(ck.meta.data.date_step).toEqual({ kind: "monthly", months: 1 });
    expect(ck.meta.split.test_start_date).toBe("2008-01");
    expect(ck.meta.training.history.map((h) => h.epoch)).toEqual([1, 2, 3]);
    expect(ck.meta.split.windows).toEqual({
      train: originsIn(0, trainEnd, 8, 2).length,
      val: 24 - 2 + 1,
      test: 24 - 2 + 1,
    });
    // the checkpoint alone forecasts the same as the trained model
    const f = forecasterFrom(decodeCheckpoint(encodeCheckpoint(ck)));
    expect(forecastSeries(f, s).values).toEqual(forecastSeries({ ...f, model: r.model! }, s).values);
  });

  it("is deterministic by seed", async () => {
    const a = await trainForecaster(prepared, { ...SMALL, epochs: 2 });
    const b = await trainForecaster(prepared, { ...SMALL, epochs: 2 });
    const c = await trainForecaster(prepared, { ...SMALL, epochs: 2, seed: 1 });
    const losses = (r: typeof a) => r.checkpoint!.meta.training.history.map((h) => [h.loss, h.val_loss]);
    expect(losses(a)).toEqual(losses(b));
    expect(Array.from(a.checkpoint!.stateDict["head.weight"].data)).toEqual(
      Array.from(b.checkpoint!.stateDict["head.weight"].data),
    );
    expect(losses(c)).not.toEqual(losses(a));
  });

  it("keeps the best epoch's weights and stops after `patience` epochs without improvement", async () => {
    const improved: number[] = [];
    const r = await trainForecaster(
      prepared,
      { ...SMALL, epochs: 40, lr: 0.05, patience: 3, lrPatience: 100 },
      { onImprove: (ck) => void improved.push(ck.meta.training.best_epoch) },
    );
    const t = r.checkpoint!.meta.training;
    const vals = t.history.map((h) => h.val_loss!);
    let argmin = 0;
    vals.forEach((v, i) => {
      if (v < vals[argmin]) argmin = i;
    });
    expect(t.best_epoch).toBe(argmin + 1);
    expect(improved[improved.length - 1]).toBe(t.best_epoch);
    expect(r.stopped).toBe("early-stop");
    expect(t.history.length - t.best_epoch).toBe(3);
    expect(t.stopped).toBe("early-stop");
    // the stored weights give the best epoch's validation loss
    const ck = r.checkpoint!;
    const f = forecasterFrom(ck);
    const scaled = scaleSeries(f.spec, prepared.series);
    const origins = originsIn(ck.meta.split.val_range[0], ck.meta.split.val_range[1], 8, 2);
    const { x, refs } = windowInputs(f.spec, scaled, 2, origins);
    const y = windowTargets(f.spec, scaled, 2, origins, refs);
    const p = predictWindows(buildModel(ck), x, origins.length);
    let mse = 0;
    for (let i = 0; i < p.length; i++) mse += (p[i] - y[i]) ** 2;
    expect(mse / p.length).toBeCloseTo(vals[argmin], 7);
  });

  it("stops on a non-finite loss and says where", async () => {
    const r = await trainForecaster(prepared, { ...SMALL, lr: 1e30, clip: 0 });
    expect(r.stopped).toBe("non-finite");
    expect(r.failure).toEqual({ epoch: 1, batch: 2, what: "loss", value: Number.POSITIVE_INFINITY });
    expect(r.checkpoint).toBeNull();
  });

  it("stops when asked, dropping the unfinished epoch", async () => {
    let batches = 0;
    let perEpoch = 0;
    const r = await trainForecaster(
      prepared,
      { ...SMALL, epochs: 5 },
      {
        onBatch: (_e, _b, n) => {
          batches++;
          perEpoch = n;
        },
        shouldStop: () => batches >= perEpoch + 2,
      },
    );
    expect(r.stopped).toBe("interrupted");
    expect(r.epochsRun).toBe(1);
    expect(r.checkpoint!.meta.training.history.length).toBe(1);
    expect(r.checkpoint!.meta.training.stopped).toBe("interrupted");
  });

  it("resumes with the weights, the optimizer state and the history", async () => {
    const first = await trainForecaster(prepared, { ...SMALL, epochs: 2 });
    const ck1 = decodeCheckpoint(encodeCheckpoint(first.checkpoint!));
    const batches = Math.ceil(ck1.meta.split.windows.train / SMALL.batchSize);
    expect(ck1.optimizer!.state["0"].step).toBe(ck1.meta.training.best_epoch * batches);
    const second = await trainForecaster(prepared, { ...SMALL, epochs: 3, hidden: 99, lookback: 1 }, {}, ck1);
    const ck2 = second.checkpoint!;
    expect(ck2.meta.model).toEqual(ck1.meta.model); // the checkpoint's model and data settings win
    expect(ck2.meta.data.scaler).toEqual(ck1.meta.data.scaler);
    const h = ck2.meta.training.history;
    expect(h.map((e) => e.epoch)).toEqual([1, 2, 3, 4, 5]);
    expect(h.slice(0, 2)).toEqual(ck1.meta.training.history);
    // Adam's step count goes on from the resumed state (the best epoch's), not from zero
    const best = ck2.meta.training.best_epoch;
    if (best > 2)
      expect(ck2.optimizer!.state["0"].step).toBe((ck1.meta.training.best_epoch + best - 2) * batches);
    else expect(ck2.optimizer!.state["0"].step).toBe(ck1.optimizer!.state["0"].step);
    const other = prepareSeries(csv, { target: "y" });
    await expect(trainForecaster(other, SMALL, {}, ck1)).rejects.toThrow(
      /trained on columns y, x but the series has y/,
    );
  });

  it("explains a series too short for its parts", async () => {
    const short = prepareSeries(syntheticCsv(30), { target: "y" });
    await expect(trainForecaster(short, { ...SMALL, lookback: 14, horizon: 6 })).rejects.toThrow(
      "series too short: after the validation (6) and test (6) rows, 18 of 30 rows are left for training, but one training window needs lookback 14 + horizon 6 = 20 rows",
    );
    await expect(trainForecaster(short, { ...SMALL, lookback: 2, horizon: 7 })).rejects.toThrow(
      "the validation part has 6 row(s), fewer than the horizon 7",
    );
  });
});
