// The `nn` namespace: modules, losses, init, and utilities, under PyTorch's names.
export { Dropout, dropout, Linear, ReLU, Sequential, Sigmoid, Tanh } from "./linear.js";
export {
  BCEWithLogitsLoss,
  type BCEWithLogitsOptions,
  bceWithLogitsLoss,
  CrossEntropyLoss,
  type CrossEntropyOptions,
  crossEntropyLoss,
  HuberLoss,
  type HuberOptions,
  huberLoss,
  L1Loss,
  l1Loss,
  Loss,
  MSELoss,
  mseLoss,
  type Reduction,
  type ReductionOptions,
  SmoothL1Loss,
  type SmoothL1Options,
  smoothL1Loss,
} from "./loss.js";
export { type LoadResult, Module, ModuleList, Parameter, type StateDict } from "./module.js";
export { PackedSequence } from "./packed.js";
export { Streamer, type StreamerOptions } from "./streamer.js";
export {
  GATES,
  GRU,
  GRUCell,
  type LayerArgs,
  type LayerResult,
  type LayerRunner,
  LSTM,
  LSTMCell,
  RNN,
  RNNBase,
  RNNCell,
  RNNCellBase,
  type RNNMode,
  type RNNOptions,
  unrolledLayer,
} from "./rnn.js";
export { clipGradNorm_, clipGradNormAsync_, clipGradValue_ } from "./clip.js";
export * as init from "./init.js";
export * as utils from "./utils.js";
export {
  packPaddedSequence,
  padPackedSequence,
  packSequence,
  padSequence,
  unpackSequence,
} from "./packed.js";
export {
  type ClipExperimentOptions,
  type ClipExperimentResult,
  type ClipRun,
  clipExperiment,
  frobenius,
  type GradientFlowOptions,
  type GradientFlowResult,
  gradientFlow,
  type LayerFlow,
  makeFlowModel,
  type NormSeries,
  scaleRecurrent_,
  setForgetBias_,
  spectralNorm,
} from "./gradflow.js";
export { flowRatio } from "./flow-ratio.js";
export {
  Embedding,
  type EmbeddingFnOptions,
  type EmbeddingOptions,
  embedding,
  type IndexLike,
} from "./embedding.js";
export {
  Conv1d,
  type Conv1dFnOptions,
  type Conv1dOptions,
  conv1d,
  LayerNorm,
  layerNorm,
  LogSoftmax,
  NLLLoss,
  type NLLLossOptions,
  nllLoss,
  Softmax,
} from "./layers.js";
export {
  type AttentionForwardOptions,
  type AttentionMask,
  MultiheadAttention,
  type MultiheadAttentionOptions,
} from "./attention.js";
export type { ForwardHook, ForwardPreHook, FullBackwardHook, RemovableHandle } from "./module.js";
export * as functional from "./functional.js";
