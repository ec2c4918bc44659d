// The library core must load in a browser unchanged: bundling the public entry for the browser
// platform must succeed with no Node built-in, and no file outside src/node may import one.

import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { describe, expect, it } from "vitest";

const SRC = join(import.meta.dirname, "..", "src");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

describe("browser-safe core", () => {
  it("bundles src/index.ts for the browser with no Node built-ins", async () => {
    const out = await build({
      entryPoints: [join(SRC, "index.ts")],
      bundle: true,
      platform: "browser",
      format: "esm",
      write: false,
      logLevel: "silent",
      metafile: true,
    });
    expect(out.errors).toEqual([]);
    const inputs = Object.keys(out.metafile.inputs);
    expect(inputs.some((p) => p.includes("src/node/"))).toBe(false);
    const code = out.outputFiles[0].text;
    expect(code).not.toMatch(
      /from\s*["']node:|require\(["'](node:)?(fs|path|os|child_process|worker_threads)["']\)/,
    );
  });

  it("a minified bundle still prints modules under PyTorch's names", async () => {
    const dir = mkdtempSync(join(tmpdir(), "recurrent-min-"));
    const file = join(dir, "min.mjs");
    await build({
      entryPoints: [join(SRC, "index.ts")],
      bundle: true,
      minify: true,
      platform: "browser",
      format: "esm",
      outfile: file,
      logLevel: "silent",
    });
    const lib = await import(pathToFileURL(file).href);
    expect(new lib.nn.LSTM(10, 20, { numLayers: 2 }).toString()).toBe("LSTM(10, 20, num_layers=2)");
    expect(new lib.nn.Sequential(new lib.nn.Linear(2, 3), new lib.nn.Tanh()).toString()).toBe(
      "Sequential(\n  (0): Linear(in_features=2, out_features=3, bias=True)\n  (1): Tanh()\n)",
    );
    expect(new lib.nn.MSELoss().toString()).toBe("MSELoss()");
  });

  it("imports node: only under src/node/", () => {
    const offenders = files(SRC)
      .filter((f) => !f.includes(`${join(SRC, "node")}`))
      .filter((f) => /from\s+["']node:|import\(["']node:/.test(readFileSync(f, "utf8")));
    expect(offenders).toEqual([]);
  });
});
