// The WebAssembly module's exports: the matrix product, the recurrent kernels and the Adam update.
export { init, gemm, setTileRows } from "./gemm";
export { rnnForward, rnnBackward, rnnPackWeights, rnnStepperWorkSize, rnnWorkSize } from "./rnn";
export { adamStep } from "./adam";
