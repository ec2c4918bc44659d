// The WebGPU device in a browser: test/webgpu/browser-entry.ts, bundled for the browser, runs in headless
// Chromium on navigator.gpu. It compares the device's tanh(A·B) and sigmoid(a)·a with the CPU ops, and
// trains the notes' sine RNN (test/webgpu/sine-train.ts: RNN(1→16, batch first) + Linear, MSE; 20 steps of
// SGD with momentum, 10 of Adam) with model.to("webgpu") in the page; the test checks the losses and final
// weights against the same training on the page's CPU and in Node. Then a W5-sized Adam step
// (test/webgpu/w5-step.ts: LSTM(64→512, 2 layers) + Linear, batch 256, one time step from a random
// state) on the page's GPU against the page's CPU, and the page's CPU against Node's.
// Chromium's flag: --enable-unsafe-webgpu (Linux has WebGPU behind it); with no GPU, Chromium 156 falls
// back to its own SwiftShader adapter by itself. Needs /usr/bin/chromium; skipped without it unless
// RECURRENT_REQUIRE_E2E=1, and skipped without a WebGPU adapter unless RECURRENT_REQUIRE_WEBGPU=1.

import { existsSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { build } from "esbuild";
import { type Page, chromium } from "playwright-core";
import { describe, expect, it } from "vitest";
import { type SineRun, trainSine } from "./webgpu/sine-train.js";
import { fingerprint, w5AdamStep, w5Names, w5Setup } from "./webgpu/w5-step.js";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_WEBGPU_FLAGS = ["--enable-unsafe-webgpu"];

type Ctx = { skip: (note?: string) => void };

/**
 * Serves browser-entry.ts, bundled, from 127.0.0.1 (navigator.gpu needs a secure context), opens it in
 * headless Chromium with WebGPU and runs `use` on the page once the entry has loaded. False (the test
 * skipped) where Chromium is not installed.
 */
async function withPage(ctx: Ctx, use: (page: Page) => Promise<void>): Promise<boolean> {
  if (!existsSync(CHROMIUM)) {
    if (process.env.RECURRENT_REQUIRE_E2E)
      expect.fail(`${CHROMIUM} is missing but RECURRENT_REQUIRE_E2E is set`);
    ctx.skip(`${CHROMIUM} is not installed`);
    return false;
  }
  const bundle = await build({
    entryPoints: [join(import.meta.dirname, "webgpu", "browser-entry.ts")],
    bundle: true,
    platform: "browser",
    format: "esm",
    write: false,
    logLevel: "silent",
  });
  const js = bundle.outputFiles[0].text;
  const server = createServer((req, res) => {
    if (req.url === "/bundle.js") {
      res.setHeader("content-type", "text/javascript");
      res.end(js);
    } else {
      res.setHeader("content-type", "text/html");
      res.end('<!doctype html><script type="module" src="/bundle.js"></script>');
    }
  }).listen(0, "127.0.0.1");
  await new Promise((r) => server.once("listening", r));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_WEBGPU_FLAGS });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => "runWebGPU" in globalThis);
    await use(page);
  } finally {
    await browser.close();
    server.close();
  }
  return true;
}

/** True (the test skipped) where the page found no WebGPU; fails instead under RECURRENT_REQUIRE_WEBGPU=1. */
function unavailable(ctx: Ctx, r: Record<string, unknown>): boolean {
  if (!("unavailable" in r)) return false;
  if (process.env.RECURRENT_REQUIRE_WEBGPU === "1")
    expect.fail(`WebGPU unavailable in Chromium: ${r.unavailable}`);
  ctx.skip(`WebGPU unavailable in Chromium: ${r.unavailable}`);
  return true;
}

/** Largest |a − b| / (1 + |b|) over the elements of two parameter lists. */
function weightErr(a: number[][], b: number[][]): number {
  expect(a.map((w) => w.length)).toEqual(b.map((w) => w.length));
  let worst = 0;
  a.forEach((w, i) => {
    w.forEach((v, j) => {
      worst = Math.max(worst, Math.abs(v - b[i][j]) / (1 + Math.abs(b[i][j])));
    });
  });
  return worst;
}

/** Largest relative difference of two loss curves of the same length. */
function lossErr(a: number[], b: number[]): number {
  expect(a).toHaveLength(b.length);
  return Math.max(...a.map((v, i) => Math.abs(v - b[i]) / Math.abs(b[i])));
}

const STEPS = { sgd: 20, adam: 10 } as const;

describe("WebGPU in Chromium", { timeout: 180_000 }, () => {
  it("runs device ops from navigator.gpu with the CPU's values", async (ctx) => {
    await withPage(ctx, async (page) => {
      const r = (await page.evaluate("globalThis.runWebGPU()")) as Record<string, unknown>;
      if (unavailable(ctx, r)) return;
      expect(r.err).toBeLessThan(1e-6);
      expect(r.devices).toEqual(["cpu", "webgpu"]);
      expect(r.mixed).toContain(
        "Expected all tensors to be on the same device, but found at least two devices, webgpu and cpu!",
      );
      expect((r.stats as { dispatches: number }).dispatches).toBe(4);
      const limits = r.limits as [number, number][];
      console.log(`Chromium's adapter: maxStorageBufferBindingSize, maxBufferSize ${JSON.stringify(limits)}`);
      for (const [device, adapter] of limits) expect(device).toBe(adapter);
    });
  });

  it("trains the sine RNN in the page on webgpu as on the CPU (SGD with momentum, Adam)", async (ctx) => {
    await withPage(ctx, async (page) => {
      const r = (await page.evaluate(`globalThis.runWebGPUTraining(${JSON.stringify(STEPS)})`)) as Record<
        string,
        unknown
      >;
      if (unavailable(ctx, r)) return;
      const runs = r.runs as Record<string, SineRun | string>;
      const errors: string[] = [];
      for (const opt of ["sgd", "adam"] as const) {
        const gpu = runs[`${opt} webgpu`];
        const cpu = runs[`${opt} cpu`];
        expect(typeof gpu === "string" ? gpu : "", `${opt} on webgpu in the page`).toBe("");
        expect(typeof cpu === "string" ? cpu : "", `${opt} on the CPU in the page`).toBe("");
        if (typeof gpu === "string" || typeof cpu === "string") continue;
        const node = await trainSine("cpu", opt, STEPS[opt]); // the same training in Node, on the CPU
        expect(gpu.devices).toEqual(Array(6).fill("webgpu"));
        expect(cpu.devices).toEqual(Array(6).fill("cpu"));
        expect(gpu.losses).toHaveLength(STEPS[opt]);
        expect(gpu.losses[STEPS[opt] - 1]).toBeLessThan(gpu.losses[0] / 2); // it learned
        // float32 rounding: the page's GPU against the page's CPU and Node's CPU, and the CPUs agree
        const e = {
          gpuLoss: lossErr(gpu.losses, cpu.losses),
          gpuWeights: weightErr(gpu.weights, cpu.weights),
          gpuLossNode: lossErr(gpu.losses, node.losses),
          gpuWeightsNode: weightErr(gpu.weights, node.weights),
          cpuLossNode: lossErr(cpu.losses, node.losses),
          cpuWeightsNode: weightErr(cpu.weights, node.weights),
        };
        for (const [k, v] of Object.entries(e)) expect(v, `${opt} ${k}`).toBeLessThan(1e-5);
        errors.push(
          `${opt}: ${Object.entries(e)
            .map(([k, v]) => `${k} ${v.toExponential(2)}`)
            .join(", ")}`,
        );
      }
      console.log(`adapter ${JSON.stringify(r.adapter)}\n${errors.join("\n")}`);
    });
  });

  it("trains one W5-sized step in the page on webgpu as on the CPU (Adam)", async (ctx) => {
    await withPage(ctx, async (page) => {
      const r = (await page.evaluate("globalThis.runWebGPUW5(1)")) as Record<string, unknown>;
      if (unavailable(ctx, r)) return;
      expect(r.error ?? "").toBe("");
      const names = w5Names(w5Setup(1));
      expect(r.devices).toEqual(Array(names.length).fill("webgpu"));
      const gpuLoss = r.gpuLoss as number;
      const cpuLoss = r.cpuLoss as number;
      expect(Math.abs(gpuLoss - cpuLoss) / cpuLoss).toBeLessThan(1e-6);
      const gradErr = r.gradErr as number[];
      const weightAbsErr = r.weightAbsErr as number[];
      expect(gradErr).toHaveLength(names.length);
      // every gradient against its own largest element, as test/webgpu-w5.test.ts in Node
      for (const [i, e] of gradErr.entries()) expect(e, `grad ${names[i]}`).toBeLessThan(1e-5);
      // Adam moves each weight by up to lr = 1e-3; the gradients' rounding changes that by far less
      for (const [i, e] of weightAbsErr.entries()) expect(e, `weight ${names[i]}`).toBeLessThan(1e-4);
      // the page's CPU against Node's: the same loss and the same gradients (fingerprints: Σg, Σ|g|)
      const node = await w5AdamStep("cpu", 1);
      expect(Math.abs(cpuLoss - node.loss) / node.loss).toBeLessThan(1e-6);
      const prints = r.cpuGradFingerprints as [number, number][];
      node.grads.forEach((g, i) => {
        const [s, m] = fingerprint(g);
        expect(Math.abs(prints[i][0] - s) / m, `Σ grad ${names[i]}`).toBeLessThan(1e-5);
        expect(Math.abs(prints[i][1] - m) / m, `Σ|grad| ${names[i]}`).toBeLessThan(1e-5);
      });
      console.log(
        `W5 (T = 1, B = 256) in Chromium on ${JSON.stringify(r.adapter)}: loss ${gpuLoss} (page CPU ${cpuLoss}, Node ${node.loss}); ` +
          `worst grad ${Math.max(...gradErr).toExponential(2)}, weight ${Math.max(...weightAbsErr).toExponential(2)}; device step ${r.gpuMs} ms`,
      );
    });
  });
});
