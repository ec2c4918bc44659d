// A forecast checkpoint as one ONNX graph that takes raw values and returns forecasts in the series'
// units: the checkpoint's scaling, the window normalisation, the network and the way back, so a runtime
// needs nothing but the file. Browser-safe. The same steps as pipeline.ts (there in float64 where it
// scales; here in float32, as a runtime computes):
//
//   x      (batch, L, F)  the last L rows of the checkpoint's columns, in their own units
//   xs     = x · mul + add                          per column (the fitted scaler)
//   ref    = xs[:, L-1, target]  ("last"; 0 for "none"), subtracted from the target column
//   y      = head(rnn(xs)[last step])               (batch, H), in model units
//   out    = (y + ref - add_t) / mul_t              (batch, H), the target's units
//
// Legend: B = batch, L = lookback, F = columns, H = horizon.

import { emitModule, emitRecurrent, registerOnnxEmitter, type Value } from "../io/onnx/export.js";
import { FLOAT, GraphBuilder } from "../io/onnx/proto.js";
import type { Module } from "../nn/module.js";
import { type ForecastCheckpoint, LIBRARY_VERSION, buildModel } from "./checkpoint.js";
import { CheckpointError, ForecastError } from "./errors.js";
import type { ForecastNet } from "./model.js";

/** Per-column y = x · mul + add of a checkpoint's scaler (float64, as the scaler computes it). */
function scalerCoefs(ckpt: ForecastCheckpoint): { mul: number[]; add: number[] } {
  const s = ckpt.meta.data.scaler;
  if (s.type === "standard")
    return { mul: s.scale.map((v) => 1 / v), add: s.mean.map((m, c) => -m / s.scale[c]) };
  const [lo, hi] = s.featureRange;
  const mul = s.dataMin.map((mn, c) => (hi - lo) / (s.dataMax[c] - mn === 0 ? 1 : s.dataMax[c] - mn));
  return { mul, add: s.dataMin.map((mn, c) => lo - mn * mul[c]) };
}

/** The network of a ForecastNet (model units in and out): input in its layout, (B, H) out. */
function emitForecastNet(g: GraphBuilder, m: Module, x: Value, scope: string): Value {
  const net = m as ForecastNet;
  const join = (k: string) => (scope ? `${scope}/${k}` : k);
  const r = emitRecurrent(g, net.rnn, x, join("rnn"), null, null);
  const timeDim = net.config.batchFirst ? 1 : 0;
  const last = g.node("Gather", [r.y.name, g.ints("last", [-1], [])], scope, { axis: { i: timeDim } })[0];
  const Bdim = r.y.shape[net.config.batchFirst ? 0 : 1];
  return emitModule(g, net.head, { name: last, shape: [Bdim, r.y.shape[2]] }, join("head"));
}
registerOnnxEmitter("ForecastNet", emitForecastNet, (m, x) => {
  const bf = (m as ForecastNet).config.batchFirst;
  return bf ? ["batch", "sequence", x.shape[2]] : ["sequence", "batch", x.shape[2]];
});

/**
 * The checkpoint's forecaster as ONNX bytes: input `x` (batch, lookback, columns) of raw values (the
 * checkpoint's columns in its order, oldest row first), output `forecast` (batch, horizon) in the target's
 * units. Opset 17.
 */
export function exportForecastOnnx(ckpt: ForecastCheckpoint, source = "checkpoint"): Uint8Array {
  if (ckpt.meta.data.panel !== undefined) {
    throw new CheckpointError(
      `${source} holds one model of ${ckpt.meta.data.panel.series.length} series, each with its own scaling, and an ONNX graph holds one: pick a series (seriesCheckpoint, or export --series ID)`,
    );
  }
  // the hybrid's Holt-Winters recursion runs over the whole history and ETS has no network: neither is a
  // fixed-lookback graph of ONNX's operators (yet), so only the recurrent forecaster (--model lstm) leaves
  if (ckpt.meta.hybrid !== undefined || ckpt.meta.ets !== undefined || ckpt.meta.arima !== undefined) {
    const what =
      ckpt.meta.hybrid !== undefined
        ? "a hybrid (ES-RNN) model"
        : ckpt.meta.ets !== undefined
          ? "an ETS model"
          : "an ARIMA model";
    throw new ForecastError(
      `${source}: ONNX export covers the recurrent forecaster (train --model lstm); this checkpoint holds ${what}, which it cannot express yet`,
    );
  }
  const net = buildModel(ckpt, source);
  const d = ckpt.meta.data;
  const F = net.config.inputSize;
  const L = d.lookback;
  const H = net.config.horizon;
  const ti = d.target_index;
  const { mul, add } = scalerCoefs(ckpt);
  const g = new GraphBuilder();
  const x = g.input("x", FLOAT, ["batch", L, F]);
  let xs = g.node(
    "Add",
    [g.node("Mul", [x, g.floats("scaler.mul", mul, [F])], "scale")[0], g.floats("scaler.add", add, [F])],
    "scale",
  )[0];
  let ref: string | null = null;
  if (d.window_norm === "last") {
    // ref (B, 1, 1) = xs[:, L-1:L, t:t+1]; the target column minus ref
    ref = g.node(
      "Slice",
      [xs, g.ints("starts", [L - 1, ti]), g.ints("ends", [L, ti + 1]), g.ints("axes", [1, 2])],
      "norm",
    )[0];
    const onehot = Array.from({ length: F }, (_, c) => (c === ti ? 1 : 0));
    xs = g.node(
      "Sub",
      [xs, g.node("Mul", [ref, g.floats("norm.target", onehot, [F])], "norm")[0]],
      "norm",
    )[0];
  }
  const seq = net.config.batchFirst ? xs : g.node("Transpose", [xs], "", { perm: { ints: [1, 0, 2] } })[0];
  const shape = net.config.batchFirst ? ["batch", L, F] : [L, "batch", F];
  let y = emitForecastNet(g, net, { name: seq, shape }, "").name; // (B, H)
  if (ref !== null)
    y = g.node("Add", [y, g.node("Squeeze", [ref, g.ints("axes", [2])], "norm")[0]], "norm")[0];
  y = g.node(
    "Div",
    [
      g.node("Sub", [y, g.floats("unscale.add", [add[ti]], [])], "unscale")[0],
      g.floats("unscale.mul", [mul[ti]], []),
    ],
    "unscale",
  )[0];
  g.output("forecast", y, FLOAT, ["batch", H]);
  return g.encode({
    graphName: "forecast",
    opset: 17,
    producerVersion: LIBRARY_VERSION,
    docString: `recurrent forecaster: x (batch, ${L}, ${F}) = the last ${L} rows of ${d.columns.join(", ")} in their own units -> forecast (batch, ${H}) of ${d.target}`,
  });
}
