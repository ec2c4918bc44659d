// Streaming inference: a recurrent layer stack (RNN, LSTM or GRU, unidirectional) and an optional Linear
// head, advanced one time step per call with the state kept inside. It computes what
//
//   [out, state] = rnn.forward(x_t, state); y_t = head.forward(out)
//
// computes under noGrad, step after step, but on a snapshot of the weights taken when it is made (or by
// refresh()), kept where the kernels run (resident in WebAssembly memory, recurrent weights packed once): a
// step moves only x_t in and y_t out. Like an exported inference session, it does not see later changes to
// the modules' weights until refresh() is called. Dropout between layers is not applied (as in eval mode).
//
// L = layers, B = batch, I = input size, H = hidden, R = size of h (proj or hidden), O = output size

import { Tensor } from "../core/tensor.js";
import { getKernels, type StepperKernel, type StepperSpec } from "../kernels/backend.js";
import type { Linear } from "./linear.js";
import type { RNNBase } from "./rnn.js";

export interface StreamerOptions {
  /** Sequences advanced side by side (default 1). */
  batch?: number;
}

type State = Tensor | [Tensor, Tensor];

/** Frees a forgotten streamer's resident memory when it is collected (dispose() frees it at once). */
const orphans =
  typeof FinalizationRegistry === "function"
    ? new FinalizationRegistry<StepperKernel>((k) => k.dispose())
    : null;

export class Streamer {
  readonly rnn: RNNBase;
  readonly head: Linear | null;
  readonly batch: number;
  /** Floats a step takes (batch · input size) and gives (batch · output size). */
  readonly inputLength: number;
  readonly outputLength: number;
  private kernel: StepperKernel | null;
  private readonly hLen: number;
  private readonly cLen: number;

  constructor(rnn: RNNBase, head: Linear | null = null, options: StreamerOptions = {}) {
    const name = rnn.mode === "LSTM" ? "LSTM" : rnn.mode === "GRU" ? "GRU" : "RNN";
    if (rnn.bidirectional)
      throw new Error(
        `Streamer: a bidirectional ${name} needs the whole sequence before its first output; expected a unidirectional layer`,
      );
    const batch = options.batch ?? 1;
    if (!Number.isInteger(batch) || batch < 1)
      throw new Error(`Streamer: expected batch to be an integer of at least 1, got ${batch}`);
    const R = rnn.outputHiddenSize;
    if (head !== null && head.inFeatures !== R)
      throw new Error(
        `Streamer: the head takes ${head.inFeatures} features but the ${name} gives ${R}; expected Linear(${R}, …)`,
      );
    this.rnn = rnn;
    this.head = head;
    this.batch = batch;
    this.inputLength = batch * rnn.inputSize;
    this.outputLength = batch * (head !== null ? head.outFeatures : R);
    this.hLen = rnn.numLayers * batch * R;
    this.cLen = rnn.mode === "LSTM" ? rnn.numLayers * batch * rnn.hiddenSize : 0;
    this.kernel = getKernels().createStepper(this.spec());
    orphans?.register(this, this.kernel, this);
  }

  /** The modules' current weights, as the kernel takes them (no copies: the kernel copies). */
  private spec(): StepperSpec {
    const r = this.rnn;
    const layers = [];
    for (let l = 0; l < r.numLayers; l++) {
      const w = r.layerWeights(l, false);
      layers.push({
        I: l === 0 ? r.inputSize : r.outputHiddenSize,
        H: r.hiddenSize,
        P: r.projSize,
        w: {
          wIh: w.wIh.data,
          wHh: w.wHh.data,
          bIh: w.bIh?.data ?? null,
          bHh: w.bHh?.data ?? null,
          wHr: w.wHr?.data ?? null,
        },
      });
    }
    const h = this.head;
    return {
      mode: r.mode,
      B: this.batch,
      layers,
      head:
        h === null ? null : { O: h.outFeatures, K: h.inFeatures, w: h.weight.data, b: h.bias?.data ?? null },
    };
  }

  private live(): StepperKernel {
    if (this.kernel === null) throw new Error("Streamer: used after dispose()");
    return this.kernel;
  }

  /**
   * One time step: x holds batch · inputSize values (row b = sequence b); returns batch · outputSize
   * values (into `out` when given, else a new array) and advances the state.
   */
  step(x: ArrayLike<number> | Tensor, out?: Float32Array): Float32Array {
    const k = this.live();
    const data = x instanceof Tensor ? x.data : x;
    if (data.length !== this.inputLength) {
      const shape = x instanceof Tensor ? ` (shape [${x.shape.join(", ")}])` : "";
      throw new Error(
        `Streamer.step: expected ${this.inputLength} values (batch ${this.batch} × input size ${this.rnn.inputSize}), got ${data.length}${shape}`,
      );
    }
    const xs = data instanceof Float32Array ? data : Float32Array.from(data);
    const y = out ?? new Float32Array(this.outputLength);
    if (y.length !== this.outputLength)
      throw new Error(`Streamer.step: expected out to hold ${this.outputLength} floats, got ${y.length}`);
    k.step(xs, y);
    return y;
  }

  /** The state as the module returns it: h (L, B, R), and for the LSTM [h, c] with c (L, B, H). */
  get state(): State {
    const k = this.live();
    const h = new Float32Array(this.hLen);
    const c = this.cLen > 0 ? new Float32Array(this.cLen) : null;
    k.getState(h, c);
    const r = this.rnn;
    const ht = new Tensor(h, [r.numLayers, this.batch, r.outputHiddenSize]);
    return c === null ? ht : [ht, new Tensor(c, [r.numLayers, this.batch, r.hiddenSize])];
  }

  /** Sets the state (shapes as the module's), e.g. from a forward pass over a warm-up sequence. */
  set state(s: State) {
    const k = this.live();
    const r = this.rnn;
    const isLstm = r.mode === "LSTM";
    if (isLstm !== Array.isArray(s))
      throw new Error(
        `Streamer: expected the state to be ${isLstm ? "a pair [h, c]" : "a tensor h"}, got ${Array.isArray(s) ? "a pair" : "a tensor"}`,
      );
    const [h, c] = Array.isArray(s) ? s : [s, null];
    const check = (t: Tensor, want: number[], what: string) => {
      if (t.shape.length !== 3 || t.shape.some((d, i) => d !== want[i]))
        throw new Error(
          `Streamer: expected ${what} of shape [${want.join(", ")}], got [${t.shape.join(", ")}]`,
        );
    };
    check(h, [r.numLayers, this.batch, r.outputHiddenSize], "h");
    if (c !== null) check(c, [r.numLayers, this.batch, r.hiddenSize], "c");
    k.setState(h.data, c?.data ?? null);
  }

  /** Zeros the state (a new sequence). */
  reset(): void {
    this.live().setState(null, null);
  }

  /** Takes a new snapshot of the modules' weights (after training or loading them); keeps the state. */
  refresh(): void {
    this.live().load(this.spec());
  }

  /** Frees the resident memory; the streamer must not be used afterwards. */
  dispose(): void {
    orphans?.unregister(this);
    this.kernel?.dispose();
    this.kernel = null;
  }

  /** Runs `steps` steps feeding each output back as the next input (output size = input size). */
  rollOut(first: ArrayLike<number>, steps: number): Float32Array {
    if (this.outputLength !== this.inputLength)
      throw new Error(
        `Streamer.rollOut: feeding outputs back needs output size = input size, got ${this.outputLength} and ${this.inputLength}`,
      );
    const all = new Float32Array(steps * this.outputLength);
    let x: Float32Array = Float32Array.from(first);
    for (let i = 0; i < steps; i++) {
      const y = all.subarray(i * this.outputLength, (i + 1) * this.outputLength);
      this.step(x, y);
      x = y;
    }
    return all;
  }
}
