// The WebGPU device in a browser: test/webgpu/browser-entry.ts, bundled for the browser, runs in headless
// Chromium on navigator.gpu and compares the device's tanh(A·B) and sigmoid(a)·a with the CPU ops.
// Chromium's flag: --enable-unsafe-webgpu (Linux has WebGPU behind it); with no GPU, Chromium 156 falls
// back to its own SwiftShader adapter by itself. Needs /usr/bin/chromium; skipped without it unless
// RECURRENT_REQUIRE_E2E=1, and skipped without a WebGPU adapter unless RECURRENT_REQUIRE_WEBGPU=1.

import { existsSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { build } from "esbuild";
import { chromium } from "playwright-core";
import { describe, expect, it } from "vitest";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_WEBGPU_FLAGS = ["--enable-unsafe-webgpu"];

describe("WebGPU in Chromium", { timeout: 180_000 }, () => {
  it("runs device ops from navigator.gpu with the CPU's values", async (ctx) => {
    if (!existsSync(CHROMIUM)) {
      if (process.env.RECURRENT_REQUIRE_E2E)
        expect.fail(`${CHROMIUM} is missing but RECURRENT_REQUIRE_E2E is set`);
      ctx.skip(`${CHROMIUM} is not installed`);
      return;
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
    // navigator.gpu needs a secure context: a page from 127.0.0.1
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
      const r = (await page.evaluate("globalThis.runWebGPU()")) as Record<string, unknown>;
      if ("unavailable" in r) {
        if (process.env.RECURRENT_REQUIRE_WEBGPU === "1")
          expect.fail(`WebGPU unavailable in Chromium: ${r.unavailable}`);
        ctx.skip(`WebGPU unavailable in Chromium: ${r.unavailable}`);
        return;
      }
      expect(r.err).toBeLessThan(1e-6);
      expect(r.devices).toEqual(["cpu", "webgpu"]);
      expect(r.mixed).toContain(
        "Expected all tensors to be on the same device, but found at least two devices, webgpu and cpu!",
      );
      expect((r.stats as { dispatches: number }).dispatches).toBe(4);
    } finally {
      await browser.close();
      server.close();
    }
  });
});
