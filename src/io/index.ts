// Formats on bytes (browser-safe): safetensors, and ONNX models (export and import).

export {
  MAX_HEADER_SIZE,
  SafetensorsError,
  decodeSafetensors,
  encodeSafetensors,
  readSafetensorsHeader,
  type SafetensorsDtype,
  type SafetensorsEntry,
  type SafetensorsHeader,
} from "./safetensors.js";
export {
  type Emitter,
  type ExportOnnxOptions,
  emitModule,
  emitRecurrent,
  exportOnnx,
  OnnxExportError,
  registerOnnxEmitter,
  type RecurrentOut,
  type Value as OnnxValue,
} from "./onnx/export.js";
export { importOnnx, OnnxImportError, OnnxModel } from "./onnx/import.js";
export { type Dim as OnnxDim, GraphBuilder as OnnxGraphBuilder } from "./onnx/proto.js";
