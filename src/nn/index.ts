// The `nn` namespace: modules, losses, init, and utilities, under PyTorch's names.
export { Dropout, dropout, Linear, ReLU, Sequential, Sigmoid, Tanh } from "./linear.js";
export { type LoadResult, Module, ModuleList, Parameter, type StateDict } from "./module.js";
