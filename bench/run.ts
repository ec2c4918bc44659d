// `npm run bench`: runs W1–W4 for this project and, side by side in the same run, for its peers: PyTorch
// (through /usr/bin/python3 when it has torch), TensorFlow.js on its cpu and wasm backends, brain.js, and
// onnxruntime-node for W3 (when it can be loaded, see bench/peers/onnx.ts). Each peer runs in its own child
// process (one crash costs only its cell) and prints one JSON line. Prints one table of medians with our
// speed-up over each peer, then the notes on where a peer's API forces a difference; writes
// bench/results.json. `--quick` for a short run, `--only w1,w3` to pick workloads, `--peers torch,tfjs-cpu,
// tfjs-wasm,brain,onnx` to pick peers; `--no-threads`, `--no-heap`, `--no-memory` drop the sections under the
// table (the W2 peak memory against PyTorch's runs when W2 does).

import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import "../src/node/relaxed-simd.js"; // Node 20: the kernels' relaxed-SIMD build, as the Node entry runs it
import { getKernels, setNumThreads, shutdownPool } from "../src/kernels/backend.js";
import { machineInfo, machineLine, nativePeak, nativePeakLine } from "./machine.js";
import { type ThreadsRow, threadsRows } from "./threads.js";
import { lstmStepFlops, W2_DIMS, w1, w2, w3, w3Module, w3Onnx, w4, w6 } from "./workloads.js";

// The main table is single-threaded, like PyTorch's 1-thread column; both cores are measured below it.
setNumThreads(1);

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const argValue = (name: string) =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ??
  (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : undefined);
const onlyArg = argValue("only");
const only = onlyArg ? new Set(onlyArg.split(",")) : null;
const peersArg = argValue("peers");
const peerFilter = peersArg ? new Set(peersArg.split(",")) : null;
const RUNS = quick ? 1 : 3;
const PY = "/usr/bin/python3";
const PEERS = join(import.meta.dirname, "peers");
/** a peer child that takes longer than this is killed and its cell left empty */
const PEER_TIMEOUT_MS = 5 * 60_000;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function hasTorch(): boolean {
  if (!existsSync(PY)) return false;
  try {
    execFileSync(PY, ["-c", "import torch"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** What a peer child prints (its last stdout line). */
interface PeerOut {
  runs?: number[];
  unit?: string;
  measured?: string;
  skipped?: string;
  [k: string]: unknown;
}

/**
 * Runs one peer child; null (and a message on stderr) when it fails, times out or skips. `needRuns`: its
 * line must hold timings (the memory children's lines do not).
 */
function peerRun(label: string, cmd: string, cmdArgs: string[], needRuns = true): PeerOut | null {
  try {
    const out = execFileSync(cmd, cmdArgs, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
      timeout: PEER_TIMEOUT_MS,
      maxBuffer: 16 << 20,
    });
    const res = JSON.parse(out.trim().split("\n").pop()!) as PeerOut;
    if (res.skipped) {
      console.error(`${label} skipped: ${res.skipped}`);
      return null;
    }
    if (needRuns && (!Array.isArray(res.runs) || res.runs.length === 0))
      throw new Error(`no runs in ${JSON.stringify(res)}`);
    return res;
  } catch (e) {
    const err = e as Error & { stderr?: string };
    const tail = (err.stderr ?? "").trim().split("\n").slice(-3).join(" | ").slice(0, 400);
    console.error(`${label} failed: ${err.message.split("\n")[0]}${tail ? ` — ${tail}` : ""}`);
    return null;
  }
}

const torchRun = (workload: string, threads: number) =>
  peerRun(`PyTorch ${workload} (${threads} thread${threads > 1 ? "s" : ""})`, PY, [
    join(PEERS, "torch_bench.py"),
    workload,
    "--threads",
    String(threads),
    "--runs",
    String(RUNS),
    ...(quick ? ["--quick"] : []),
  ]);

/** A TypeScript peer in its own Node process (tsx as the loader, as `npm run bench` itself uses). */
const nodePeer = (label: string, script: string, workload: string, extra: string[] = []) =>
  peerRun(`${label} ${workload}`, process.execPath, [
    "--import",
    "tsx",
    join(PEERS, script),
    workload,
    "--runs",
    String(RUNS),
    ...(quick ? ["--quick"] : []),
    ...extra,
  ]);

interface Row {
  /** w1, w2, w3, w4-256, w4-1024 */
  id: string;
  workload: string;
  unit: string;
  higherIsBetter: boolean;
  ours: number;
  ourRuns: number[];
  peers: Record<string, number | null>;
  /** per peer: how much it measured (when not the same as ours) */
  measured: Record<string, string>;
}

const rows: Row[] = [];
const torch = hasTorch();
const want = (w: string) => only === null || only.has(w);
const usePeer = (p: string) => peerFilter === null || peerFilter.has(p);

/** The notes printed under the table: where a peer's API or budget forces a difference. */
const NOTES: Record<string, string> = {
  "tfjs-cpu":
    "tfjs cpu/wasm (tfjs 4.22, Layers API, bench/peers/tfjs.ts): W1 simpleRNN + dense via optimizer.minimize, state passed back as initialState; W2 two stacked tf.layers.lstm(returnSequences), 1 warm-up step; W3 tf.layers.lstm(returnState) one step at a time. Both backends run fewer W1/W3 iterations than ours and are normalized per iteration (W1 scaled to the row's iteration count). tfjs-node (the native backend) is not used: it needs a native build/download.",
  brain:
    "brain.js 1.6.1 (the registry's latest; 2.0 betas need gpu.js 2 → headless-gl, a native build), bench/peers/brain.ts: W1 RNNTimeStep(1,[16],1) trained one window per trainPattern(): relu cell, its own RMSProp-style trainer at lr 0.001 (lr 0.01 diverges), state reset every window — not the same optimisation, only a comparable amount of work. W3 LSTMTimeStep(1,[64],1).forecast(): same stream, but it allocates one unrolled step object per forecast step. No W2 (time-step nets map a vector to the next vector, no batch) and no W4 (no matmul API).",
  w3: "W3: recurrent's row is a Streamer (src/nn/streamer.ts: weights snapshot resident in WebAssembly memory, one step per call), the analogue of onnxruntime's InferenceSession; the row below it runs the same stream through lstm.forward + head.forward per step, as PyTorch's side does (its PyTorch cell repeats the same PyTorch figure).",
  w4: `W4: tensor matmul on ${getKernels().detail}${getKernels().detail === "wasm-relaxed-simd" ? " (fused multiply-adds, 6-row register tile)" : getKernels().detail === "wasm-simd" ? " (separate multiply and add, 4-row register tile)" : ""}, copies into and out of WebAssembly memory included. Node 22+ and Chrome 114+ run the relaxed-SIMD build by default; Node 20 once src/node/relaxed-simd.ts has set --experimental-wasm-relaxed-simd (the Node entry does; RECURRENT_WASM_RELAXED=0 does not).`,
  onnx: "onnxruntime (bench/peers/onnx.ts: onnxruntime-node when installed, else onnxruntime-web's WebAssembly backend), running the file our exporter writes for the same LSTM(1→64)+Linear with the same weights (ONNX's LSTM operator, one step with state inputs/outputs): one awaited InferenceSession.run() per step, 1 intra-op thread.",
};
const notesUsed = new Set<string>();

/** Runs the JS peers of one workload into `peers`/`measured`. */
function jsPeers(
  workload: string,
  peers: Record<string, number | null>,
  measured: Record<string, string>,
  which: { brain?: boolean; onnxModel?: string | null; tfjsExtra?: string[]; brainExtra?: string[] },
): void {
  const put = (name: string, note: string, res: PeerOut | null) => {
    peers[name] = res?.runs ? median(res.runs) : Number.NaN;
    if (res?.measured) measured[name] = res.measured;
    notesUsed.add(note);
  };
  for (const backend of ["wasm", "cpu"]) {
    if (!usePeer(`tfjs-${backend}`) && !usePeer("tfjs")) continue;
    const res = nodePeer(`tfjs-${backend}`, "tfjs.ts", workload, [
      "--backend",
      backend,
      ...(which.tfjsExtra ?? []),
    ]);
    put(`tfjs-${backend}`, "tfjs-cpu", res);
  }
  if (which.brain && usePeer("brain"))
    put("brain.js", "brain", nodePeer("brain.js", "brain.ts", workload, which.brainExtra));
  if (which.onnxModel !== undefined && usePeer("onnx")) {
    const res = which.onnxModel
      ? nodePeer("onnxruntime", "onnx.ts", workload, ["--model", which.onnxModel])
      : null;
    put("onnxruntime 1 thread", "onnx", res);
  }
}

/** The W3 model for onnxruntime, written by our exporter (io.exportOnnx's pieces) into a temporary folder. */
function exportOnnx(dir: string): string | null {
  const path = join(dir, "w3.onnx");
  try {
    writeFileSync(path, w3Onnx());
    return path;
  } catch (e) {
    console.error(`onnx export failed: ${(e as Error).message.split("\n")[0]}`);
    return null;
  }
}

const torchPeers = (workload: string, threads: number[]): Record<string, number | null> => {
  const out: Record<string, number | null> = {};
  if (!torch || !usePeer("torch")) return out;
  for (const t of threads)
    out[`PyTorch ${t} thread${t > 1 ? "s" : ""}`] = median(torchRun(workload, t)?.runs ?? [Number.NaN]);
  return out;
};

if (want("w1")) {
  const iters = quick ? 1000 : 6000;
  w1(quick ? 300 : 2000); // warm-up, not timed: JIT and WebAssembly tier-up settle over ~2000 iterations (PyTorch warms up alike)
  const runs = Array.from({ length: RUNS }, () => w1(iters).seconds);
  rows.push({
    id: "w1",
    workload: `W1 sine training (${iters} iters)`,
    unit: "s",
    higherIsBetter: false,
    ours: median(runs),
    ourRuns: runs,
    peers: torchPeers("w1", [1, 2]),
    measured: {},
  });
  const r = rows[rows.length - 1];
  jsPeers("w1", r.peers, r.measured, {
    brain: true,
    tfjsExtra: ["--iters", String(iters)],
    brainExtra: ["--iters", String(iters)],
  });
}
if (want("w2")) {
  const runs = w2(quick ? 3 : 10);
  rows.push({
    id: "w2",
    workload: "W2 LSTM(8→128, 2 layers) train step, B=32, T=50",
    unit: "ms/step",
    higherIsBetter: false,
    ours: median(runs),
    ourRuns: runs,
    peers: torchPeers("w2", [1, 2]),
    measured: {},
  });
  const r = rows[rows.length - 1];
  jsPeers("w2", r.peers, r.measured, {});
}
if (want("w3")) {
  const runs = Array.from({ length: RUNS }, () => w3(quick ? 2000 : 20000));
  rows.push({
    id: "w3",
    workload: "W3 streaming LSTM(1→64)+Linear inference",
    unit: "µs/step",
    higherIsBetter: false,
    ours: median(runs),
    ourRuns: runs,
    peers: torchPeers("w3", [1]),
    measured: {},
  });
  const r = rows[rows.length - 1];
  const dir = usePeer("onnx") ? mkdtempSync(join(tmpdir(), "recurrent-bench-")) : null;
  try {
    jsPeers("w3", r.peers, r.measured, { brain: true, onnxModel: dir ? exportOnnx(dir) : undefined });
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
  // the same stream through lstm.forward + head.forward per step, beside PyTorch's module calls (same figure)
  const mruns = Array.from({ length: RUNS }, () => w3Module(quick ? 2000 : 20000));
  const torchW3 = Object.fromEntries(Object.entries(r.peers).filter(([k]) => k.startsWith("PyTorch")));
  rows.push({
    id: "w3-module",
    workload: "W3 the same, through module calls",
    unit: "µs/step",
    higherIsBetter: false,
    ours: median(mruns),
    ourRuns: mruns,
    peers: torchW3,
    measured: {},
  });
  notesUsed.add("w3");
}
for (const n of [256, 1024]) {
  if (!want("w4") && !want(`w4-${n}`)) continue;
  const runs = Array.from({ length: RUNS }, () => w4(n, n <= 256 ? 20 : quick ? 1 : 3));
  rows.push({
    id: `w4-${n}`,
    workload: `W4 matmul ${n}³`,
    unit: "GFLOP/s",
    higherIsBetter: true,
    ours: median(runs),
    ourRuns: runs,
    peers: torchPeers(`w4-${n}`, [1, 2]),
    measured: {},
  });
  const r = rows[rows.length - 1];
  jsPeers(`w4-${n}`, r.peers, r.measured, {});
  notesUsed.add("w4");
}
if (want("w6")) {
  const runs = w6(quick ? 3 : 10);
  rows.push({
    id: "w6",
    workload: "W6 char LM train step: Embedding(65,64), LSTM(64→256, 2 layers), B=32, T=64, Adam",
    unit: "ms/step",
    higherIsBetter: false,
    ours: median(runs),
    ourRuns: runs,
    peers: torchPeers("w6", [1]),
    measured: {},
  });
}

// W5 (bench/w5.ts): LSTM(64→512, 2 layers), B=256, T=100, the compute-bound training step; 2 steps, each
// side in a fresh process that also reports its peak resident set (baseline: the runtime with the library
// loaded). Ours at 1 thread (the table's column), PyTorch at 1 and 2.
interface W5Side {
  label: string;
  res: PeerOut;
}
const w5Sides: W5Side[] = [];
if (want("w5")) {
  const steps = ["--steps", "2", ...(quick ? ["--seq", "10"] : [])];
  const ours = peerRun("recurrent W5", process.execPath, [
    "--import",
    "tsx",
    join(import.meta.dirname, "w5.ts"),
    "--threads",
    "1",
    ...steps,
  ]);
  if (ours) w5Sides.push({ label: "recurrent 1 thread", res: ours });
  const peers: Record<string, number | null> = {};
  for (const t of torch && usePeer("torch") ? [1, 2] : []) {
    const name = `PyTorch ${t} thread${t > 1 ? "s" : ""}`;
    const res = peerRun(`PyTorch W5 (${name})`, PY, [
      join(PEERS, "torch_bench.py"),
      "w5",
      "--threads",
      String(t),
      ...steps,
    ]);
    peers[name] = res?.runs ? median(res.runs) : Number.NaN;
    if (res) w5Sides.push({ label: name, res });
  }
  rows.push({
    id: "w5",
    workload: `W5 LSTM(64→512, 2 layers) train step, B=256, T=${quick ? 10 : 100}`,
    unit: "ms/step",
    higherIsBetter: false,
    ours: ours?.runs ? median(ours.runs) : Number.NaN,
    ourRuns: ours?.runs ?? [],
    peers,
    measured: {},
  });
}

// Honest anchors: which BLAS PyTorch's matrix product runs on (Debian's python3-torch uses whatever
// libblas.so.3 is installed: the reference BLAS, ~3 GFLOP/s, unless libopenblas0-pthread is), and this
// machine's CPU, SIMD flags and one core's measured 128-bit FMA peak, printed beside the table.
interface BlasAnchor {
  kind?: string;
  blas_info?: string;
  libraries?: string[];
  gflops_wall?: number;
  gflops_cpu?: number;
  /** OpenBLAS's own pick of kernels and the one the peer ran (torch_bench.py names one where the pick predates AVX2 on an AVX2 CPU) */
  openblas_core?: { detected: string | null; used: string | null; set_by: string };
}
const blas: BlasAnchor | null =
  torch && usePeer("torch")
    ? (peerRun(
        "PyTorch BLAS anchor",
        PY,
        [join(PEERS, "torch_bench.py"), "anchor"],
        false,
      ) as BlasAnchor | null)
    : null;
/** 512³ on one thread per CPU-second: OpenBLAS ~50–120 on a current core, the reference BLAS ~3. */
const BLAS_MIN_GFLOPS = 10;
const blasBad =
  blas !== null && (blas.kind === "reference" || (blas.gflops_cpu ?? 0) < BLAS_MIN_GFLOPS)
    ? `!!! PyTorch's matrix product runs on ${blas.kind === "reference" ? "the REFERENCE BLAS" : "a slow BLAS"} (${(blas.libraries ?? []).find((l) => /libblas/.test(l)) ?? blas.blas_info}, 512³ at ${(blas.gflops_cpu ?? 0).toFixed(1)} GFLOP/s per CPU-second, under ${BLAS_MIN_GFLOPS}): its compute-bound figures are not what a PyTorch user gets. Install an optimized BLAS: apt-get install -y libopenblas0-pthread !!!`
    : null;
function openblasCoreNote(c: BlasAnchor["openblas_core"]): string {
  if (!c?.used) return "";
  if (c.set_by === "torch_bench.py")
    return `; OpenBLAS's kernels: ${c.used}, named by torch_bench.py through OPENBLAS_CORETYPE because OpenBLAS took this CPU for ${c.detected}, a core without AVX2, though the CPU has it (a pip wheel's MKL would pick by the flags)`;
  return `; OpenBLAS's kernels: ${c.used}${c.set_by === "caller" ? " (OPENBLAS_CORETYPE set by the caller)" : ""}`;
}
const blasLine =
  blas === null
    ? "PyTorch's BLAS: not checked (PyTorch not run)"
    : `PyTorch's BLAS: ${blas.kind} (${(blas.libraries ?? []).map((l) => l.split("/").slice(-2).join("/")).join(", ") || blas.blas_info}); 512³ on 1 thread ${(blas.gflops_cpu ?? 0).toFixed(1)} GFLOP/s per CPU-second, ${(blas.gflops_wall ?? 0).toFixed(1)} wall-clock${openblasCoreNote(blas.openblas_core)}`;
const machine = machineInfo(quick ? 3 : 5);
const native = nativePeak();

const fmt = (v: number | null) =>
  v === null || Number.isNaN(v) ? "—" : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toPrecision(3);
const peerNames = [...new Set(rows.flatMap((r) => Object.keys(r.peers)))];
const header = [
  "workload",
  "unit",
  "recurrent",
  ...peerNames.map((p) => (blasBad && p.startsWith("PyTorch") ? `${p} (REFERENCE BLAS!)` : p)),
];
const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
for (const r of rows) {
  const cells = [r.workload, r.unit, fmt(r.ours)];
  for (const p of peerNames) {
    const v = r.peers[p] ?? null;
    // speed-up: how many times faster we are (for times: peer / ours; for rates: ours / peer)
    cells.push(
      v === null || Number.isNaN(v)
        ? "—"
        : `${fmt(v)} (${(r.higherIsBetter ? r.ours / v : v / r.ours).toFixed(2)}×)`,
    );
  }
  lines.push(`| ${cells.join(" | ")} |`);
}
const table = lines.join("\n");
console.log(
  `\nrecurrent benchmark — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores (${cpus()[0]?.model ?? "?"}), Node ${process.version}${quick ? ", --quick" : ""}; medians of ${RUNS} run(s); "×" = times faster than the peer\n`,
);
console.log(`${machineLine(machine)}\n${nativePeakLine(native, machine)}\n${blasLine}\n`);
if (blasBad) console.log(`${blasBad}\n`);
console.log(table);
if (blasBad) console.log(`\n${blasBad}`);
const w4Row = rows.find((r) => r.id === "w4-1024") ?? rows.find((r) => r.id === "w4-256");
if (w4Row)
  console.log(
    `\n${w4Row.workload}: ${fmt(w4Row.ours)} GFLOP/s (wall-clock) = ${((100 * w4Row.ours) / machine.peakCpu).toFixed(0)} % of one core's measured 128-bit peak (${machine.peakCpu.toFixed(1)} GFLOP/s per CPU-second with ${machine.peakOp}; ${((100 * w4Row.ours) / machine.peakWall).toFixed(0)} % of the peak loop's own wall-clock rate, ${machine.peakWall.toFixed(1)}, on a loaded machine)`,
  );
// W2's floor: its matrix products' flops at one core's 128-bit peak (the larger of the WebAssembly and the
// native 128-bit figure, so the floor is the lower one) against what PyTorch's BLAS did on one thread.
const w2Row = rows.find((r) => r.id === "w2");
let w2Floor: {
  gflop: number;
  peak128: number;
  floor_ms: number;
  ours_gflops: number;
  torch_gflops: number | null;
} | null = null;
if (w2Row) {
  const gflop = lstmStepFlops(W2_DIMS) / 1e9;
  const peak128 = Math.max(machine.peakCpu, native?.fma128 ?? 0);
  const pt = w2Row.peers["PyTorch 1 thread"] ?? null;
  w2Floor = {
    gflop,
    peak128,
    floor_ms: (gflop / peak128) * 1e3,
    ours_gflops: gflop / (w2Row.ours / 1e3),
    torch_gflops: pt === null || Number.isNaN(pt) ? null : gflop / (pt / 1e3),
  };
  console.log(
    `\nW2 floor: a step is ${gflop.toFixed(3)} GFLOP of matrix products (forward and backward; bench/workloads.ts lstmStepFlops). ` +
      `At one core's 128-bit peak, ${peak128.toFixed(1)} GFLOP/s, no 128-bit kernel can take less than ${w2Floor.floor_ms.toFixed(1)} ms. ` +
      `recurrent, 1 thread: ${fmt(w2Row.ours)} ms = ${w2Floor.ours_gflops.toFixed(1)} GFLOP/s (${((100 * w2Floor.ours_gflops) / peak128).toFixed(0)} % of that peak)` +
      (w2Floor.torch_gflops === null
        ? "."
        : `; PyTorch, 1 thread: ${fmt(pt)} ms = ${w2Floor.torch_gflops.toFixed(1)} GFLOP/s (${((100 * w2Floor.torch_gflops) / peak128).toFixed(0)} % of the 128-bit peak${
            native?.fma512 || native?.fma256
              ? `, ${((100 * w2Floor.torch_gflops) / (native.fma512 ?? native.fma256 ?? 1)).toFixed(0)} % of the ${native.fma512 ? "512" : "256"}-bit one`
              : ""
          }).` +
          (pt !== null && pt < w2Floor.floor_ms
            ? " PyTorch is below the 128-bit floor: on this CPU, matching it on one thread needs wider lanes than WebAssembly has."
            : "")),
  );
}
const notes = [
  "Each peer cell is the peer's median and, in brackets, how many times faster recurrent is; — = not run, no equivalent, or failed (see stderr).",
  ...[...notesUsed].map((k) => NOTES[k]),
];
const measuredNotes = rows.flatMap((r) => Object.entries(r.measured).map(([p, m]) => `${r.id} ${p}: ${m}`));
if (measuredNotes.length) notes.push(`Peers' own amounts of work: ${measuredNotes.join("; ")}.`);
console.log(`\nNotes:\n${notes.map((n) => `- ${n}`).join("\n")}`);
if (w5Sides.length > 0) {
  const mib = (kib: unknown) => (Number(kib) / 1024).toFixed(0);
  console.log(
    `\nW5 peak resident set over ${w5Sides[0].res.runs?.length ?? 2} steps, each side in a fresh process: ${w5Sides
      .map(
        ({ label, res }) =>
          `${label} ${mib(res.peak_kib)} MiB (+${mib(Number(res.peak_kib) - Number(res.baseline_kib))} over its ${mib(res.baseline_kib)} MiB start-up)`,
      )
      .join("; ")}`,
  );
}
// Both cores: our W2 and W4 at 1 and 2 threads (the table above is single-threaded, as PyTorch's 1-thread column).
let threads: ThreadsRow[] | null = null;
if (!args.includes("--no-threads") && (only === null || only.has("w2") || only.has("w4"))) {
  threads = threadsRows(RUNS);
  console.log("\nrecurrent on both cores (src/kernels/pool.ts):\n");
  console.log("| workload | unit | 1 thread | 2 threads | speed-up |\n|---|---|---|---|---|");
  for (const r of threads) {
    const up = r.unit === "GFLOP/s" ? r.two / r.one : r.one / r.two;
    console.log(`| ${r.workload} | ${r.unit} | ${fmt(r.one)} | ${fmt(r.two)} | ${up.toFixed(2)}× |`);
  }
  shutdownPool();
}
// Steady state allocates nothing that lives on: heap after 10,000 W1 iterations vs after 1,000 (after GC).
let heap: { heap_after_1000: number; heap_after_10000: number; ratio: number } | null = null;
if (!args.includes("--no-heap") && (only === null || only.has("w1"))) {
  const out = execFileSync(
    process.execPath,
    ["--expose-gc", "--import", "tsx", join(import.meta.dirname, "heap.ts")],
    {
      encoding: "utf8",
    },
  );
  heap = JSON.parse(out.trim().split("\n").pop()!);
  const mb = (b: number) => (b / 2 ** 20).toFixed(2);
  console.log(
    `\nheap in use after GC, W1 training: ${mb(heap!.heap_after_1000)} MiB after 1,000 iterations, ${mb(heap!.heap_after_10000)} MiB after 10,000 (${((heap!.ratio - 1) * 100).toFixed(1)}%)`,
  );
}
// Peak memory of W2, each side in a fresh process (bench/memory.ts; torch_bench.py w2 --memory): the resident
// set after start-up (runtime and library loaded: the baseline) and its peak over the same training steps.
interface MemoryRow {
  side: string;
  threads: number;
  steps: number;
  baseline_mib: number;
  peak_mib: number;
  /** peak − baseline: what the work itself costs */
  increase_mib: number;
  peak_first_step_mib: number;
  /** the peak was reset at the baseline (start-up transients excluded) */
  hwm_reset: boolean;
}
let memory: {
  steps: number;
  rows: MemoryRow[];
  /** recurrent 1 thread / PyTorch 1 thread */
  ratio_peak: number | null;
  ratio_increase: number | null;
  note: string;
} | null = null;
if (!args.includes("--no-memory") && want("w2")) {
  const steps = quick ? 5 : 20;
  const mib = (kib: unknown) => Number(kib) / 1024;
  const toRow = (side: string, res: PeerOut | null): MemoryRow | null =>
    res === null
      ? null
      : {
          side,
          threads: Number(res.threads),
          steps: Number(res.steps),
          baseline_mib: mib(res.baseline_kib),
          peak_mib: mib(res.peak_kib),
          increase_mib: mib(res.peak_kib) - mib(res.baseline_kib),
          peak_first_step_mib: mib(res.peak_first_step_kib),
          hwm_reset: res.hwm_reset === true,
        };
  const ours = (t: number) =>
    toRow(
      "recurrent",
      peerRun(
        `recurrent W2 memory (${t} thread${t > 1 ? "s" : ""})`,
        process.execPath,
        [
          "--import",
          "tsx",
          join(import.meta.dirname, "memory.ts"),
          "--threads",
          String(t),
          "--steps",
          String(steps),
        ],
        false,
      ),
    );
  const one = ours(1);
  const two = ours(2);
  const pt =
    torch && usePeer("torch")
      ? toRow(
          "PyTorch",
          peerRun(
            "PyTorch W2 memory (1 thread)",
            PY,
            [join(PEERS, "torch_bench.py"), "w2", "--memory", "--steps", String(steps), "--threads", "1"],
            false,
          ),
        )
      : null;
  const m = (v: number) => v.toFixed(0);
  const cell = (r: MemoryRow | null) =>
    r === null ? "—" : `${m(r.peak_mib)} MiB (+${m(r.increase_mib)} over ${m(r.baseline_mib)})`;
  memory = {
    steps,
    rows: [one, two, pt].filter((r): r is MemoryRow => r !== null),
    ratio_peak: one && pt ? one.peak_mib / pt.peak_mib : null,
    ratio_increase: one && pt ? one.increase_mib / pt.increase_mib : null,
    note: "Peak resident set (VmHWM) over the training steps, each side in a fresh process; the baseline is the resident set after start-up (Node with tsx and the library loaded, wasm kernels compiled; Python with torch imported), and the peak is reset to it before the model is built. The increase is what the work itself costs and is the figure the target 'no higher than PyTorch's for the same work' compares; the absolute peak is mostly the runtimes. Our baseline includes tsx's loader thread (about 40 MiB over plain Node), and at 2 threads each worker also loads tsx. Node collects garbage lazily, so our peak grows with the number of steps.",
  };
  const ratios =
    memory.ratio_peak === null || memory.ratio_increase === null
      ? ""
      : `; recurrent/PyTorch: peak ${memory.ratio_peak.toFixed(2)}×, increase ${memory.ratio_increase.toFixed(2)}×`;
  console.log(
    `\nW2 peak RSS over ${steps} training steps: recurrent ${cell(one)}, PyTorch 1 thread ${cell(pt)}${ratios}`,
  );
  console.log(`recurrent at 2 threads: ${cell(two)}`);
  console.log(memory.note);
}
const results = {
  date: new Date().toISOString(),
  quick,
  node: process.version,
  cpu: cpus()[0]?.model,
  cores: cpus().length,
  machine,
  native_peak: native,
  w2_floor: w2Floor,
  pytorch_blas: blas,
  w5: w5Sides,
  rows,
  threads,
  heap,
  memory,
  notes,
};
const path = join(import.meta.dirname, "results.json");
writeFileSync(`${path}.tmp`, `${JSON.stringify(results, null, 2)}\n`);
renameSync(`${path}.tmp`, path);
console.log(`\nwrote ${path}`);
