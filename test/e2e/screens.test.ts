// The playground on every screen and by keyboard, in headless Chromium (playwright-core), served as
// playground.test.ts serves it:
//
// - at 390×844 (a phone) and 1280×800 the page never scrolls sideways
//   (document.documentElement.scrollWidth <= innerWidth) on any tab, before and after results are drawn,
//   and the tab bar stays on one line;
// - without the mouse, Tab reaches the CSV file picker and Enter opens the file chooser; the chosen CSV
//   is read; status lines are live regions and progress bars have names.
//
// Needs /usr/bin/chromium; skipped with a message without it (a failure when RECURRENT_REQUIRE_E2E is set).

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type FileChooser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const CHROMIUM = "/usr/bin/chromium";
const HAVE_CHROMIUM = existsSync(CHROMIUM);

interface Exposed {
  ready: boolean;
  csv: {
    status: string;
    loaded: { name: string; rows: number; header: string[] } | null;
    result: object | null;
  };
  gradients: { status: string };
}
const exposed = (page: Page): Promise<Exposed> =>
  page.evaluate(() => (globalThis as unknown as { __playground: Exposed }).__playground);

if (!HAVE_CHROMIUM && process.env.RECURRENT_REQUIRE_E2E) {
  describe("playground screens and keyboard", () => {
    it("has a browser", () => {
      expect.fail(`${CHROMIUM} is missing but RECURRENT_REQUIRE_E2E is set`);
    });
  });
} else if (!HAVE_CHROMIUM) {
  console.warn(`screens e2e skipped: ${CHROMIUM} is missing (Debian: apt-get install -y chromium)`);
  describe("playground screens and keyboard", () => {
    it.skip(`skipped: ${CHROMIUM} is missing`, () => {});
  });
}

/** The page's horizontal overflow, and the elements that stick out on the right (for the message). */
function overflow(page: Page): Promise<{ scrollWidth: number; innerWidth: number; culprits: string[] }> {
  return page.evaluate(() => {
    const culprits: string[] = [];
    for (const el of Array.from(document.querySelectorAll("body *"))) {
      if (el.parentElement?.closest("svg")) continue; // inside a chart, which clips its own drawing
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.right + window.scrollX > window.innerWidth) {
        const id = el.id ? `#${el.id}` : "";
        const cls =
          typeof el.className === "string" && el.className ? `.${el.className.split(" ").join(".")}` : "";
        culprits.push(`${el.tagName.toLowerCase()}${id}${cls} right=${Math.round(r.right + window.scrollX)}`);
      }
    }
    // Text that runs past its box (a long word) sticks out without its element doing so.
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n !== null; n = walker.nextNode()) {
      if (n.parentElement?.closest("svg")) continue;
      const range = document.createRange();
      range.selectNodeContents(n);
      const r = range.getBoundingClientRect();
      if (r.width > 0 && r.right + window.scrollX > window.innerWidth) {
        culprits.push(
          `text ${JSON.stringify((n.textContent ?? "").slice(0, 40))} right=${Math.round(r.right + window.scrollX)}`,
        );
      }
    }
    return {
      scrollWidth: document.documentElement.scrollWidth,
      innerWidth: window.innerWidth,
      culprits: culprits.slice(0, 8),
    };
  });
}

describe.skipIf(!HAVE_CHROMIUM)("playground screens and keyboard", () => {
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

  /** File choosers the page opened, in order (see `open`). */
  const choosers = new WeakMap<Page, FileChooser[]>();

  async function open(width: number, height: number): Promise<Page> {
    const context = await browser!.newContext({ viewport: { width, height } });
    const page = await context.newPage();
    // Listen for file choosers from the start: Playwright turns interception on when the first listener
    // is added, without waiting for the browser to confirm, so a listener added just before a key press
    // can miss the chooser that press opens (the dialog is then cancelled) on a loaded machine.
    const opened: FileChooser[] = [];
    choosers.set(page, opened);
    page.on("filechooser", (c) => opened.push(c));
    await page.goto(url);
    await page.waitForFunction(
      () => (globalThis as unknown as { __playground?: Exposed }).__playground?.ready === true,
      null,
      { timeout: 30_000 },
    );
    return page;
  }

  async function expectNoSideScroll(page: Page, where: string): Promise<void> {
    const o = await overflow(page);
    expect(
      o.scrollWidth <= o.innerWidth,
      `${where}: scrollWidth ${o.scrollWidth} > innerWidth ${o.innerWidth}; sticking out: ${o.culprits.join(", ")}`,
    ).toBe(true);
  }

  for (const [width, height] of [
    [390, 844],
    [1280, 800],
  ] as const) {
    it(`at ${width}×${height} no tab scrolls sideways, before and after results are drawn`, async () => {
      const page = await open(width, height);
      const tabs = await page.$$eval(".tabs a", (as) => as.map((a) => a.getAttribute("href") ?? ""));
      expect(tabs).toEqual(["#sine", "#csv", "#checkpoint", "#gradients"]);
      // The tab bar is one line: every tab at the same height, none cut off.
      const boxes = await page.$$eval(".tabs a", (as) => as.map((a) => a.getBoundingClientRect().toJSON()));
      expect(new Set(boxes.map((b) => Math.round(b.top))).size).toBe(1);
      for (const b of boxes) expect(b.right).toBeLessThanOrEqual(width);
      const visitTabs = async (phase: string) => {
        for (const tab of tabs) {
          await page.click(`.tabs a[href="${tab}"]`);
          await expectNoSideScroll(page, `${phase}, tab ${tab}`);
        }
      };
      await visitTabs("on load");
      // Results: a shipped series loaded (its table of columns), and the gradient charts and table drawn.
      await page.click("#csv-load-dataset");
      await page.waitForFunction(
        () => (globalThis as unknown as { __playground: Exposed }).__playground.csv.loaded !== null,
        null,
        { timeout: 30_000 },
      );
      await page.fill("#grad-form [name=seqLen]", "12");
      await page.fill("#grad-form [name=hidden]", "6");
      await page.click("#grad-run");
      await page.waitForFunction(
        () => {
          const s = (globalThis as unknown as { __playground: Exposed }).__playground.gradients.status;
          return s === "done" || s === "error";
        },
        null,
        { timeout: 60_000, polling: 100 },
      );
      expect((await exposed(page)).gradients.status).toBe("done");
      // Charts are drawn in tasks of their own after the job ends (charts.ts): wait for the final ones.
      await page.waitForSelector('#grad-flow-chart[data-shows="final"]', { timeout: 30_000 });
      await page.waitForSelector('#grad-jacobian-chart[data-shows="final"]', { timeout: 30_000 });
      expect(await page.$$eval("#grad-flow-chart svg", (s) => s.length)).toBe(1);
      // The charts shrink to the screen rather than being cut off by their holders.
      for (const chart of ["grad-flow-chart", "grad-jacobian-chart"]) {
        const [svg, holder] = await page.$eval(`#${chart}`, (e) => [
          (e.querySelector("svg") as SVGElement).getBoundingClientRect().width,
          e.getBoundingClientRect().width,
        ]);
        expect(svg, chart).toBeLessThanOrEqual(holder + 0.5);
        expect(svg, chart).toBeGreaterThan(Math.min(width, 800) * 0.6);
      }
      await visitTabs("with results");
      await page.context().close();
    }, 150_000);
  }

  it("refuses a CSV with decimal commas, saying why", async () => {
    const page = await open(1280, 800);
    const text = "Datum;Temperatur\n2020-01-01;1,5\n2020-01-02;-0,25\n2020-01-03;2,0\n";
    await page.setInputFiles("#csv-file", {
      name: "komma.csv",
      mimeType: "text/csv",
      buffer: Buffer.from(text),
    });
    await page.waitForSelector("#csv-error:not([hidden])", { timeout: 30_000 });
    expect(await page.textContent("#csv-error")).toBe(
      'komma.csv: no column holds numbers (columns: Datum, Temperatur), so there is nothing to forecast; "1,5" looks like a number with a decimal comma; numbers must use a decimal point (1.5): export the file with "." as the decimal separator',
    );
    await page.context().close();
  }, 60_000);

  it("a new series, or a failed load, clears the results of the one before", async () => {
    const page = await open(1280, 800);
    const train = async () => {
      await page.click("#csv-load-dataset");
      await page.waitForFunction(
        () => (globalThis as unknown as { __playground: Exposed }).__playground.csv.loaded !== null,
        null,
        { timeout: 30_000 },
      );
      await page.fill("#csv-form [name=epochs]", "2");
      await page.fill("#csv-form [name=hidden]", "4");
      await page.click("#csv-train");
      await page.waitForFunction(
        () => {
          const s = (globalThis as unknown as { __playground: Exposed }).__playground.csv.status;
          return s === "done" || s === "error";
        },
        null,
        { timeout: 90_000, polling: 100 },
      );
      expect((await exposed(page)).csv.status).toBe("done");
      await page.waitForSelector('#csv-forecast-chart[data-shows="final"] svg', { timeout: 30_000 });
      expect(await page.$$eval("#csv-results table", (t) => t.length)).toBeGreaterThan(0);
      expect(await page.isEnabled("#ckpt-download")).toBe(true);
    };
    const expectCleared = async (why: string) => {
      const s = await exposed(page);
      expect(s.csv.result, why).toBeNull();
      expect(s.csv.status, why).toBe("idle");
      expect(await page.$$eval("#csv-results > *", (t) => t.length), why).toBe(0);
      for (const chart of ["csv-loss-chart", "csv-forecast-chart", "ckpt-chart"]) {
        expect(await page.$$eval(`#${chart} > *`, (t) => t.length), `${why}: #${chart}`).toBe(0);
      }
      expect(await page.isEnabled("#ckpt-download"), why).toBe(false);
      expect(await page.isEnabled("#ckpt-download-onnx"), why).toBe(false);
    };
    await train();
    // A file that is not a CSV: refused, and the old series' results go with it.
    await page.setInputFiles("#csv-file", {
      name: "image.csv",
      mimeType: "text/csv",
      buffer: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0x00, 0x0d, 0x0a]),
    });
    await page.waitForSelector("#csv-error:not([hidden])", { timeout: 30_000 });
    expect(await page.textContent("#csv-error")).toBe(
      "image.csv is not a text CSV file: it holds binary data",
    );
    await expectCleared("after a failed load");
    expect((await exposed(page)).csv.loaded).toBeNull();
    // Another series loaded: the same.
    await train();
    await page.setInputFiles("#csv-file", {
      name: "other.csv",
      mimeType: "text/csv",
      buffer: Buffer.from("month,sales\n2020-01,10\n2020-02,12\n2020-03,9\n2020-04,14\n"),
    });
    await page.waitForFunction(
      () =>
        (globalThis as unknown as { __playground: Exposed }).__playground.csv.loaded?.name === "other.csv",
      null,
      { timeout: 30_000 },
    );
    await expectCleared("after another series was loaded");
    expect(await page.isHidden("#csv-error")).toBe(true);
    await page.context().close();
  }, 240_000);

  it("a checkpoint loaded before any series says to load one first, naming the file", async () => {
    const page = await open(1280, 800);
    await page.setInputFiles("#ckpt-file", {
      name: "model.safetensors",
      mimeType: "application/octet-stream",
      buffer: Buffer.from([1, 2, 3]),
    });
    await page.waitForSelector("#ckpt-error:not([hidden])", { timeout: 30_000 });
    expect(await page.textContent("#ckpt-error")).toBe(
      "model.safetensors: load a series first (under “Forecast a CSV”, a shipped one or your own file): the checkpoint forecasts the series loaded there",
    );
    expect((await exposed(page)).csv.loaded).toBeNull();
    await page.context().close();
  }, 60_000);

  it("Tab reaches every enabled control once, in page order, each showing the focus; Enter runs a form", async () => {
    const page = await open(1280, 800);
    await page.click("#csv-load-dataset"); // a series loaded: the CSV form's controls are enabled
    await page.waitForFunction(
      () => (globalThis as unknown as { __playground: Exposed }).__playground.csv.loaded !== null,
      null,
      { timeout: 30_000 },
    );
    const expected = await page.$$eval("a[href], button, input, select", (els) =>
      els
        .filter((e) => !(e as HTMLButtonElement).disabled)
        .map((e, i) => e.id || `${e.tagName.toLowerCase()}[${(e as HTMLInputElement).name || i}]`),
    );
    // start from the top of the page: a click on the header's empty corner moves the Tab start there
    await page.mouse.click(2, 2);
    const visited: string[] = [];
    const unseen: string[] = [];
    for (let i = 0; i < expected.length; i++) {
      await page.keyboard.press("Tab");
      const { key, outline } = await page.evaluate(() => {
        const e = document.activeElement as HTMLElement;
        const all = Array.from(document.querySelectorAll("a[href], button, input, select")).filter(
          (x) => !(x as HTMLButtonElement).disabled,
        );
        const key = e.id || `${e.tagName.toLowerCase()}[${(e as HTMLInputElement).name || all.indexOf(e)}]`;
        // the file pickers are unseen: the label around them shows the focus
        const shown = e.classList.contains("picker") ? (e.closest("label") as HTMLElement) : e;
        return { key, outline: getComputedStyle(shown).outlineStyle };
      });
      visited.push(key);
      if (outline === "none") unseen.push(key);
    }
    expect(visited).toEqual(expected);
    expect(unseen, "controls whose focus does not show").toEqual([]);
    // Operable: a form run from the keyboard alone (values typed, Enter submits).
    await page.focus("#grad-form [name=seqLen]");
    await page.keyboard.press("ControlOrMeta+a");
    await page.keyboard.type("12");
    await page.keyboard.press("Tab");
    await page.keyboard.press("ControlOrMeta+a");
    await page.keyboard.type("6");
    await page.keyboard.press("Enter");
    await page.waitForFunction(
      () => {
        const s = (globalThis as unknown as { __playground: Exposed }).__playground.gradients.status;
        return s === "done" || s === "error";
      },
      null,
      { timeout: 60_000, polling: 100 },
    );
    expect((await exposed(page)).gradients.status).toBe("done");
    expect(await page.textContent("#grad-status")).toBe("Done: 12 steps, hidden size 6.");
    await page.context().close();
  }, 120_000);

  it("tabs to the CSV file picker and opens it with the keyboard; the chosen file is read", async () => {
    const page = await open(1280, 800);
    // Status lines are announced, progress bars named, file pickers reachable.
    for (const id of [
      "engine-status",
      "sine-status",
      "csv-status",
      "csv-info",
      "ckpt-info",
      "ckpt-status",
      "grad-status",
      "clip-status",
    ]) {
      const live = await page.$eval(
        `#${id}`,
        (e) => e.closest("[aria-live]")?.getAttribute("aria-live") ?? null,
      );
      expect(live, `#${id} is in a live region`).toBe("polite");
    }
    for (const id of ["sine-progress", "csv-progress", "ckpt-progress", "grad-progress", "clip-progress"]) {
      const name = await page.$eval(`#${id}`, (e) => e.getAttribute("aria-label") ?? "");
      expect(name, `#${id} has a name`).toMatch(/progress/);
    }
    // Tab from the top of the page until the CSV picker has the focus.
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    const visited: string[] = [];
    for (let i = 0; i < 80; i++) {
      await page.keyboard.press("Tab");
      const id = await page.evaluate(() => document.activeElement?.id ?? "");
      visited.push(id);
      if (id === "csv-file") break;
    }
    expect(visited.at(-1), `Tab visited: ${visited.join(" ")}`).toBe("csv-file");
    // The focused picker shows that it has the focus (an outline on its drop zone).
    const outline = await page.$eval("#csv-drop", (e) => getComputedStyle(e).outlineStyle);
    expect(outline).not.toBe("none");
    const text = "month,sales\n2020-01,10\n2020-02,12\n2020-03,9\n2020-04,14\n2020-05,15\n";
    const opened = choosers.get(page)!;
    expect(opened).toHaveLength(0);
    await page.keyboard.press("Enter");
    await expect.poll(() => opened.length, { timeout: 30_000, interval: 50 }).toBe(1);
    const chooser = opened[0];
    expect(chooser.element()).toBeTruthy();
    expect(await chooser.element().evaluate((e) => (e as HTMLElement).id)).toBe("csv-file");
    await chooser.setFiles({ name: "keyboard.csv", mimeType: "text/csv", buffer: Buffer.from(text) });
    await page.waitForFunction(
      () =>
        (globalThis as unknown as { __playground: Exposed }).__playground.csv.loaded?.name === "keyboard.csv",
      null,
      { timeout: 30_000 },
    );
    const s = await exposed(page);
    expect(s.csv.loaded?.rows).toBe(5);
    expect(s.csv.loaded?.header).toEqual(["month", "sales"]);
    // Onward by keyboard: the checkpoint picker is reachable too, and Space opens it.
    for (let i = 0; i < 80; i++) {
      await page.keyboard.press("Tab");
      if ((await page.evaluate(() => document.activeElement?.id ?? "")) === "ckpt-file") break;
    }
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("ckpt-file");
    await page.keyboard.press("Space");
    await expect.poll(() => opened.length, { timeout: 30_000, interval: 50 }).toBe(2);
    expect(await opened[1].element().evaluate((e) => (e as HTMLElement).id)).toBe("ckpt-file");
    expect(opened[1].isMultiple()).toBe(false);
    await page.context().close();
  }, 120_000);
});
