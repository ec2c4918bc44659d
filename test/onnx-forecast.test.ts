// The forecaster of a checkpoint as one ONNX graph (raw values in, forecasts in the series' units out),
// run in onnxruntime-web: it must give what `forecastAt` gives (the scaler and the way back in float64
// there, float32 in the graph) within 1e-5 relative, for an LSTM (batch_first, window_norm "last",
// standard scaler), a GRU (2 layers, time-major, 3 columns, "none", minmax) and an RNN (2 layers, "last").
// Also `recurrent export` end to end.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ort from "onnxruntime-web";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { decodeCheckpoint, type ForecastCheckpoint } from "../src/forecast/checkpoint.js";
import { prepareSeries } from "../src/forecast/data.js";
import { forecasterFrom, seriesSpecOf } from "../src/forecast/forecast.js";
import { exportForecastOnnx } from "../src/forecast/onnx.js";
import { forecastAt, scaleSeries } from "../src/forecast/pipeline.js";
import { exportOnnx } from "../src/io/onnx/export.js";
import { main } from "../src/node/cli/main.js";
import { expectClose, FIXTURES } from "./helpers.js";
import { randn } from "../src/core/creation.js";
import { noGrad, Tensor } from "../src/core/tensor.js";
import { importOnnx } from "../src/io/onnx/import.js";

const FDIR = join(FIXTURES, "forecast");
const dir = mkdtempSync(join(tmpdir(), "recurrent-onnx-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeAll(() => {
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = "error";
});

function loadCase(name: string): { ckpt: ForecastCheckpoint; csv: string } {
  return {
    ckpt: decodeCheckpoint(new Uint8Array(readFileSync(join(FDIR, `${name}.safetensors`))), name),
    csv: readFileSync(join(FDIR, `${name}.csv`), "utf8"),
  };
}

async function runForecast(bytes: Uint8Array, x: Float32Array, dims: number[]): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes);
  const r = await s.run({ x: new ort.Tensor("float32", x, dims) });
  await s.release();
  expect(r.forecast.dims.length).toBe(2);
  return r.forecast.data as Float32Array;
}

describe("exportForecastOnnx in onnxruntime", () => {
  for (const name of ["lstm_co2", "gru_weather", "rnn_gaps"]) {
    it(name, async () => {
      const { ckpt, csv } = loadCase(name);
      const f = forecasterFrom(ckpt, name);
      const series = prepareSeries(csv, {
        ...seriesSpecOf(ckpt),
        fill: ckpt.meta.data.fill ?? undefined,
      }).series;
      const [T, F] = series.shape;
      const L = f.spec.lookback;
      const H = f.spec.horizon;
      const origins = [L, Math.floor((L + T) / 2), T, T - 1, L + 3];
      const ours = forecastAt(f.model!, f.spec, scaleSeries(f.spec, series), origins); // (N, H)
      const x = new Float32Array(origins.length * L * F);
      for (const [n, o] of origins.entries()) x.set(series.data.subarray((o - L) * F, o * F), n * L * F);
      const bytes = exportForecastOnnx(ckpt, name);
      const got = await runForecast(bytes, x, [origins.length, L, F]);
      expect(got.length).toBe(origins.length * H);
      // 1e-5 relative to the forecast's scale: a value near zero differs by float32 rounding of the larger
      // terms it was computed from (fused multiply-adds on one side, not on the other)
      const scale = ours.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expectClose(got, ours, { atol: 1e-5 * scale, rtol: 1e-5, what: `${name} forecast` });
      // one window alone: batch 1
      const one = await runForecast(bytes, x.subarray(0, L * F), [1, L, F]);
      expectClose(one, ours.subarray(0, H), { atol: 1e-5 * scale, rtol: 1e-5 });
      // and importOnnx reads the whole forecaster back (scaling glue included)
      const back = importOnnx(bytes);
      expect(Object.keys(back.stateDict())).toEqual(Object.keys(f.model!.stateDict()));
      const y = noGrad(() => back.forward(new Tensor(x, [origins.length, L, F]))) as Tensor;
      expectClose(y.data, ours, { atol: 1e-5 * scale, rtol: 1e-5 });
    });
  }

  it("io.exportOnnx of the bare ForecastNet gives the model-unit outputs", async () => {
    const { ckpt } = loadCase("gru_weather");
    const f = forecasterFrom(ckpt);
    const ex = randn(12, 3, 3); // (L, B, F): time-major
    const bytes = exportOnnx(f.model!, ex);
    const s = await ort.InferenceSession.create(bytes);
    const x = randn(7, 5, 3);
    const r = await s.run({ input: new ort.Tensor("float32", x.data, x.shape) });
    expectClose(
      r.output.data as Float32Array,
      noGrad(() => f.model!.forward(x)),
      { atol: 1e-6, rtol: 1e-5 },
    );
  });
});

describe("recurrent export", () => {
  it("writes the ONNX file of a checkpoint", async () => {
    const out = join(dir, "co2.onnx");
    let stdout = "";
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
      stdout += String(s);
      return true;
    });
    let code: number;
    try {
      code = await main(["export", "--model", join(FDIR, "lstm_co2.safetensors"), "--onnx", out, "--json"]);
    } finally {
      spy.mockRestore();
    }
    expect(code).toBe(0);
    const info = JSON.parse(stdout);
    expect(info.input).toEqual({ name: "x", shape: ["batch", 12, 1], columns: ["CO2"] });
    expect(info.output).toEqual({ name: "forecast", shape: ["batch", 3], target: "CO2" });
    const bytes = new Uint8Array(readFileSync(out));
    expect(bytes.length).toBe(info.bytes);
    expect(bytes).toEqual(exportForecastOnnx(loadCase("lstm_co2").ckpt, "x"));
  });

  it("refuses a hybrid or ETS checkpoint by name, saying what it can export", () => {
    const { ckpt } = loadCase("lstm_co2");
    const hybrid = { ...ckpt, meta: { ...ckpt.meta, hybrid: {} } } as unknown as ForecastCheckpoint;
    expect(() => exportForecastOnnx(hybrid, "h.safetensors")).toThrow(
      "h.safetensors: ONNX export covers the recurrent forecaster (train --model lstm); this checkpoint holds a hybrid (ES-RNN) model",
    );
    const ets = { ...ckpt, meta: { ...ckpt.meta, ets: {} } } as unknown as ForecastCheckpoint;
    expect(() => exportForecastOnnx(ets, "e.safetensors")).toThrow("this checkpoint holds an ETS model");
  });
});
