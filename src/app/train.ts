// Training as the command and the page report it. Browser-safe.

import type { TrainFailure } from "../forecast/train.js";

/**
 * Why training stopped on a non-finite value, and where: `training stopped: the loss became NaN at
 * epoch 3, batch 2 (learning rate 0.5)`. Each adapter adds how to fix it in its own words (an option,
 * a form field).
 */
export function failureText(f: TrainFailure, lr: number): string {
  const where =
    f.batch === 0 ? `in the validation pass of epoch ${f.epoch}` : `at epoch ${f.epoch}, batch ${f.batch}`;
  return `training stopped: the ${f.what} became ${f.value} ${where} (learning rate ${lr})`;
}
