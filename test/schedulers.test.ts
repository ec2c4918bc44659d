// The learning-rate schedulers against PyTorch 1.13: the rates of every group at construction and
// after each of 30 steps (test/fixtures/gen/optim.py, schedulers.json).

import { describe, expect, it } from "vitest";
import { Tensor } from "../src/core/tensor.js";
import {
  CosineAnnealingLR,
  ExponentialLR,
  ReduceLROnPlateau,
  SGD,
  type SchedulerStateDict,
  StepLR,
} from "../src/optim/index.js";
import { expectClose, loadFixture } from "./helpers.js";

interface SchedCase {
  name: string;
  scheduler: "StepLR" | "ExponentialLR" | "CosineAnnealingLR" | "ReduceLROnPlateau";
  // biome-ignore lint/suspicious/noExplicitAny: options come from JSON
  options: any;
  lrs0: number[];
  metrics: number[] | null;
  setInitial: boolean;
  lrs: number[][];
}

const fx = loadFixture<{
  steps: number;
  cases: SchedCase[];
  errors: { scheduler: SchedCase["scheduler"]; options: Record<string, unknown>; message: string }[];
}>("optim", "schedulers");

// The rates are float64 in both, but V8's cos and glibc's differ in the last bit now and then, so the
// rates are compared to 2e-15: tight enough that the closed form of the cosine schedule (up to 9e-15
// away from PyTorch's recursion here) fails.
const TOL = { rtol: 2e-15, atol: 1e-18 };

function optimizerFor(lrs: number[]): SGD {
  return new SGD(
    lrs.map((lr) => ({ params: [new Tensor(new Float32Array(1), [1], true)], lr })),
    { lr: 0.1 },
  );
}

type Sched = StepLR | ExponentialLR | CosineAnnealingLR | ReduceLROnPlateau;

function make(c: Pick<SchedCase, "scheduler" | "options">, opt: SGD): Sched {
  switch (c.scheduler) {
    case "StepLR":
      return new StepLR(opt, c.options);
    case "ExponentialLR":
      return new ExponentialLR(opt, c.options);
    case "CosineAnnealingLR":
      return new CosineAnnealingLR(opt, c.options);
    case "ReduceLROnPlateau":
      return new ReduceLROnPlateau(opt, c.options);
  }
}

function stepOnce(s: Sched, c: SchedCase, i: number): void {
  if (s instanceof ReduceLROnPlateau) s.step(c.metrics![i]);
  else s.step();
}

describe("schedulers reproduce PyTorch's learning rates", () => {
  for (const c of fx.cases) {
    it(c.name, () => {
      const opt = optimizerFor(c.lrs0);
      if (c.setInitial) for (const g of opt.paramGroups) g.initialLr = g.lr;
      const s = make(c, opt);
      expectClose(
        opt.paramGroups.map((g) => g.lr),
        c.lrs[0],
        { ...TOL, what: `${c.name} at construction` },
      );
      for (let i = 0; i < fx.steps; i++) {
        opt.step();
        stepOnce(s, c, i);
        expectClose(s.getLastLr(), c.lrs[i + 1], { ...TOL, what: `${c.name} after step ${i + 1}` });
        expect(s.getLastLr()).toEqual(opt.paramGroups.map((g) => g.lr));
      }
    });
  }

  it("the fixtures exercise reductions, floors, cooldown and the cosine's restart branch", () => {
    // guards against a fixture that would pass with a constant rate
    for (const c of fx.cases) {
      const distinct = new Set(c.lrs.map((l) => l[0]));
      expect(distinct.size, c.name).toBeGreaterThan(1);
    }
    const cos = fx.cases.find((c) => c.name === "cosine_10")!;
    expect(cos.lrs[10][0]).toBeLessThan(1e-12); // the bottom at tMax
    expect(cos.lrs[20][0]).toBeCloseTo(0.1, 12); // back to the top after 2·tMax
  });
});

describe("scheduler stateDict / loadStateDict", () => {
  for (const c of fx.cases) {
    it(`${c.name} resumes after a JSON round trip`, () => {
      const half = 13;
      const opt = optimizerFor(c.lrs0);
      if (c.setInitial) for (const g of opt.paramGroups) g.initialLr = g.lr;
      const s = make(c, opt);
      for (let i = 0; i < half; i++) stepOnce(s, c, i);
      const optState = JSON.parse(JSON.stringify(opt.stateDict()));
      const schedState = JSON.parse(JSON.stringify(s.stateDict())) as SchedulerStateDict;

      // a new optimizer and scheduler built from scratch, then loaded
      const opt2 = optimizerFor(c.lrs0.map(() => 0.123));
      opt2.loadStateDict(optState);
      const s2 = make({ scheduler: c.scheduler, options: { ...c.options, lastEpoch: undefined } }, opt2);
      s2.loadStateDict(schedState);
      expect(s2.getLastLr()).toEqual(s.getLastLr());
      for (let i = half; i < fx.steps; i++) {
        stepOnce(s2, c, i);
        expectClose(s2.getLastLr(), c.lrs[i + 1], { ...TOL, what: `${c.name} resumed, step ${i + 1}` });
      }
    });
  }

  it("uses PyTorch's keys", () => {
    const s = new CosineAnnealingLR(optimizerFor([0.1]), { tMax: 5 });
    expect(Object.keys(s.stateDict()).sort()).toEqual(
      ["T_max", "_last_lr", "_step_count", "base_lrs", "eta_min", "last_epoch"].sort(),
    );
    const opt = optimizerFor([0.1]);
    new StepLR(opt, { stepSize: 2 });
    expect(opt.stateDict().param_groups[0].initial_lr).toBe(0.1);
    const p = new ReduceLROnPlateau(optimizerFor([0.1]));
    expect(p.stateDict()).toMatchObject({
      best: null,
      mode_worse: null,
      num_bad_epochs: 0,
      threshold_mode: "rel",
    });
  });
});

describe("scheduler errors", () => {
  for (const e of fx.errors) {
    it(`${e.scheduler}(${JSON.stringify(e.options)}) throws PyTorch's message`, () => {
      expect(() => make({ scheduler: e.scheduler, options: e.options }, optimizerFor([0.1]))).toThrow(
        e.message,
      );
    });
  }

  it("rejects a non-positive period", () => {
    expect(() => new StepLR(optimizerFor([0.1]), { stepSize: 0 })).toThrow(
      "StepLR: expected stepSize to be a positive integer, got 0",
    );
    expect(() => new CosineAnnealingLR(optimizerFor([0.1]), { tMax: 2.5 })).toThrow(
      "CosineAnnealingLR: expected tMax to be a positive integer, got 2.5",
    );
  });

  it("ReduceLROnPlateau takes a one-element tensor as the metric", () => {
    const opt = optimizerFor([0.1]);
    const s = new ReduceLROnPlateau(opt, { patience: 0 });
    s.step(new Tensor(Float32Array.of(1), [1]));
    s.step(new Tensor(Float32Array.of(1), [1]));
    expect(opt.paramGroups[0].lr).toBeCloseTo(0.01, 15);
  });
});
