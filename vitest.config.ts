import { configDefaults, defineConfig } from "vitest/config";

// The suites whose numbers come from the kernels (gemm, the recurrent kernels, the Adam update) run once per
// kernel backend: project "ts" (the plain TypeScript kernels) and project "wasm" (WebAssembly SIMD), chosen
// through the RECURRENT_BACKEND variable that src/kernels/backend.ts reads. Everything else runs once
// ("core"), on the default backend. `vitest run --project wasm` runs one backend.
const PER_BACKEND = [
  "test/ops.test.ts",
  "test/module.test.ts",
  "test/rnn.test.ts",
  "test/rnn-fixtures.test.ts",
  "test/kernels-rnn.test.ts",
  "test/gradflow.test.ts",
  "test/streamer.test.ts",
  "test/optim.test.ts",
  "test/nn-seq.test.ts",
];

export default defineConfig({
  test: {
    pool: "threads",
    maxWorkers: 2,
    testTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: "core",
          include: ["test/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...PER_BACKEND],
        },
      },
      ...(["ts", "wasm"] as const).map((backend) => ({
        extends: true,
        test: { name: backend, include: PER_BACKEND, env: { RECURRENT_BACKEND: backend } },
      })),
    ],
  },
});
