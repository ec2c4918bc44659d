// The hybrid's members trained on worker threads (src/node/members.ts) against the same training in
// turn (trainHybrid without a runner): the same weights bit for bit, the same epochs and the same
// history, with and without the refit; and what a stop leaves.

import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { column, prepareSeries } from "../src/forecast/data.js";
import {
  DEFAULT_HYBRID_OPTIONS,
  type HybridOptions,
  type HybridTrainResult,
  type MemberTask,
  trainHybrid,
  trainMemberTask,
} from "../src/forecast/hybrid/train.js";
import { getNumThreads, setNumThreads } from "../src/kernels/pool.js";
import { runMembersInWorkers } from "../src/node/members.js";
import "../src/node/threads.js";
import { spawnRun } from "./cli-run.js";

const csv = readFileSync(join(import.meta.dirname, "..", "datasets", "air-passengers.csv"), "utf8");
const prepared = prepareSeries(csv, { target: "passengers" });
const series = {
  values: Float32Array.from(column(prepared.series, 0)),
  dates: prepared.series.dates,
  step: prepared.step,
};
const OPTIONS: HybridOptions = {
  ...DEFAULT_HYBRID_OPTIONS,
  members: 3,
  epochs: 5,
  hidden: 8,
  lookback: 12,
  patience: 2,
  combine: "none",
};

const weightsOf = (r: HybridTrainResult) =>
  Object.fromEntries(Object.entries(r.net.stateDict()).map(([k, t]) => [k, Array.from(t.data)]));
const withoutSeconds = <T extends { seconds: number }>(xs: T[]) => xs.map(({ seconds: _, ...x }) => x);

describe("hybrid members on worker threads", () => {
  const before = getNumThreads();
  afterAll(() => setNumThreads(before));

  for (const refit of [false, true]) {
    it(`trains the same members as in turn, bit for bit${refit ? " (with the refit)" : ""}`, async () => {
      setNumThreads(1); // the members in turn on one thread: the kernels split nothing
      const inTurn = await trainHybrid(series, { ...OPTIONS, refit });
      setNumThreads(2);
      const heard: number[] = [];
      const parallel = await trainHybrid(
        series,
        { ...OPTIONS, refit },
        { runMembers: runMembersInWorkers, onEpoch: (e) => heard.push(e.member) },
      );
      expect(parallel.refit).toBe(refit);
      expect(parallel.interrupted).toBe(false);
      expect(weightsOf(parallel)).toEqual(weightsOf(inTurn));
      expect(withoutSeconds(parallel.members)).toEqual(withoutSeconds(inTurn.members));
      expect(withoutSeconds(parallel.history)).toEqual(withoutSeconds(inTurn.history));
      expect(parallel.valMase).toBe(inTurn.valMase);
      expect(parallel.intervals).toEqual(inTurn.intervals);
      // every epoch was heard as it ended, from every member
      expect(heard.length).toBe(inTurn.history.length);
      expect(new Set(heard)).toEqual(new Set([0, 1, 2]));
    }, 120_000);
  }

  it("a member's task alone gives that member of the ensemble", async () => {
    setNumThreads(1);
    const inTurn = await trainHybrid(series, OPTIONS);
    const task: MemberTask = { k: 2, phase: "fit", maxEpochs: OPTIONS.epochs };
    const one = await trainMemberTask(series, OPTIONS, task);
    const member = inTurn.net.member(2).stateDict();
    for (const [k, v] of Object.entries(one.state)) expect(Array.from(v)).toEqual(Array.from(member[k].data));
    expect(one.run.interrupted).toBe(false);
    expect(one.history.map((e) => e.member)).toEqual(new Array(one.history.length).fill(2));
  }, 60_000);

  it("a stop asked for before any member finished leaves none, and says so", async () => {
    setNumThreads(2);
    await expect(
      trainHybrid(series, OPTIONS, { runMembers: runMembersInWorkers, shouldStop: () => true }),
    ).rejects.toThrow("interrupted before the first ensemble member finished");
  }, 60_000);

  it("a stop after the first epochs keeps the members that finished", async () => {
    setNumThreads(2);
    let epochs = 0;
    const r = await trainHybrid(
      series,
      { ...OPTIONS, members: 4, epochs: 3 },
      {
        runMembers: runMembersInWorkers,
        // two workers: members 0 and 1 run first; stop once either has ended its third (last) epoch,
        // so members 2 and 3 never start
        onEpoch: (e) => {
          if (e.epoch === 3) epochs++;
        },
        shouldStop: () => epochs > 0,
      },
    ).catch((e: Error) => e);
    // the other worker sees the stop within its current batch or finishes first: one or two kept
    if (r instanceof Error) throw r;
    expect(r.interrupted).toBe(true);
    expect(r.config.members).toBeGreaterThanOrEqual(1);
    expect(r.config.members).toBeLessThanOrEqual(2);
    expect(r.members).toHaveLength(r.config.members);
    for (const m of r.members) expect(m.epochs).toBe(3);
  }, 60_000);

  it("recurrent train --deterministic writes the same bytes on one thread and on two", async () => {
    const dir = mkdtempSync(join(tmpdir(), "recurrent-members-"));
    const files: Buffer[] = [];
    for (const n of ["1", "2"]) {
      const out = join(dir, `air-${n}.safetensors`);
      const saved = process.env.RECURRENT_NUM_THREADS;
      process.env.RECURRENT_NUM_THREADS = n; // the child's environment, copied when it starts
      const run = spawnRun([
        "train",
        "--csv",
        join(import.meta.dirname, "..", "datasets", "air-passengers.csv"),
        "--target",
        "passengers",
        "--members",
        "3",
        "--epochs",
        "4",
        "--hidden",
        "8",
        "--deterministic",
        "--out",
        out,
      ]);
      if (saved === undefined) delete process.env.RECURRENT_NUM_THREADS;
      else process.env.RECURRENT_NUM_THREADS = saved;
      const r = await run;
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/3 member\(s\)/);
      files.push(readFileSync(out));
    }
    expect(files[1].equals(files[0])).toBe(true);
  }, 120_000);
});
