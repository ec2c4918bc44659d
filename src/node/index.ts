// The Node-only entry (`recurrent/node`): files and processes.
export {
  type LoadedSafetensors,
  loadSafetensors,
  loadSafetensorsHeader,
  loadSafetensorsSync,
  saveSafetensors,
  saveSafetensorsSync,
} from "./checkpoint.js";
