// The examples run and print what they should: rnn-layers.ts prints exactly what the study notes'
// PyTorch program prints (its output is written out below, from running it with PyTorch 1.13).

import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..");
const run = (file: string) =>
  execFileSync(process.execPath, ["--import", "tsx", join(ROOT, "examples", file)], {
    cwd: ROOT,
    encoding: "utf8",
  });

describe("examples", () => {
  it("rnn-layers.ts prints what the notes' PyTorch program prints", () => {
    expect(run("rnn-layers.ts")).toBe(
      [
        "RNN(100, 20)",
        "torch.Size([10, 3, 20]) torch.Size([1, 3, 20])",
        "RNN(100, 20, num_layers=4)",
        "torch.Size([10, 3, 20]) torch.Size([4, 3, 20])",
        "rnn by cell",
        "torch.Size([3, 20])",
        "torch.Size([3, 20])",
        "Lstm",
        "LSTM(100, 20, num_layers=4)",
        "torch.Size([10, 3, 20]) torch.Size([4, 3, 20]) torch.Size([4, 3, 20])",
        "one layer lstm",
        "torch.Size([3, 20]) torch.Size([3, 20])",
        "two layer lstm",
        "torch.Size([3, 20]) torch.Size([3, 20])",
        "",
      ].join("\n"),
    );
  });

  it("streaming.ts streams what the module calls compute", () => {
    const out = run("streaming.ts");
    expect(out).toContain(
      "streamer: RNN(1, 16, batch_first=True) + Linear(in_features=16, out_features=1, bias=True)",
    );
    const diff = Number(/largest difference from the module calls: (\S+)/.exec(out)?.[1]);
    expect(diff).toBeLessThan(1e-5);
    const first = /first predictions: (.*)/.exec(out)![1].split(" ").map(Number);
    expect(first).toHaveLength(5);
    expect(first.every((v) => Math.abs(v) <= 1.2)).toBe(true); // a sine, not a diverged run
  });

  it("quickstart.ts fits the linear target", () => {
    const out = run("quickstart.ts");
    expect(out).toContain("Linear(in_features=3, out_features=1, bias=True)");
    const loss = Number(/loss (\S+)/.exec(out)![1]);
    expect(loss).toBeLessThan(1e-4);
    // the weights it found are the target's [1, -2, 0.5] and bias 0.1
    const w = /weight Parameter containing:\ntensor\(\[\[(.*)\]\]/.exec(out)![1].split(",").map(Number);
    expect(w.map((v) => Math.round(v * 100) / 100)).toEqual([1, -2, 0.5]);
  });
});
