// The optimizers against PyTorch 1.13: fixed parameters and fixed per-step gradients, every step's
// parameters compared (test/fixtures/gen/optim.py). Our float32 arithmetic mirrors PyTorch's kernels,
// and at the time of writing every compared value is bit-identical; the tolerance below is still
// 10x tighter than "1e-5 relative".

import { describe, expect, it } from "vitest";
import { Tensor } from "../src/core/tensor.js";
import { Adam, AdamW, type Optimizer, type OptimizerStateDict, RMSprop, SGD } from "../src/optim/index.js";
import { type TensorJson, expectClose, fromJson, loadFixture } from "./helpers.js";

interface Case {
  name: string;
  optimizer: "SGD" | "Adam" | "AdamW" | "RMSprop";
  options: Record<string, unknown>;
  groups: { params: number[]; options: Record<string, unknown> }[] | null;
  setLr: Record<string, number> | null;
  traj: TensorJson[][];
  state: {
    state: Record<string, Record<string, number | TensorJson | null>>;
    param_groups: (Record<string, unknown> & { params: number[] })[];
  };
}

interface Trajectories {
  steps: number;
  params0: TensorJson[];
  grads: (TensorJson | null)[][];
  cases: Case[];
}

const fx = loadFixture<Trajectories>("optim", "trajectories");
const TOL = { rtol: 1e-6, atol: 1e-8 };
const CLASSES = { SGD, Adam, AdamW, RMSprop };

// biome-ignore lint/suspicious/noExplicitAny: the cases drive all optimizer classes through one path
type AnyOpt = Optimizer<any, any>;

function build(c: Case, params: Tensor[]): AnyOpt {
  // biome-ignore lint/suspicious/noExplicitAny: options come from JSON
  const Cls = CLASSES[c.optimizer] as unknown as new (p: any, o: any) => AnyOpt;
  if (c.groups === null) return new Cls(params, c.options);
  return new Cls(
    c.groups.map((g) => ({ params: g.params.map((i) => params[i]), ...g.options })),
    c.options,
  );
}

function freshParams(from: TensorJson[] = fx.params0): Tensor[] {
  return from.map((t) => fromJson(t, true));
}

/** Runs steps [from, to) of the case: set the lr if scheduled, set the fixed gradients, step. */
function run(c: Case, opt: AnyOpt, params: Tensor[], from: number, to: number, check = true): void {
  for (let s = from; s < to; s++) {
    const lr = c.setLr?.[String(s)];
    if (lr !== undefined) for (const g of opt.paramGroups) g.lr = lr;
    params.forEach((p, i) => {
      const g = fx.grads[s][i];
      p.grad = g ? fromJson(g) : null;
    });
    opt.step();
    if (check) {
      params.forEach((p, i) => {
        expectClose(p, c.traj[s][i], { ...TOL, what: `${c.name} step ${s + 1} param ${i}` });
      });
    }
  }
}

describe("optimizers reproduce PyTorch step for step", () => {
  for (const c of fx.cases) {
    it(c.name, () => {
      const params = freshParams();
      const opt = build(c, params);
      run(c, opt, params, 0, fx.steps);
      // the third parameter never had a gradient: untouched, no state
      expect(Array.from(params[2].data)).toEqual(Array.from(fromJson(fx.params0[2]).data));
      expect(opt.state.has(params[2])).toBe(false);
    });
  }
});

describe("optimizer state matches PyTorch's state_dict", () => {
  for (const c of fx.cases) {
    it(c.name, () => {
      const params = freshParams();
      const opt = build(c, params);
      run(c, opt, params, 0, fx.steps, false);
      const sd = opt.stateDict();
      expect(Object.keys(sd.state).sort()).toEqual(Object.keys(c.state.state).sort());
      for (const [idx, entry] of Object.entries(c.state.state)) {
        const ours = sd.state[idx];
        expect(Object.keys(ours).sort(), `state ${idx} keys`).toEqual(Object.keys(entry).sort());
        for (const [k, v] of Object.entries(entry)) {
          if (v === null || typeof v === "number") expect(ours[k], `${c.name} state ${idx}.${k}`).toBe(v);
          else expectClose(ours[k] as Float32Array, v, { ...TOL, what: `${c.name} state ${idx}.${k}` });
        }
      }
      // hyper-parameters under PyTorch's names, with the same values (PyTorch also lists foreach etc.)
      expect(sd.param_groups.length).toBe(c.state.param_groups.length);
      sd.param_groups.forEach((g, i) => {
        for (const [k, v] of Object.entries(g))
          expect(v, `${c.name} group ${i} ${k}`).toEqual(c.state.param_groups[i][k]);
      });
    });
  }
});

describe("stateDict / loadStateDict resume training", () => {
  for (const c of fx.cases) {
    it(c.name, () => {
      const half = 4;
      const params = freshParams();
      const opt = build(c, params);
      run(c, opt, params, 0, half, false);
      // a JSON round trip of everything but the buffers, which stay Float32Arrays
      const sd = opt.stateDict();
      const plain = JSON.parse(
        JSON.stringify(sd, (_, v) => (v instanceof Float32Array ? { __f32: Array.from(v) } : v)),
        (_, v) => (v && typeof v === "object" && "__f32" in v ? Float32Array.from(v.__f32) : v),
      ) as OptimizerStateDict;
      // a new optimizer on new tensors holding the parameters after `half` steps, built with other
      // hyper-parameters: loading restores PyTorch's saved ones
      const resumed = freshParams(c.traj[half - 1]);
      const opt2 = build({ ...c, options: { ...c.options, lr: 0.5 } }, resumed);
      opt2.loadStateDict(plain);
      expect(opt2.paramGroups.map((g) => g.lr)).toEqual(opt.paramGroups.map((g) => g.lr));
      run(c, opt2, resumed, half, fx.steps);
      // the saved dict is a snapshot: stepping the first optimizer further does not change it
      const before = JSON.stringify(sd, (_, v) => (v instanceof Float32Array ? Array.from(v) : v));
      run(c, opt, params, half, fx.steps, false);
      expect(JSON.stringify(sd, (_, v) => (v instanceof Float32Array ? Array.from(v) : v))).toBe(before);
    });
  }

  it("stateDictAsync of a CPU optimizer is its stateDict", async () => {
    const c = fx.cases.find((k) => k.name === "rmsprop_groups")!;
    const params = freshParams();
    const opt = build(c, params);
    run(c, opt, params, 0, 3, false);
    const norm = (d: OptimizerStateDict) =>
      JSON.stringify(d, (_, v) => (v instanceof Float32Array ? Array.from(v) : v));
    expect(norm(await opt.stateDictAsync())).toBe(norm(opt.stateDict()));
  });

  it("loads a state dict that went through plain JSON.stringify / JSON.parse", () => {
    const c = fx.cases.find((k) => k.name === "adam_amsgrad")!;
    const params = freshParams();
    const opt = build(c, params);
    run(c, opt, params, 0, 4, false);
    const resumed = freshParams(c.traj[3]);
    const opt2 = build(c, resumed);
    opt2.loadStateDict(JSON.parse(JSON.stringify(opt.stateDict())));
    run(c, opt2, resumed, 4, fx.steps);
  });

  it("rejects a state dict of another layout", () => {
    const a = new Adam([new Tensor(new Float32Array(3), [3], true)]);
    const b = new Adam([new Tensor(new Float32Array(4), [4], true)]);
    b.paramGroups[0].params[0].grad = new Tensor(new Float32Array(4).fill(1), [4]);
    b.step();
    expect(() => a.loadStateDict(b.stateDict())).toThrow(/"exp_avg" has 4 elements but its parameter has 3/);
    const two = new Adam([
      { params: [new Tensor(new Float32Array(3), [3], true)] },
      { params: [new Tensor(new Float32Array(3), [3], true)] },
    ]);
    expect(() => two.loadStateDict(a.stateDict())).toThrow(
      "loaded state dict has a different number of parameter groups",
    );
    const twoParams = new Adam([
      new Tensor(new Float32Array(3), [3], true),
      new Tensor(new Float32Array(3), [3], true),
    ]);
    expect(() => twoParams.loadStateDict(a.stateDict())).toThrow(
      "loaded state dict contains a parameter group that doesn't match the size of optimizer's group",
    );
  });
});

describe("hyper-parameter errors are PyTorch's", () => {
  const errors = loadFixture<
    { optimizer: keyof typeof CLASSES; options: Record<string, unknown>; empty?: boolean; message: string }[]
  >("optim", "errors");
  for (const e of errors) {
    it(`${e.optimizer}(${JSON.stringify(e.options)}${e.empty ? ", no params" : ""})`, () => {
      const params = e.empty ? [] : [new Tensor(new Float32Array(2), [2], true)];
      // biome-ignore lint/suspicious/noExplicitAny: options come from JSON
      const Cls = CLASSES[e.optimizer] as unknown as new (p: any, o: any) => AnyOpt;
      expect(() => new Cls(params, e.options)).toThrow(e.message);
    });
  }

  it("checks the hyper-parameters of each group too", () => {
    const p = new Tensor(new Float32Array(2), [2], true);
    expect(() => new Adam([{ params: [p], lr: -0.5 }])).toThrow("Invalid learning rate: -0.5");
    // numbers as Python prints them: torch.optim.Adam([p], lr=-5e-5) says "Invalid learning rate: -5e-05"
    expect(() => new Adam([p], { lr: -5e-5 })).toThrow("Invalid learning rate: -5e-05");
    expect(() => new Adam([p], { lr: -1e17 })).toThrow("Invalid learning rate: -1e+17");
    expect(() => new SGD([{ params: [p], nesterov: true }], { lr: 0.1 })).toThrow(
      "Nesterov momentum requires a momentum and zero dampening",
    );
  });
});

describe("Optimizer base", () => {
  const t = (n: number, v = 0) => new Tensor(new Float32Array(n).fill(v), [n], true);

  it("zeroGrad drops the gradients by default and zeroes them in place with setToNone = false", () => {
    const a = t(3);
    const b = t(2);
    const opt = new SGD([a, b], { lr: 0.1 });
    a.grad = new Tensor(Float32Array.of(1, 2, 3), [3]);
    opt.zeroGrad();
    expect(a.grad).toBeNull();
    const g = new Tensor(Float32Array.of(1, 2, 3), [3]);
    a.grad = g;
    opt.zeroGrad(false);
    expect(a.grad).toBe(g);
    expect(Array.from(g.data)).toEqual([0, 0, 0]);
    expect(b.grad).toBeNull();
  });

  it("a zero gradient is a step (state advances); a missing one is skipped", () => {
    const a = t(2, 1);
    const b = t(2, 1);
    const opt = new Adam([a, b], { lr: 0.1 });
    a.grad = new Tensor(new Float32Array(2), [2]);
    opt.step();
    expect(opt.state.get(a)?.step).toBe(1);
    expect(opt.state.has(b)).toBe(false);
    expect(Array.from(a.data)).toEqual([1, 1]); // m = 0, so no move
  });

  it("allocates its state once and then updates in place", () => {
    const a = t(1000, 0.5);
    const opt = new Adam([a], { amsgrad: true });
    const data = a.data;
    a.grad = new Tensor(new Float32Array(1000).fill(0.25), [1000]);
    opt.step();
    const s = opt.state.get(a)!;
    const bufs = [s.exp_avg, s.exp_avg_sq, s.max_exp_avg_sq];
    for (let i = 0; i < 5; i++) opt.step();
    const s2 = opt.state.get(a)!;
    expect([s2.exp_avg, s2.exp_avg_sq, s2.max_exp_avg_sq]).toEqual(bufs);
    expect(s2.exp_avg).toBe(bufs[0]);
    expect(s2.max_exp_avg_sq).toBe(bufs[2]);
    expect(a.data).toBe(data);
    expect(s2.step).toBe(6);
  });

  it("lr is read from the group at every step (as schedulers set it)", () => {
    const a = t(1, 1);
    const opt = new SGD([a], { lr: 0.5 });
    a.grad = new Tensor(Float32Array.of(1), [1]);
    opt.step();
    opt.paramGroups[0].lr = 0.25;
    opt.step();
    expect(a.data[0]).toBe(Math.fround(1 - 0.5 - 0.25));
  });

  it("a closure's loss is returned", () => {
    const a = t(1, 2);
    const opt = new SGD([a], { lr: 0.1 });
    const loss = opt.step(() => {
      a.grad = new Tensor(Float32Array.of(4), [1]);
      return 7;
    });
    expect(loss).toBe(7);
    expect(a.data[0]).toBe(Math.fround(2 + Math.fround(-0.1) * 4));
  });

  it("rejects bad parameter lists", () => {
    const a = t(2);
    expect(() => new SGD(a as unknown as Tensor[], { lr: 0.1 })).toThrow(
      /array of Tensors or param groups, but got a Tensor/,
    );
    expect(() => new SGD([{ params: [a] }, { params: [a] }], { lr: 0.1 })).toThrow(
      "some parameters appear in more than one parameter group",
    );
    const nonLeaf = a.mul(2);
    expect(() => new SGD([nonLeaf], { lr: 0.1 })).toThrow("can't optimize a non-leaf Tensor");
    expect(() => new SGD([3 as unknown as Tensor], { lr: 0.1 })).toThrow(
      /optimizer can only optimize Tensors/,
    );
  });

  it("groups take their own options over the defaults, and addParamGroup adds one", () => {
    const a = t(2);
    const b = t(2);
    const opt = new AdamW([{ params: [a], lr: 0.5, betas: [0.5, 0.6] }], { lr: 0.1 });
    opt.addParamGroup({ params: [b] });
    expect(opt.paramGroups[0]).toMatchObject({ lr: 0.5, betas: [0.5, 0.6], weightDecay: 0.01, eps: 1e-8 });
    expect(opt.paramGroups[1]).toMatchObject({ lr: 0.1, betas: [0.9, 0.999], weightDecay: 0.01 });
    expect(opt.paramGroups[1].betas).not.toBe(opt.defaults.betas);
    expect(String(opt)).toContain(
      "Parameter Group 1\n    amsgrad: False\n    betas: (0.9, 0.999)\n    eps: 1e-08\n    lr: 0.1",
    );
  });
});
