// The playground's device switch, end to end: the page built and served as in playground.test.ts, opened
// in headless Chromium with WebGPU (--enable-unsafe-webgpu: with no GPU, Chromium uses its own
// SwiftShader, a Vulkan driver on the CPU) and without it. With WebGPU the sine experiment trains on the
// device in the page's worker (model.to("webgpu")); its losses and forecasts must be the CPU run's of the
// same seed, in the page and in Node (runSineExperiment), to float32 rounding. Without it the WebGPU
// choice is greyed out and the page says why.
//
// Needs /usr/bin/chromium; skipped without it unless RECURRENT_REQUIRE_E2E=1, and the WebGPU cases are
// skipped where Chromium finds no adapter unless RECURRENT_REQUIRE_WEBGPU=1.

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runSineExperiment } from "../../src/experiments/sine.js";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CHROMIUM = "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const BASE_FLAGS = ["--no-sandbox", "--disable-background-networking", "--no-first-run"];
/** Chromium's flag for WebGPU on Linux; with no GPU it falls back to SwiftShader by itself. */
const WEBGPU_FLAGS = ["--enable-unsafe-webgpu"];

interface SineState {
  status: string;
  losses: number[];
  progressMessages: number;
  previews: number;
  device: string | null;
  adapter: string | null;
  msPerStep: number | null;
  result: {
    itersRun: number;
    stopped: boolean;
    finalLoss: number;
    rnnName: string;
    prediction: { notesPred: number[]; contextPred: number[] };
  } | null;
}
interface Exposed {
  ready: boolean;
  webgpu: { available: true; adapter: string } | { available: false; reason: string } | null;
  sine: SineState;
  errors: string[];
}

const exposed = (page: Page): Promise<Exposed> =>
  page.evaluate(() => (globalThis as unknown as { __playground: Exposed }).__playground);

if (!HAVE_CHROMIUM) {
  describe("playground device switch", () => {
    it.skipIf(!process.env.RECURRENT_REQUIRE_E2E)("has a browser", () => {
      expect.fail(`${CHROMIUM} is missing but RECURRENT_REQUIRE_E2E is set`);
    });
  });
}

/** Largest |a − b| / max(|b|, 1e-3) over two equal-length lists. */
function relErr(a: number[], b: number[]): number {
  expect(a).toHaveLength(b.length);
  let worst = 0;
  a.forEach((v, i) => {
    worst = Math.max(worst, Math.abs(v - b[i]) / Math.max(Math.abs(b[i]), 1e-3));
  });
  return worst;
}

describe.skipIf(!HAVE_CHROMIUM)("playground device switch", { timeout: 240_000 }, () => {
  let server: ChildProcess | null = null;
  const browsers: Browser[] = [];
  let url = "";

  beforeAll(async () => {
    const built = spawnSync(process.execPath, [join(ROOT, "scripts/build-web.mjs")], { encoding: "utf8" });
    if (built.status !== 0) throw new Error(`build-web failed:\n${built.stderr}${built.stdout}`);
    server = spawn(process.execPath, [join(ROOT, "scripts/serve-web.mjs")], {
      env: { ...process.env, PORT: "0", QUIET: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    url = await new Promise<string>((resolve, reject) => {
      let out = "";
      let err = "";
      const timer = setTimeout(() => reject(new Error(`serve-web did not start: ${out}${err}`)), 15_000);
      server!.stdout!.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /serving (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      server!.stderr!.on("data", (d: Buffer) => {
        err += d.toString();
      });
      server!.on("exit", (code) => reject(new Error(`serve-web exited with ${code}: ${err}`)));
    });
  }, 90_000);

  afterAll(async () => {
    for (const b of browsers) await b.close();
    server?.kill("SIGTERM");
  });

  /** Opens the playground in a Chromium with `flags`, once the worker has looked for WebGPU. */
  async function open(flags: string[], host = "127.0.0.1"): Promise<{ page: Page; pageErrors: string[] }> {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...BASE_FLAGS, ...flags] });
    browsers.push(browser);
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const pageErrors: string[] = [];
    page.on("pageerror", (e) => pageErrors.push(e.message));
    await page.goto(url.replace("127.0.0.1", host));
    await page.waitForFunction(
      () => {
        const s = (globalThis as unknown as { __playground?: Exposed }).__playground;
        return s?.ready === true && s.webgpu !== null;
      },
      null,
      { timeout: 60_000 },
    );
    return { page, pageErrors };
  }

  /** Fills the sine form, trains, and waits for the run to end; returns the page's sine state. */
  async function train(
    page: Page,
    o: { device: "cpu" | "webgpu"; size?: "notes" | "large"; iters: number; seed?: number; clip?: string },
  ): Promise<SineState> {
    await page.selectOption("#sine-size", o.size ?? "notes");
    await page.fill("#sine-form [name=iters]", String(o.iters));
    await page.fill("#sine-form [name=seed]", String(o.seed ?? 0));
    await page.fill("#sine-form [name=clip]", o.clip ?? "");
    await page.selectOption("#sine-device", o.device);
    await page.click("#sine-train");
    await page.waitForFunction(
      () => {
        const s = (globalThis as unknown as { __playground: Exposed }).__playground.sine.status;
        return s === "done" || s === "stopped" || s === "error";
      },
      null,
      { timeout: 200_000, polling: 100 },
    );
    return (await exposed(page)).sine;
  }

  let gpu: { page: Page; pageErrors: string[] } | null = null;
  /** The page with WebGPU, or null (the test skipped) where Chromium found no adapter. */
  async function withWebGPU(ctx: { skip: (note?: string) => void }): Promise<Page | null> {
    gpu ??= await open(WEBGPU_FLAGS);
    const w = (await exposed(gpu.page)).webgpu!;
    if (!w.available) {
      if (process.env.RECURRENT_REQUIRE_WEBGPU === "1") expect.fail(`no WebGPU in Chromium: ${w.reason}`);
      ctx.skip(`no WebGPU in Chromium: ${w.reason}`);
      return null;
    }
    return gpu.page;
  }

  it("keeps the WebGPU code out of the page's first script: it is in the worker's", () => {
    const main = readFileSync(join(ROOT, "web/dist/main.js"), "utf8");
    const worker = readFileSync(join(ROOT, "web/dist/worker.js"), "utf8");
    for (const api of ["requestAdapter", "createComputePipeline", "mapAsync"]) {
      expect(main.includes(api), `main.js calls ${api}`).toBe(false);
      expect(worker.includes(api), `worker.js calls ${api}`).toBe(true);
    }
  });

  it("offers WebGPU with its adapter, in the keyboard's reach", async (ctx) => {
    const page = await withWebGPU(ctx);
    if (page === null) return;
    const s = await exposed(page);
    const adapter = (s.webgpu as { adapter: string }).adapter;
    expect(adapter.length).toBeGreaterThan(0);
    const note = await page.textContent("#sine-device-note");
    expect(note).toContain(`WebGPU: ${adapter}`);
    // Chromium's SwiftShader is named as what it is: the CPU running the shaders
    if (/swiftshader/i.test(adapter)) expect(note).toContain("a software adapter that runs on the CPU");
    expect(
      await page.$eval("#sine-device option[value=webgpu]", (o) => (o as HTMLOptionElement).disabled),
    ).toBe(false);
    // The menu is a labelled select that takes the focus; the keyboard picks WebGPU.
    expect(
      await page.$eval("#sine-device", (e) => e.closest("label")?.textContent?.trim().startsWith("device")),
    ).toBe(true);
    await page.focus("#sine-device");
    await page.keyboard.press("ArrowDown");
    expect(await page.$eval("#sine-device", (e) => (e as HTMLSelectElement).value)).toBe("webgpu");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("sine-device");
    console.log(`Chromium's WebGPU adapter: ${adapter}`);
  });

  it("trains the sine experiment on WebGPU with the CPU's numbers for the same seed", async (ctx) => {
    const page = await withWebGPU(ctx);
    if (page === null) return;
    const iters = 30;
    const g = await train(page, { device: "webgpu", iters, seed: 0 });
    expect((await exposed(page)).errors).toEqual([]);
    expect(g.status).toBe("done");
    expect(g.device).toBe("webgpu");
    expect(g.adapter).toBe(((await exposed(page)).webgpu as { adapter: string }).adapter);
    expect(await page.textContent("#sine-status")).toContain(`on WebGPU (${g.adapter})`);
    expect(await page.textContent("[data-figure=time]")).toContain("WebGPU");
    expect(g.losses).toHaveLength(iters);
    for (const l of g.losses) expect(Number.isFinite(l)).toBe(true);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(g.losses.slice(-5))).toBeLessThan(mean(g.losses.slice(0, 5)) / 4); // it learned
    // progress came a few iterations at a time (losses read back in batches), with previews
    expect(g.progressMessages).toBeGreaterThan(1);
    expect(g.progressMessages).toBeLessThan(iters);
    expect(g.previews).toBeGreaterThan(0);
    // The same run on the page's CPU, and in Node (what `recurrent sine` computes).
    const c = await train(page, { device: "cpu", iters, seed: 0 });
    expect(c.status).toBe("done");
    expect(c.device).toBe("cpu");
    const node = runSineExperiment({ iters, seed: 0 });
    const e = {
      lossCpu: relErr(g.losses, c.losses),
      lossNode: relErr(g.losses, Array.from(node.losses)),
      notesPred: relErr(g.result!.prediction.notesPred, c.result!.prediction.notesPred),
      contextPred: relErr(g.result!.prediction.contextPred, c.result!.prediction.contextPred),
    };
    for (const [k, v] of Object.entries(e)) expect(v, k).toBeLessThan(1e-4);
    expect(g.result!.rnnName).toBe(c.result!.rnnName);
    // both devices' time per iteration, side by side
    const timing = await page.textContent("#sine-timing");
    expect(timing).toMatch(/CPU [\d.]+ ms · WebGPU [\d.]+ ms: (the CPU|WebGPU) is [\d.]+× faster here/);
    console.log(
      `sine RNN 1×16, ${iters} iterations, seed 0: WebGPU against the page's CPU and Node, relative: ${Object.entries(
        e,
      )
        .map(([k, v]) => `${k} ${v.toExponential(2)}`)
        .join(", ")}\n${timing}`,
    );
  });

  it("times the LSTM 2×256 on each device, with the same losses", async (ctx) => {
    const page = await withWebGPU(ctx);
    if (page === null) return;
    const iters = 4;
    const g = await train(page, { device: "webgpu", size: "large", iters });
    const c = await train(page, { device: "cpu", size: "large", iters });
    expect([g.status, c.status]).toEqual(["done", "done"]);
    expect(g.result!.rnnName).toBe("LSTM(1, 256, num_layers=2, batch_first=True)");
    expect(relErr(g.losses, c.losses)).toBeLessThan(1e-4);
    const timing = (await page.textContent("#sine-timing"))!;
    expect(timing).toContain("LSTM(1, 256, num_layers=2, batch_first=True) + Linear(256, 1)");
    expect(timing).toMatch(/CPU [\d.]+ ms · WebGPU [\d.]+ ms/);
    console.log(
      `LSTM 2×256, ${iters} iterations: ms per iteration CPU ${c.msPerStep!.toFixed(1)}, WebGPU ${g.msPerStep!.toFixed(1)} (losses within ${relErr(g.losses, c.losses).toExponential(2)})\n${timing}`,
    );
  });

  it("stops a WebGPU run after its current step and keeps the model", async (ctx) => {
    const page = await withWebGPU(ctx);
    if (page === null) return;
    await page.selectOption("#sine-size", "notes");
    await page.fill("#sine-form [name=iters]", "20000");
    await page.fill("#sine-form [name=clip]", "");
    await page.selectOption("#sine-device", "webgpu");
    await page.click("#sine-train");
    await page.waitForFunction(
      () => (globalThis as unknown as { __playground: Exposed }).__playground.sine.progressMessages >= 2,
      null,
      { timeout: 60_000, polling: 50 },
    );
    // the page answers while the worker trains
    expect(await page.evaluate(() => 1 + 1)).toBe(2);
    await page.click("#sine-stop");
    await page.waitForFunction(
      () => (globalThis as unknown as { __playground: Exposed }).__playground.sine.status !== "running",
      null,
      { timeout: 60_000, polling: 50 },
    );
    const s = (await exposed(page)).sine;
    expect(s.status).toBe("stopped");
    expect(s.result!.stopped).toBe(true);
    expect(s.result!.itersRun).toBeLessThan(20000);
    expect(s.losses).toHaveLength(s.result!.itersRun);
    expect(await page.textContent("#sine-status")).toContain("on WebGPU (");
  });

  it("clips on WebGPU (clipGradNormAsync_ on the device) as on the CPU", async (ctx) => {
    const page = await withWebGPU(ctx);
    if (page === null) return;
    const g = await train(page, { device: "webgpu", iters: 10, clip: "0.5" });
    expect(g.status).toBe("done");
    const c = await train(page, { device: "cpu", iters: 10, clip: "0.5" });
    expect(relErr(g.losses, c.losses)).toBeLessThan(1e-4);
  });

  for (const [flags, host, reason] of [
    // no --enable-unsafe-webgpu: on Linux, navigator.gpu is there but gives no adapter
    [
      [],
      "127.0.0.1",
      "no adapter: requestAdapter() returned null (no GPU driver this browser may use; Chromium on Linux needs --enable-unsafe-webgpu)",
    ],
    // served over plain http from a host that is not this machine's loopback name: not a secure context,
    // so no navigator.gpu at all (Chromium shows it in every secure context, whatever its flags)
    [
      [...WEBGPU_FLAGS, "--host-resolver-rules=MAP insecure.test 127.0.0.1"],
      "insecure.test",
      "this browser has no WebGPU (navigator.gpu is undefined): WebGPU needs a secure context, a page served over https or from localhost",
    ],
  ] as const) {
    it(`greys WebGPU out, saying why, in Chromium with [${flags.join(" ")}] on ${host}`, async () => {
      const { page, pageErrors } = await open([...flags], host);
      const s = await exposed(page);
      expect(s.webgpu).toEqual({ available: false, reason });
      expect(
        await page.$eval("#sine-device option[value=webgpu]", (o) => (o as HTMLOptionElement).disabled),
      ).toBe(true);
      expect(await page.textContent("#sine-device-note")).toBe(`WebGPU is unavailable: ${reason}.`);
      // the keyboard cannot pick it: the menu stays on the CPU
      await page.focus("#sine-device");
      await page.keyboard.press("ArrowDown");
      expect(await page.$eval("#sine-device", (e) => (e as HTMLSelectElement).value)).toBe("cpu");
      // the CPU still trains
      const c = await train(page, { device: "cpu", iters: 5 });
      expect(c.status).toBe("done");
      expect(c.device).toBe("cpu");
      expect(pageErrors).toEqual([]);
    });
  }
});
