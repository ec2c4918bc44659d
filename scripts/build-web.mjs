#!/usr/bin/env node
// Builds the browser playground with esbuild: web/src/main.ts (the page; vega and vega-lite for the
// charts in chunks loaded after the first paint), web/src/worker.ts (training) and
// web/src/parse-worker.ts (reading CSV files) into web/dist/, minified (keeping class names, which
// the modules' printed form uses), with source maps. Then prints the bundle sizes, and the size of the
// library alone: src/index.ts bundled for the browser the same way, minified and gzipped (what an
// application pays for `import ... from "recurrent"`).
//
//   node scripts/build-web.mjs          build and print the sizes
//   node scripts/build-web.mjs --json   the sizes as JSON on stdout

import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = join(ROOT, "web", "dist");

const common = {
  bundle: true,
  platform: "browser",
  format: "esm",
  target: "es2022",
  minify: true,
  legalComments: "none",
  logLevel: "warning",
  metafile: true,
};

/**
 * Lets esbuild drop the library modules a bundle does not use. The library's modules do work at load
 * time (tables, the WebAssembly bytes), so esbuild keeps every module the public entry reaches unless it
 * is told that loading one has no effect worth keeping. Used for the page and the CSV reader, which take
 * a few pieces of the library (the chart specs; CSV parsing); not for the training worker.
 */
const pureLibrary = {
  name: "pure-library",
  setup(b) {
    const src = join(ROOT, "src") + "/";
    b.onResolve({ filter: /^\.\.?\// }, async (args) => {
      if (args.pluginData === "pure-library") return undefined;
      const r = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: "pure-library",
      });
      if (r.errors.length > 0 || !r.path.startsWith(src)) return undefined;
      return { path: r.path, sideEffects: false };
    });
  },
};

const gz = (bytes) => gzipSync(bytes, { level: 9 }).length;

/**
 * Writes each output to a temporary file and renames it into place, so that a server reading web/dist
 * while another build runs (two end-to-end test files at once) sees a whole old file or a whole new one.
 */
function writeAtomically(files) {
  for (const f of files) {
    const tmp = `${f.path}.${process.pid}.tmp`;
    writeFileSync(tmp, f.contents);
    renameSync(tmp, f.path);
  }
}

/** Builds the page and the worker, and measures the library bundle; returns the sizes in bytes. */
export async function buildWeb() {
  mkdirSync(OUT, { recursive: true });
  const t0 = performance.now();
  // The page (vega, vega-lite, the chart specs) and the worker (the library). Module.toString() prints
  // the class name (LSTM(1, 16)) from constructor.name, so code holding the library keeps its names.
  // splitting: the chart libraries, imported dynamically by charts.ts, become chunks of their own
  // (chunk-*.js), loaded after the first paint; main.js is what the page needs to show its forms.
  const page = await build({
    ...common,
    splitting: true,
    chunkNames: "chunk-[hash]",
    plugins: [pureLibrary],
    entryPoints: { main: join(ROOT, "web/src/main.ts") },
    outdir: OUT,
    sourcemap: "linked",
    write: false,
  });
  writeAtomically(page.outputFiles);
  const worker = await build({
    ...common,
    keepNames: true,
    entryPoints: {
      worker: join(ROOT, "web/src/worker.ts"),
      "pool-worker": join(ROOT, "web/src/pool-worker.ts"),
      // the ONNX download's writer, imported by the page when the button is first pressed
      onnx: join(ROOT, "web/src/onnx.ts"),
    },
    outdir: OUT,
    sourcemap: "linked",
    write: false,
  });
  writeAtomically(worker.outputFiles);
  // The CSV reader: the page's parse worker, with only the library's CSV and date code.
  const parser = await build({
    ...common,
    plugins: [pureLibrary],
    entryPoints: { "parse-worker": join(ROOT, "web/src/parse-worker.ts") },
    outdir: OUT,
    sourcemap: "linked",
    write: false,
  });
  writeAtomically(parser.outputFiles);
  const outputs = { ...page.metafile.outputs, ...worker.metafile.outputs, ...parser.metafile.outputs };
  // The library alone, as an application would bundle it: nothing written, only measured.
  const lib = await build({
    ...common,
    keepNames: true,
    entryPoints: [join(ROOT, "src/index.ts")],
    write: false,
  });
  const libBytes = lib.outputFiles[0].contents;
  const nodeInputs = Object.keys(lib.metafile.inputs).filter(
    (p) => p.includes("src/node/") || p.startsWith("node:"),
  );
  if (nodeInputs.length > 0)
    throw new Error(`the library bundle pulls in Node-only code: ${nodeInputs.join(", ")}`);
  const sizes = [];
  for (const [file, out] of Object.entries(outputs)) {
    if (file.endsWith(".map")) continue;
    const bytes = await readFile(join(ROOT, file));
    sizes.push({
      file: relative(ROOT, join(ROOT, file)),
      bytes: bytes.length,
      gzip: gz(bytes),
      inputs: Object.keys(out.inputs).length,
    });
  }
  // What the page loads before it can paint: main.js and the chunks it imports statically (the chart
  // libraries and the ONNX writer are dynamic imports, loaded later).
  const firstLoad = new Set();
  const visit = (file) => {
    if (firstLoad.has(file)) return;
    firstLoad.add(file);
    for (const i of page.metafile.outputs[file]?.imports ?? []) {
      if (i.kind === "import-statement") visit(i.path);
    }
  };
  visit(relative(process.cwd(), join(OUT, "main.js")));
  let firstBytes = 0;
  let firstGzip = 0;
  for (const file of firstLoad) {
    const s = sizes.find((x) => join(ROOT, x.file) === join(process.cwd(), file));
    if (s === undefined) throw new Error(`build-web: no size for ${file}`);
    firstBytes += s.bytes;
    firstGzip += s.gzip;
  }
  sizes.push({
    file: `before first paint (main.js + ${firstLoad.size - 1} chunk(s))`,
    bytes: firstBytes,
    gzip: firstGzip,
    inputs: 0,
  });
  sizes.push({
    file: "src/index.ts (library only)",
    bytes: libBytes.length,
    gzip: gz(libBytes),
    inputs: Object.keys(lib.metafile.inputs).length,
  });
  return { seconds: (performance.now() - t0) / 1000, sizes };
}

const kb = (n) => `${(n / 1024).toFixed(1)} KiB`.padStart(11);

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    const r = await buildWeb();
    if (process.argv.includes("--json")) {
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    } else {
      const w = Math.max(...r.sizes.map((s) => s.file.length));
      const lines = [
        `built web/dist in ${r.seconds.toFixed(2)} s (minified)`,
        `${"bundle".padEnd(w)}  ${"minified".padStart(11)}  ${"gzip -9".padStart(11)}`,
        ...r.sizes.map((s) => `${s.file.padEnd(w)}  ${kb(s.bytes)}  ${kb(s.gzip)}`),
        "serve it: npm run web (or node scripts/serve-web.mjs), then open http://127.0.0.1:5173/",
      ];
      process.stdout.write(`${lines.join("\n")}\n`);
    }
  } catch (e) {
    process.stderr.write(`build-web: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
