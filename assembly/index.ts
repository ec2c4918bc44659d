// The WebAssembly module's exports: the matrix product and the recurrent kernels.
export { init, gemm } from "./gemm";
export { rnnForward, rnnBackward, rnnPackWeights, rnnStepperWorkSize, rnnWorkSize } from "./rnn";
