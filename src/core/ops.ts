// The generic ops, gathered from their family files so that `import * as ops from "./ops.js"` (and the
// Tensor's methods) keep one address. Each family file keeps every op's backward beside its forward.

export { broadcastShapes } from "./broadcast.js";
export * from "./elementwise.js";
export * from "./indexing.js";
export * from "./linalg.js";
export * from "./reductions.js";
export * from "./shapes.js";
