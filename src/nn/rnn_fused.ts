// Placeholder until the fused kernels are wired in: runs the unrolled twin.
import { type LayerRunner, unrolledLayer } from "./rnn.js";

export const fusedLayer: LayerRunner = (a) => unrolledLayer(a);
