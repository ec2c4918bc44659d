// Formats on bytes (browser-safe): safetensors.

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
