// The PyTorch loss fixtures (test/fixtures/data/loss, from test/fixtures/gen/loss.py): their case format
// and the functions they name. Not a test file: test/loss.test.ts runs them on the CPU and
// test/webgpu/fixtures-ops.mts on the webgpu device.

import type { Tensor } from "../src/core/tensor.js";
import {
  bceWithLogitsLoss,
  crossEntropyLoss,
  huberLoss,
  l1Loss,
  mseLoss,
  smoothL1Loss,
} from "../src/nn/loss.js";
import { fromJson, type TensorJson } from "./helpers.js";

/** The fixture files, each {cases: LossCase[]}. */
export const LOSS_FILES = ["pointwise", "cross_entropy", "bce_with_logits"] as const;

export interface LossCase {
  name: string;
  fn: string;
  options: Record<string, unknown>;
  input: TensorJson;
  target: TensorJson;
  targetKind: "float" | "index" | "prob";
  targetRequiresGrad: boolean;
  gradWeights: TensorJson | null;
  loss: TensorJson;
  gradInput: TensorJson;
  gradTarget: TensorJson | null;
}

export type AnyLoss = (input: Tensor, target: Tensor, options: Record<string, unknown>) => Tensor;

export const LOSS_FUNCTIONS: Record<string, AnyLoss> = {
  mseLoss: mseLoss as AnyLoss,
  l1Loss: l1Loss as AnyLoss,
  smoothL1Loss: smoothL1Loss as AnyLoss,
  huberLoss: huberLoss as AnyLoss,
  crossEntropyLoss: crossEntropyLoss as AnyLoss,
  bceWithLogitsLoss: bceWithLogitsLoss as AnyLoss,
};

/** The fixture's options with tensor-valued ones (weight, posWeight) as Tensors. */
export function lossOptions(c: LossCase): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(c.options)) {
    out[k] = typeof v === "object" && v !== null && "shape" in v ? fromJson(v as TensorJson) : v;
  }
  return out;
}
