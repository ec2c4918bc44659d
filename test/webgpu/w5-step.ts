// W5's model and data (bench/w5.ts: LSTM(64→512, 2 layers) + Linear(512→1) on every step, batch 256, MSE,
// Adam lr 1e-3, everything from manualSeed(0)), plus a random initial state (h0, c0) so that even one time
// step goes through W_hh and its gradient. Shared by w5-check.mts (Node, Dawn) and browser-entry.ts (a
// page, navigator.gpu), so that both train the same W5 step.

import { manualSeed, nn, optim, randn, type Tensor } from "../../src/index.js";

export const W5 = { I: 64, H: 512, L: 2, B: 256 } as const;

export interface W5Setup {
  lstm: nn.LSTM;
  head: nn.Linear;
  x: Tensor; // (T, B, I)
  y: Tensor; // (T, B, 1)
  h0: Tensor; // (L, B, H)
  c0: Tensor;
}

/** bench/w5.ts's setup, in its order (the same weights whatever T is), then the initial state. */
export function w5Setup(T: number): W5Setup {
  manualSeed(0);
  const lstm = new nn.LSTM(W5.I, W5.H, { numLayers: W5.L });
  const head = new nn.Linear(W5.H, 1);
  const x = randn(T, W5.B, W5.I);
  const y = randn(T, W5.B, 1);
  const h0 = randn(W5.L, W5.B, W5.H);
  const c0 = randn(W5.L, W5.B, W5.H);
  return { lstm, head, x, y, h0, c0 };
}

/** The parameters' names, in `parameters()` order. */
export function w5Names(s: W5Setup): string[] {
  return [...Object.keys(s.lstm.stateDict()).map((k) => `lstm.${k}`), "head.weight", "head.bias"];
}

/** One W5 training step with Adam on `device`: the loss, every gradient and the weights after the step. */
export async function w5AdamStep(
  device: "cpu" | "webgpu",
  T: number,
): Promise<{ loss: number; grads: Float32Array[]; weights: Float32Array[]; devices: string[] }> {
  const s = w5Setup(T);
  const on = (t: Tensor) => (device === "cpu" ? t : t.to("webgpu"));
  s.lstm.to(device);
  s.head.to(device);
  const params = [...s.lstm.parameters(), ...s.head.parameters()];
  const opt = new optim.Adam(params, { lr: 1e-3 });
  opt.zeroGrad();
  const [out] = s.lstm.forward(on(s.x), [on(s.h0), on(s.c0)]) as [Tensor, unknown];
  const loss = nn.functional.mseLoss(s.head.forward(out), on(s.y));
  loss.backward();
  const read = async (t: Tensor) => (device === "cpu" ? t : await t.cpuAsync()).data.slice() as Float32Array;
  const grads: Float32Array[] = [];
  for (const p of params) grads.push(await read(p.grad as Tensor));
  opt.step();
  const weights: Float32Array[] = [];
  for (const p of params) weights.push(await read(p));
  return { loss: await loss.itemAsync(), grads, weights, devices: params.map((p) => p.device) };
}

/** max |a − b| / max |b|: the error against the tensor's own scale. */
export function scaledErr(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

/** max |a − b|. */
export function absErr(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let diff = 0;
  for (let i = 0; i < b.length; i++) diff = Math.max(diff, Math.abs(a[i] - b[i]));
  return diff;
}

/** A fingerprint of a tensor for comparing across processes: Σx and Σ|x| in float64. */
export function fingerprint(a: Float32Array): [number, number] {
  let s = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    s += a[i];
    m += Math.abs(a[i]);
  }
  return [s, m];
}
