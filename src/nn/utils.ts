// nn.utils: gradient clipping, and nn.utils.rnn (packed sequences), as in PyTorch.
export { clipGradNorm_, clipGradNormAsync_, clipGradValue_ } from "./clip.js";
export * as rnn from "./packed.js";
