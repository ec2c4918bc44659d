// The recurrent kernel pair (kernels/rnn.ts) in the autograd graph, through the general adapter
// (core/custom.ts): one node per layer-direction over the whole sequence, with outputs (y, hN[, cN]).
//
// T = time, B = batch, I = input, H = hidden, P = proj, R = size of h, G = gates·H, N = Σ batchSizes

import { customNeedsGrad, customOp } from "../core/custom.js";
import { type RnnDims, reserveSaved, rnnBackward, rnnForward, rnnWorkspaceSize } from "../kernels/backend.js";
import type { LayerRunner } from "./rnn.js";

/** Temporaries shared by every call (forward and backward never run at the same time). */
let scratch = new Float32Array(0);

function scratchOf(n: number): Float32Array {
  if (scratch.length < n) scratch = new Float32Array(Math.max(n, scratch.length * 2));
  return scratch;
}

/**
 * The saved buffers of nodes whose backward has run (and freed them), kept for the next forward of the same
 * size: a training loop repeats its sizes, so steady-state training allocates no new saved buffers. Bounded
 * in count, and in floats by the larger of 64 MiB and the most floats ever saved at once (`peakLive`): the
 * pool never holds more than a training step already had resident. Without that second bound a wide layer's
 * buffers (W5 in bench/: 300 MiB a layer) were dropped to the garbage collector after every backward and
 * the next step's forward allocated new ones before they were collected, adding a whole step's saved
 * activations to the peak resident set. The kernels overwrite every element of a saved buffer they are given.
 */
const savedPool: Float32Array[] = [];
const POOL_MAX_BUFFERS = 8;
const POOL_MIN_FLOATS = 16 << 20; // 64 MiB
/** floats in saved buffers handed out and not given back (a node dropped unrun never gives its back) */
let live = 0;
let peakLive = 0;

function takeSaved(n: number): Float32Array {
  live += n;
  peakLive = Math.max(peakLive, live);
  for (let i = savedPool.length - 1; i >= 0; i--) {
    if (savedPool[i].length === n) return savedPool.splice(i, 1)[0];
  }
  return new Float32Array(n);
}

function giveSaved(a: Float32Array): void {
  live = Math.max(0, live - a.length);
  const max = Math.max(POOL_MIN_FLOATS, peakLive);
  if (a.length === 0 || a.length > max) return;
  savedPool.push(a);
  let total = 0;
  for (const b of savedPool) total += b.length;
  while (savedPool.length > POOL_MAX_BUFFERS || total > max) total -= savedPool.shift()!.length;
}

/** Floats up to which a layer's outputs y, hN and cN share one allocation. */
const SHARED_OUTPUTS_MAX = 1 << 14;

export const fusedLayer: LayerRunner = (a) => {
  const { mode, x, h0, c0, wIh, wHh, bIh, bHh, wHr } = a;
  const N = x.shape[0];
  const I = x.shape[1];
  const T = a.batchSizes.length;
  const B = h0.shape[0];
  const R = h0.shape[1];
  const H = wHr !== null ? wHr.shape[1] : R;
  const P = wHr !== null ? wHr.shape[0] : 0;
  const full = a.full === true || a.batchSizes.every((b) => b === B);
  const dims: RnnDims = { mode, T, B, I, H, P, batchSizes: full ? null : a.batchSizes, reverse: a.reverse };
  const w = {
    wIh: wIh.data,
    wHh: wHh.data,
    bIh: bIh?.data ?? null,
    bHh: bHh?.data ?? null,
    wHr: wHr?.data ?? null,
  };
  const inputs = [x, h0, c0, wIh, wHh, bIh, bHh, wHr];
  const training = customNeedsGrad(inputs); // no saved activations under noGrad (inference)
  const ws = rnnWorkspaceSize(mode, T, B, H, P);
  // resident in the wasm kernels' memory where they can keep it (no copy out and back in), else pooled here
  const saved = training ? (reserveSaved(dims, ws.saved) ?? takeSaved(ws.saved)) : null;
  const nY = N * R;
  const nH = B * R;
  const nC = mode === "LSTM" ? B * H : 0;
  let y: Float32Array; // (N, R)
  let hN: Float32Array; // (B, R)
  let cN: Float32Array | null; // (B, H)
  if (nY + nH + nC <= SHARED_OUTPUTS_MAX) {
    // one allocation for the three (disjoint ranges of one buffer): in Node 20 every typed array over 64
    // bytes is a separate allocation of 1 to 4 µs, most of a small step (W3 streams one step at a time)
    const all = new Float32Array(nY + nH + nC);
    y = all.subarray(0, nY);
    hN = all.subarray(nY, nY + nH);
    cN = mode === "LSTM" ? all.subarray(nY + nH) : null;
  } else {
    // large: apart, so that a carried state does not keep a whole sequence's output alive
    y = new Float32Array(nY);
    hN = new Float32Array(nH);
    cN = mode === "LSTM" ? new Float32Array(nC) : null;
  }
  rnnForward(dims, w, x.data, h0.data, c0?.data ?? null, y, hN, cN, saved, scratchOf(ws.scratch));
  const outputs = [
    { data: y, shape: [N, R] },
    { data: hN, shape: [B, R] },
  ];
  if (cN !== null) outputs.push({ data: cN, shape: [B, H] });
  const outs = customOp(
    `${mode === "LSTM" ? "Lstm" : mode === "GRU" ? "Gru" : "Rnn"}Backward0`,
    inputs,
    outputs,
    (g, d) => {
      // the kernel adds the parameter gradients: straight into a leaf's .grad where the engine offers it
      const dW = { dWih: d.add(3), dWhh: d.add(4), dBih: d.add(5), dBhh: d.add(6), dWhr: d.add(7) };
      const dX = d.own(0);
      const dH0 = d.own(1);
      const dC0 = d.own(2);
      rnnBackward(
        dims,
        w,
        dW,
        x.data,
        dX,
        h0.data,
        dH0,
        c0?.data ?? null,
        dC0,
        y,
        g[0],
        g[1],
        cN ? g[2] : null,
        saved,
        scratchOf(ws.scratch),
      );
    },
    saved === null ? null : saved instanceof Float32Array ? () => giveSaved(saved) : () => saved.release(),
  );
  return { y: outs[0], hN: outs[1], cN: cN ? outs[2] : null };
};
