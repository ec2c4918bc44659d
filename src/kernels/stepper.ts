// A stepper: a stack of unidirectional recurrent layers (and an optional dense head) advanced one time
// step per call, for streaming inference. It holds its own copy of the weights, taken by load(), and its
// own state, so a step moves only the new input in and the output out: the WebAssembly stepper (wasm.ts)
// keeps weights, packed recurrent weights and state resident in the module's memory. This file holds the
// contract and the TypeScript stepper, which runs the same layer kernel (rnn.ts) with T = 1.
//
// L = layers, B = batch, I = input of a layer, H = hidden, P = proj (0 = none), R = size of h (P or H),
// K = input of the head (R of the last layer), O = output of the head

import { gemm } from "./gemm.js";
import { type RnnDims, type RnnMode, type RnnWeights, rnnForward, scratchSize } from "./rnn.js";

/** One layer of a stepper. */
export interface StepperLayer {
  I: number;
  H: number;
  P: number;
  w: RnnWeights;
}

/** The dense head y = h · Wᵀ + b after the last layer. */
export interface StepperHead {
  O: number;
  K: number;
  w: Float32Array; // (O, K)
  b: Float32Array | null; // (O)
}

export interface StepperSpec {
  mode: RnnMode;
  B: number;
  layers: StepperLayer[];
  head: StepperHead | null;
}

export interface StepperKernel {
  /** Copies the weights of a spec with the same shapes in (the stepper's snapshot). The state is kept. */
  load(spec: StepperSpec): void;
  /** Advances the state by one step: x (B, I of layer 0) → out (B, O), or (B, R of the last layer). */
  step(x: Float32Array, out: Float32Array): void;
  /** Reads the state into h (L, B, R) and, for the LSTM, c (L, B, H). */
  getState(h: Float32Array, c: Float32Array | null): void;
  /** Sets the state from h (L, B, R) and c (L, B, H); null sets zeros. */
  setState(h: Float32Array | null, c: Float32Array | null): void;
  /** Frees what the stepper holds; it must not be used afterwards. */
  dispose(): void;
}

/** @internal Sizes shared by both steppers: the state lengths and the output length. */
export function stepperSizes(spec: StepperSpec): { hLen: number; cLen: number; outLen: number } {
  let hLen = 0;
  let cLen = 0;
  for (const l of spec.layers) {
    hLen += spec.B * (l.P > 0 ? l.P : l.H);
    if (spec.mode === "LSTM") cLen += spec.B * l.H;
  }
  const last = spec.layers[spec.layers.length - 1];
  const outLen = spec.B * (spec.head !== null ? spec.head.O : last.P > 0 ? last.P : last.H);
  return { hLen, cLen, outLen };
}

/** @internal Checks a spec's shapes once, so the kernels can trust them at every step. */
export function checkStepperSpec(spec: StepperSpec): void {
  const fail = (what: string) => {
    throw new Error(`stepper: ${what}`);
  };
  if (spec.layers.length === 0) fail("expected at least one layer, got none");
  if (!(Number.isInteger(spec.B) && spec.B >= 1)) fail(`expected a batch size of at least 1, got ${spec.B}`);
  const G0 = spec.mode === "LSTM" ? 4 : spec.mode === "GRU" ? 3 : 1;
  let prevR = -1;
  spec.layers.forEach((l, i) => {
    const R = l.P > 0 ? l.P : l.H;
    const G = G0 * l.H;
    if (prevR >= 0 && l.I !== prevR) fail(`layer ${i} takes ${l.I} inputs but layer ${i - 1} gives ${prevR}`);
    const want: [string, Float32Array | null, number][] = [
      ["wIh", l.w.wIh, G * l.I],
      ["wHh", l.w.wHh, G * R],
      ["bIh", l.w.bIh, G],
      ["bHh", l.w.bHh, G],
      ["wHr", l.w.wHr, l.P * l.H],
    ];
    for (const [name, a, n] of want) {
      if (a === null) {
        if (name === "wIh" || name === "wHh" || (name === "wHr" && l.P > 0))
          fail(`layer ${i}: ${name} is required, got null`);
      } else if (a.length !== n) fail(`layer ${i}: expected ${name} of ${n} floats, got ${a.length}`);
    }
    if ((l.w.bIh === null) !== (l.w.bHh === null)) fail(`layer ${i}: expected both biases or neither`);
    prevR = R;
  });
  const h = spec.head;
  if (h !== null) {
    if (h.K !== prevR) fail(`the head takes ${h.K} inputs but the last layer gives ${prevR}`);
    if (h.w.length !== h.O * h.K) fail(`expected a head weight of ${h.O * h.K} floats, got ${h.w.length}`);
    if (h.b !== null && h.b.length !== h.O) fail(`expected a head bias of ${h.O} floats, got ${h.b.length}`);
  }
}

const copyOrNull = (a: Float32Array | null) => (a === null ? null : a.slice());

/** The TypeScript stepper: the fallback, and the twin the WebAssembly one is tested against. */
export class TsStepper implements StepperKernel {
  private readonly spec: StepperSpec;
  private readonly dims: RnnDims[];
  private readonly h: Float32Array[]; // per layer (B, R)
  private readonly c: (Float32Array | null)[]; // per layer (B, H)
  private readonly y: Float32Array[]; // per layer (B, R)
  private readonly scratch: Float32Array;

  constructor(spec: StepperSpec) {
    checkStepperSpec(spec);
    const { mode, B } = spec;
    this.spec = { mode, B, layers: [], head: null };
    this.dims = spec.layers.map((l) => ({
      mode,
      T: 1,
      B,
      I: l.I,
      H: l.H,
      P: l.P,
      batchSizes: null,
      reverse: false,
    }));
    const R = (l: StepperLayer) => (l.P > 0 ? l.P : l.H);
    this.h = spec.layers.map((l) => new Float32Array(B * R(l)));
    this.c = spec.layers.map((l) => (mode === "LSTM" ? new Float32Array(B * l.H) : null));
    this.y = spec.layers.map((l) => new Float32Array(B * R(l)));
    this.scratch = new Float32Array(Math.max(...spec.layers.map((l) => scratchSize(mode, B, B, l.H, l.P))));
    this.load(spec);
  }

  load(spec: StepperSpec): void {
    checkStepperSpec(spec);
    this.spec.layers = spec.layers.map((l) => ({
      I: l.I,
      H: l.H,
      P: l.P,
      w: {
        wIh: l.w.wIh.slice(),
        wHh: l.w.wHh.slice(),
        bIh: copyOrNull(l.w.bIh),
        bHh: copyOrNull(l.w.bHh),
        wHr: copyOrNull(l.w.wHr),
      },
    }));
    const h = spec.head;
    this.spec.head = h === null ? null : { O: h.O, K: h.K, w: h.w.slice(), b: copyOrNull(h.b) };
  }

  step(x: Float32Array, out: Float32Array): void {
    const { layers, head, B } = this.spec;
    let input = x; // (B, I)
    for (let l = 0; l < layers.length; l++) {
      const h = this.h[l];
      const c = this.c[l];
      rnnForward(this.dims[l], layers[l].w, input, h, c, this.y[l], h, c, null, this.scratch);
      input = this.y[l];
    }
    if (head === null) {
      out.set(input);
      return;
    }
    const { O, K, w, b } = head;
    if (b !== null) for (let r = 0; r < B; r++) out.set(b, r * O);
    gemm(false, true, B, O, K, input, 0, K, w, 0, K, b !== null ? 1 : 0, out, 0, O);
  }

  getState(h: Float32Array, c: Float32Array | null): void {
    let oh = 0;
    let oc = 0;
    for (let l = 0; l < this.h.length; l++) {
      h.set(this.h[l], oh);
      oh += this.h[l].length;
      const cl = this.c[l];
      if (c !== null && cl !== null) {
        c.set(cl, oc);
        oc += cl.length;
      }
    }
  }

  setState(h: Float32Array | null, c: Float32Array | null): void {
    let oh = 0;
    let oc = 0;
    for (let l = 0; l < this.h.length; l++) {
      const hl = this.h[l];
      if (h === null) hl.fill(0);
      else hl.set(h.subarray(oh, oh + hl.length));
      oh += hl.length;
      const cl = this.c[l];
      if (cl !== null) {
        if (c === null) cl.fill(0);
        else cl.set(c.subarray(oc, oc + cl.length));
        oc += cl.length;
      }
    }
  }

  dispose(): void {}
}
