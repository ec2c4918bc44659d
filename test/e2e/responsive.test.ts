// The playground stays responsive and every job can be followed and stopped, in headless Chromium
// (playwright-core), served as playground.test.ts serves it:
//
// - the longest main-thread task (a `longtask` PerformanceObserver) during the default sine run, and
//   while a 400,000-row CSV is read (in the parse worker), stays under a generous bound; the figures
//   are printed;
// - a CSV job says when it backtests, and Stop in that phase (which runs in one go in the worker) ends
//   it at once and keeps the trained model for download;
// - the gradients job shows its progress, and Stop ends it at once; the next job runs as usual.
//
// Needs /usr/bin/chromium; skipped with a message without it (a failure when RECURRENT_REQUIRE_E2E is set).

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CHROMIUM = "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);

/**
 * Generous bound on one main-thread task: the machine running the tests is shared and loaded (a chart
 * redraw that takes 30 ms on an idle laptop took 100-500 ms there while the worker trained).
 */
const LONG_TASK_BOUND_MS = 1000;

interface Exposed {
  ready: boolean;
  chartsWarm: boolean;
  sine: { status: string };
  csv: { status: string; phase: string; loaded: { name: string; rows: number } | null };
  gradients: { status: string; progress: { index: number; done: number; total: number } | null };
}
const exposed = (page: Page): Promise<Exposed> =>
  page.evaluate(() => (globalThis as unknown as { __playground: Exposed }).__playground);

if (!HAVE_CHROMIUM && process.env.RECURRENT_REQUIRE_E2E) {
  describe("playground responsiveness and Stop", () => {
    it("has a browser", () => {
      expect.fail(`${CHROMIUM} is missing but RECURRENT_REQUIRE_E2E is set`);
    });
  });
} else if (!HAVE_CHROMIUM) {
  console.warn(`responsive e2e skipped: ${CHROMIUM} is missing (Debian: apt-get install -y chromium)`);
  describe("playground responsiveness and Stop", () => {
    it.skip(`skipped: ${CHROMIUM} is missing`, () => {});
  });
}

/** A CSV of `n` rows, two numeric columns, no dates. */
function csvOf(n: number): Buffer {
  const rows = ["value,other"];
  for (let i = 0; i < n; i++)
    rows.push(`${(Math.sin(i / 20) + 0.1 * Math.sin(i * 1.7)).toFixed(4)},${i % 7}`);
  return Buffer.from(`${rows.join("\n")}\n`);
}

describe.skipIf(!HAVE_CHROMIUM)("playground responsiveness and Stop", () => {
  let server: ChildProcess | null = null;
  let browser: Browser | null = null;
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
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"],
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    server?.kill("SIGTERM");
  });

  /** Opens the page with a longtask observer from the start; `longTasks(page)` reads and resets it. */
  async function open(): Promise<Page> {
    const context = await browser!.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.addInitScript(() => {
      const g = globalThis as unknown as { __longTasks: number[] };
      g.__longTasks = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) g.__longTasks.push(e.duration);
      }).observe({ type: "longtask", buffered: true });
    });
    await page.goto(url);
    await page.waitForFunction(
      () => (globalThis as unknown as { __playground?: Exposed }).__playground?.ready === true,
      null,
      { timeout: 30_000 },
    );
    return page;
  }

  const longTasks = (page: Page): Promise<number[]> =>
    page.evaluate(() => {
      const g = globalThis as unknown as { __longTasks: number[] };
      const all = g.__longTasks;
      g.__longTasks = [];
      return all;
    });

  const waitFor = (page: Page, check: string, timeout = 60_000) =>
    page.waitForFunction(
      (src) => {
        const s = (globalThis as unknown as { __playground: Exposed }).__playground;
        return new Function("s", `return ${src}`)(s) as boolean;
      },
      check,
      { timeout, polling: 50 },
    );

  it("the default sine run leaves no long main-thread task", async () => {
    const page = await open();
    // the chart libraries arrive after the first paint and draw once off screen (warmCharts), while a
    // visitor reads the page: wait for that before measuring the run
    await waitFor(page, "s.chartsWarm === true", 60_000);
    await longTasks(page);
    await page.click("#sine-train");
    await waitFor(page, 's.sine.status === "done" || s.sine.status === "error"', 120_000);
    expect((await exposed(page)).sine.status).toBe("done");
    await page.waitForSelector('#sine-chart[data-shows="final"] svg', { timeout: 30_000 });
    const tasks = await longTasks(page);
    const longest = Math.max(0, ...tasks);
    const steps = await page.evaluate(() => {
      const by: Record<string, number[]> = {};
      for (const m of performance.getEntriesByType("measure")) {
        if (m.name.startsWith("chart:")) (by[m.name] ??= []).push(Math.round(m.duration));
      }
      return by;
    });
    console.log(`chart redraw steps (ms): ${JSON.stringify(steps)}`);
    console.log(
      `default sine run: ${tasks.length} long task(s) (> 50 ms) on the page's thread, longest ${longest.toFixed(0)} ms, total ${tasks.reduce((a, b) => a + b, 0).toFixed(0)} ms`,
    );
    expect(longest).toBeLessThan(LONG_TASK_BOUND_MS);
    await page.context().close();
  }, 180_000);

  it("reads a 400,000-row CSV in the worker without holding the page", async () => {
    const page = await open();
    await page.waitForLoadState("networkidle");
    // From a file on disk, as a visitor picks one: a buffer would be turned into a File by Playwright's
    // own script on the page's thread, a long task that is the test's, not the page's.
    const file = csvOf(400_000);
    const dir = mkdtempSync(join(tmpdir(), "recurrent-e2e-"));
    const path = join(dir, "big.csv");
    writeFileSync(path, file);
    await longTasks(page);
    await page.setInputFiles("#csv-file", path);
    await waitFor(page, 's.csv.loaded !== null || s.csv.phase === "idle"', 120_000);
    const s = await exposed(page);
    expect(s.csv.loaded).toEqual(expect.objectContaining({ name: "big.csv", rows: 400_000 }));
    const tasks = await longTasks(page);
    const longest = Math.max(0, ...tasks);
    console.log(
      `reading a ${(file.length / 1e6).toFixed(1)} MB CSV: longest main-thread task ${longest.toFixed(0)} ms`,
    );
    expect(longest).toBeLessThan(LONG_TASK_BOUND_MS);
    expect(await page.textContent("#csv-info")).toContain("400000 rows");
    rmSync(dir, { recursive: true, force: true });
    await page.context().close();
  }, 180_000);

  it("says when a CSV job backtests; Stop then ends it at once and keeps the trained model", async () => {
    const page = await open();
    await page.setInputFiles("#csv-file", { name: "series.csv", mimeType: "text/csv", buffer: csvOf(5000) });
    await waitFor(page, "s.csv.loaded !== null", 60_000);
    await page.fill("#csv-form [name=epochs]", "1");
    await page.fill("#csv-form [name=hidden]", "2");
    await page.fill("#csv-form [name=lookback]", "8");
    await page.fill("#csv-form [name=horizon]", "4");
    await page.click("#csv-train");
    // the classical models' backtest runs for seconds on 5000 rows: Stop it there
    await page.waitForFunction(
      () => document.getElementById("csv-status")?.textContent?.startsWith("Backtesting the classical"),
      null,
      { timeout: 120_000, polling: 50 },
    );
    expect((await exposed(page)).csv.phase).toBe("backtest");
    expect(await page.$eval("#csv-progress", (e) => e.hasAttribute("value"))).toBe(false); // moving bar
    expect(await page.isEnabled("#csv-stop")).toBe(true);
    expect(await page.isEnabled("#ckpt-download")).toBe(true); // the model is already here
    const t0 = Date.now();
    await page.click("#csv-stop");
    await waitFor(page, 's.csv.status === "stopped"', 5_000);
    const ms = Date.now() - t0;
    console.log(`Stop during the backtest took effect in ${ms} ms`);
    expect(await page.textContent("#csv-status")).toBe(
      "Stopped during the backtest: no scores, but the trained model is kept (download it under Checkpoints).",
    );
    expect(await page.isEnabled("#ckpt-download")).toBe(true);
    expect(await page.isEnabled("#csv-stop")).toBe(false);
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#ckpt-download")]);
    expect(download.suggestedFilename()).toBe("value-lstm2.safetensors");
    await page.context().close();
  }, 240_000);

  it("shows the gradients job's progress; Stop ends it at once and the next job runs", async () => {
    const page = await open();
    await page.fill("#grad-form [name=seqLen]", "1000");
    await page.fill("#grad-form [name=hidden]", "128");
    await page.click("#grad-run");
    await waitFor(page, "s.gradients.progress !== null && s.gradients.progress.done > 0", 60_000);
    const value = await page.$eval("#grad-progress", (e) => (e as HTMLProgressElement).value);
    expect(value).toBeGreaterThan(0);
    expect(await page.textContent("#grad-status")).toMatch(
      /^RNN \(1 of 3\): Jacobian products, step \d+ of 1000$/,
    );
    const t0 = Date.now();
    await page.click("#grad-stop");
    await waitFor(page, 's.gradients.status === "stopped"', 5_000);
    console.log(`Stop during the gradients took effect in ${Date.now() - t0} ms`);
    expect(await page.textContent("#grad-status")).toBe("Stopped; nothing computed.");
    expect(await page.isEnabled("#grad-run")).toBe(true);
    // a fresh worker takes the next job
    await page.fill("#grad-form [name=seqLen]", "12");
    await page.fill("#grad-form [name=hidden]", "6");
    await page.click("#grad-run");
    await waitFor(page, 's.gradients.status === "done" || s.gradients.status === "error"', 60_000);
    expect((await exposed(page)).gradients.status).toBe("done");
    expect(await page.$$eval("#grad-table tbody tr", (r) => r.length)).toBe(3);
    await page.context().close();
  }, 180_000);
});
