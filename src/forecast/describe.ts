// The one wording of a forecast checkpoint's model, for the command and the page alike.

import type { ForecastCheckpoint } from "./checkpoint.js";
import { partnerSpec } from "./hybrid/combine.js";

/** The model's family in a word or two: "hybrid", the ETS or ARIMA spec (e.g. "ETS(M,Ad,M)"), or the cell ("LSTM"). */
export function modelKind(ckpt: ForecastCheckpoint): string {
  if (ckpt.meta.hybrid !== undefined) return "hybrid";
  if (ckpt.meta.ets !== undefined) return ckpt.meta.ets.spec;
  if (ckpt.meta.arima !== undefined) return ckpt.meta.arima.spec;
  return ckpt.meta.model.cell.toUpperCase();
}

/** The model in full, as its modules print: `LSTM(1, 32) -> Linear(32, 12)`, the hybrid's parts, or the ETS spec. */
export function describeModel(ckpt: ForecastCheckpoint): string {
  const h = ckpt.meta.hybrid;
  if (h !== undefined) {
    const c = h.config;
    const inputs = 1 + 2 * c.inputTerms.reduce((a, t) => a + t.harmonics, 0);
    const learned = c.learnedTerms.length
      ? `, learned Fourier period ${c.learnedTerms.map((t) => t.period).join("/")}`
      : "";
    return `hybrid: ${c.mode} Holt-Winters (season ${c.season || "none"}${c.trend ? ", trend" : ""}${learned}) + LSTM(${inputs}, ${c.hidden}${c.layers > 1 ? `, num_layers=${c.layers}` : ""}) -> Linear(${c.hidden}, ${c.horizon}), ${c.members} member(s)${h.combine ? `; averaged with ${partnerSpec(h.combine)} (weight ${Number(h.combine.weight.toFixed(4))})` : ""}`;
  }
  if (ckpt.meta.ets !== undefined) return ckpt.meta.ets.spec;
  if (ckpt.meta.arima !== undefined) return ckpt.meta.arima.spec;
  const m = ckpt.meta.model;
  return describeNet({
    cell: m.cell,
    inputSize: m.input_size,
    hidden: m.hidden_size,
    layers: m.num_layers,
    horizon: m.horizon,
  });
}

/** A recurrent forecaster from its settings, worded as describeModel words a checkpoint's: `LSTM(1, 32) -> Linear(32, 12)`. */
export function describeNet(n: {
  cell: string;
  inputSize: number;
  hidden: number;
  layers: number;
  horizon: number;
}): string {
  return `${n.cell.toUpperCase()}(${n.inputSize}, ${n.hidden}${n.layers > 1 ? `, num_layers=${n.layers}` : ""}) -> Linear(${n.hidden}, ${n.horizon})`;
}
