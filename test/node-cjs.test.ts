// `recurrent/node` from CommonJS: the package is built (tsc, as `npm run build` does) into a temporary
// node_modules/recurrent beside a `.cjs` program, which `require`s the Node entry by its package name,
// saves an LSTM's weights as a checkpoint and loads them back. The chart packages are not installed
// there (only the CSV parser is), so this also shows that the core loads without them and that asking
// for a chart names the package to install.

import { spawnSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

const ROOT = join(import.meta.dirname, "..");

describe("recurrent/node from CommonJS", () => {
  const dir = mkdtempSync(join(tmpdir(), "recurrent-cjs-"));
  const pkg = join(dir, "node_modules", "recurrent");

  beforeAll(() => {
    mkdirSync(pkg, { recursive: true });
    const build = spawnSync(
      process.execPath,
      [
        join(ROOT, "node_modules/typescript/bin/tsc"),
        "-p",
        join(ROOT, "tsconfig.build.json"),
        "--outDir",
        join(pkg, "dist"),
      ],
      { cwd: ROOT, encoding: "utf8", timeout: 300_000 },
    );
    expect(build.stdout + build.stderr).toBe("");
    expect(build.status).toBe(0);
    cpSync(join(ROOT, "package.json"), join(pkg, "package.json"));
    const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
    };
    // The runtime dependencies, linked from this checkout; the chart packages are left out.
    for (const name of Object.keys(manifest.dependencies)) {
      const target = join(dir, "node_modules", name);
      mkdirSync(join(target, ".."), { recursive: true });
      symlinkSync(join(ROOT, "node_modules", name), target, "dir");
    }
  }, 300_000);

  function runCjs(name: string, source: string) {
    const file = join(dir, name);
    writeFileSync(file, source);
    const r = spawnSync(process.execPath, ["--no-warnings", file], {
      cwd: dir,
      encoding: "utf8",
      timeout: 60_000,
    });
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  it("requires the built entry, saves a checkpoint and loads it back", () => {
    const r = runCjs(
      "save-load.cjs",
      `const { nn } = require("recurrent");
const { saveSafetensorsSync, loadSafetensors } = require("recurrent/node");
const path = require("node:path");
const a = new nn.LSTM(3, 4);
const file = path.join(__dirname, "lstm.safetensors");
saveSafetensorsSync(file, a.stateDict(), { note: "from cjs" });
loadSafetensors(file).then(({ tensors, metadata }) => {
  const b = new nn.LSTM(3, 4);
  const result = b.loadStateDict(tensors);
  const names = Object.keys(a.stateDict());
  const same = names.every((k) => JSON.stringify(a.stateDict()[k].tolist()) === JSON.stringify(b.stateDict()[k].tolist()));
  const differs = JSON.stringify(new nn.LSTM(3, 4).stateDict().weight_ih_l0.tolist()) !== JSON.stringify(a.stateDict().weight_ih_l0.tolist());
  console.log(JSON.stringify({ names, same, differs, metadata, missing: result.missingKeys, shape: b.stateDict().weight_ih_l0.shape }));
  process.exit(0);
});
`,
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out.names).toEqual(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]);
    expect(out.shape).toEqual([16, 3]);
    expect(out.same).toBe(true); // the loaded weights are the saved ones...
    expect(out.differs).toBe(true); // ...which a fresh model does not have by chance
    expect(out.missing).toEqual([]);
    expect((out.metadata as Record<string, string>).note).toBe("from cjs");
  });

  it("without the chart packages, drawing a chart names the package to install", () => {
    const r = runCjs(
      "chart.cjs",
      `const { renderSvg } = require("recurrent/node");
renderSvg({ data: { values: [{ a: 1 }] }, mark: "point" }).then(
  () => { console.log("drawn"); process.exit(0); },
  (e) => { console.log(e.message); process.exit(3); },
);
`,
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(3);
    expect(r.stdout).toContain("drawing charts needs the package vega, which is not installed");
    expect(r.stdout).toContain("npm install vega vega-lite @resvg/resvg-wasm dejavu-fonts-ttf");
  });
});
