// The ONNX download's work, in a module of its own: the page imports it dynamically when the button is
// first pressed, so the ONNX writer and the checkpoint reader are not part of the page's first load.

import { decodeCheckpoint, forecast } from "./lib.js";

/** The forecaster in a checkpoint (safetensors bytes) as an ONNX model: raw values in, forecasts out. */
export function checkpointToOnnx(bytes: Uint8Array, fileName: string): Uint8Array {
  return forecast.exportForecastOnnx(decodeCheckpoint(bytes, fileName), fileName);
}
