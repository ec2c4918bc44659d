export * from "./creation.js";
export { gradcheck, type GradcheckOptions, type GradcheckResult } from "./gradcheck.js";
export * from "./ops.js";
export { defaultGenerator, Generator, manualSeed } from "./random.js";
export {
  enableGrad,
  type GradFn,
  isGradEnabled,
  type NestedArray,
  noGrad,
  result,
  shapeNumel,
  Tensor,
  type TensorLike,
} from "./tensor.js";
export { type DType, promoteTypes, type Storage, torchDtype } from "./dtype.js";
export type { Device } from "./device.js";
