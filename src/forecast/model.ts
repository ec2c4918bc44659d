// ForecastNet: a recurrent layer over `lookback` steps of F input columns, whose last step's top-layer
// output goes through one Linear layer to all `horizon` future values of the target at once (a direct
// multi-horizon forecast). The parameter names are PyTorch's for the same composition,
//
//   class ForecastNet(torch.nn.Module):
//       rnn  = torch.nn.LSTM(F, hidden, num_layers, dropout=..., batch_first=...)   # or RNN / GRU
//       head = torch.nn.Linear(hidden, horizon)
//       forward(x) = head(rnn(x)[0][:, -1])          # x[:, -1] is x[-1] when not batch_first
//
// so the state dict (`rnn.weight_ih_l0`, ..., `head.weight`, `head.bias`) loads into it unchanged.
//
// Legend: B = batch, L = lookback (time), F = input columns, Hd = hidden size, H = horizon.

import * as ops from "../core/ops.js";
import { noGrad, type Tensor } from "../core/tensor.js";
import { Linear } from "../nn/linear.js";
import { Module } from "../nn/module.js";
import { GRU, LSTM, RNN } from "../nn/rnn.js";
import { ForecastError } from "./errors.js";

export type CellType = "rnn" | "lstm" | "gru";
export const CELL_TYPES: readonly CellType[] = ["rnn", "lstm", "gru"];

/** Everything that fixes the network's shape; stored in checkpoints under these snake_case names. */
export interface ForecastModelConfig {
  cell: CellType;
  /** F: the number of input columns (the target and the features). */
  inputSize: number;
  hiddenSize: number;
  numLayers: number;
  /** Dropout between stacked recurrent layers (PyTorch's `dropout`; needs numLayers >= 2 to act). */
  dropout: number;
  /** Inputs are (B, L, F) when true, (L, B, F) when false. */
  batchFirst: boolean;
  /** H: the number of future steps forecast at once. */
  horizon: number;
}

function checkConfig(c: ForecastModelConfig): void {
  if (!CELL_TYPES.includes(c.cell)) {
    throw new ForecastError(`cell must be one of ${CELL_TYPES.join(", ")}, got ${JSON.stringify(c.cell)}`);
  }
  for (const [k, v] of [
    ["inputSize", c.inputSize],
    ["hiddenSize", c.hiddenSize],
    ["numLayers", c.numLayers],
    ["horizon", c.horizon],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new ForecastError(`${k} must be a positive integer, got ${v}`);
  }
  if (typeof c.dropout !== "number" || !(c.dropout >= 0 && c.dropout < 1)) {
    throw new ForecastError(`dropout must be a number in [0, 1), got ${c.dropout}`);
  }
  if (c.dropout > 0 && c.numLayers < 2) {
    throw new ForecastError(
      `dropout ${c.dropout} acts between stacked recurrent layers, so it needs at least 2 layers, got ${c.numLayers}`,
    );
  }
  if (typeof c.batchFirst !== "boolean") throw new ForecastError("batchFirst must be true or false");
}

export class ForecastNet extends Module {
  /** The printed name (kept through minification). */
  static readonly typeName = "ForecastNet";

  readonly config: Readonly<ForecastModelConfig>;
  rnn: RNN | LSTM | GRU;
  head: Linear;

  /** Draws the initial weights from the default generator, as PyTorch does (seed it first). */
  constructor(config: ForecastModelConfig) {
    super();
    checkConfig(config);
    this.config = Object.freeze({ ...config });
    const { cell, inputSize, hiddenSize, numLayers, dropout, batchFirst } = config;
    const opts = { numLayers, dropout, batchFirst };
    this.rnn =
      cell === "lstm"
        ? new LSTM(inputSize, hiddenSize, opts)
        : cell === "gru"
          ? new GRU(inputSize, hiddenSize, opts)
          : new RNN(inputSize, hiddenSize, opts);
    this.head = new Linear(hiddenSize, config.horizon);
  }

  /** x (B, L, F), or (L, B, F) when not batchFirst -> the forecast (B, H) in model units. */
  forward(x: Tensor): Tensor {
    const { inputSize, batchFirst } = this.config;
    if (x.ndim !== 3 || x.shape[2] !== inputSize) {
      throw new ForecastError(
        `ForecastNet expects input of shape ${batchFirst ? "(B, L, F)" : "(L, B, F)"} with F = ${inputSize}, got [${x.shape.join(", ")}]`,
      );
    }
    const timeDim = batchFirst ? 1 : 0;
    const L = x.shape[timeDim];
    if (L < 1) throw new ForecastError("ForecastNet needs at least one time step");
    const [out] = (this.rnn as LSTM).forward(x); // (B, L, Hd) or (L, B, Hd)
    const last = ops.select(out, timeDim, L - 1); // (B, Hd)
    return this.head.forward(last); // (B, H)
  }

  /** `forward` without recording a graph, in evaluation mode (no dropout); restores the mode after. */
  predict(x: Tensor): Tensor {
    const wasTraining = this.training;
    this.eval();
    try {
      return noGrad(() => this.forward(x));
    } finally {
      this.train(wasTraining);
    }
  }
}

/** The model config with the snake_case keys of the checkpoint metadata (PyTorch's argument names). */
export interface ModelConfigJSON {
  cell: CellType;
  input_size: number;
  hidden_size: number;
  num_layers: number;
  dropout: number;
  batch_first: boolean;
  horizon: number;
}

export function modelConfigToJSON(c: ForecastModelConfig): ModelConfigJSON {
  return {
    cell: c.cell,
    input_size: c.inputSize,
    hidden_size: c.hiddenSize,
    num_layers: c.numLayers,
    dropout: c.dropout,
    batch_first: c.batchFirst,
    horizon: c.horizon,
  };
}

export function modelConfigFromJSON(j: ModelConfigJSON): ForecastModelConfig {
  const c: ForecastModelConfig = {
    cell: j.cell,
    inputSize: j.input_size,
    hiddenSize: j.hidden_size,
    numLayers: j.num_layers,
    dropout: j.dropout,
    batchFirst: j.batch_first,
    horizon: j.horizon,
  };
  checkConfig(c);
  return c;
}
