// Checkpoints from strangers and numbers at the edge, through the library (the command's side is in
// cli-reliability.test.ts): every metadata field checked against its weights and bounds before anything
// is allocated; sizes that cannot be allocated refused with the size asked for; PyTorch's errors for
// misuse. Expected texts of PyTorch's errors were taken from PyTorch 1.13 (see each case).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { arange, eye, ones, rand, randn, tensor, zeros } from "../src/core/creation.js";
import { manualSeed } from "../src/core/random.js";
import { Tensor } from "../src/core/tensor.js";
import { type ForecastCheckpoint, checkpointMetadata, decodeCheckpoint } from "../src/forecast/checkpoint.js";
import { CheckpointError } from "../src/forecast/errors.js";
import { decodeSafetensors, encodeSafetensors } from "../src/io/safetensors.js";
import { Linear } from "../src/nn/linear.js";
import { mseLoss } from "../src/nn/loss.js";
import { GRU, LSTM, LSTMCell, RNN } from "../src/nn/rnn.js";
import { Adam } from "../src/optim/adam.js";
import { SGD } from "../src/optim/sgd.js";
import { forecastWithCheckpoint } from "../web/src/jobs.js";
import { FIXTURES } from "./helpers.js";

const FDIR = join(FIXTURES, "forecast");
const ckpt: ForecastCheckpoint = decodeCheckpoint(
  new Uint8Array(readFileSync(join(FDIR, "lstm_co2.safetensors"))),
  "lstm_co2.safetensors",
);

/** The fixture checkpoint with one metadata section changed (`edit` gets a parsed copy). */
function mutated(key: string, edit: (j: Record<string, unknown>) => void): Uint8Array {
  const meta = checkpointMetadata(ckpt);
  const j = JSON.parse(meta[key]);
  edit(j);
  return encodeSafetensors(ckpt.stateDict, { ...meta, [key]: JSON.stringify(j) });
}

/** Raw JSON text in place of a number, for values JSON.stringify cannot write (1e308 stays 1e308). */
function withRaw(key: string, field: string, raw: string): Uint8Array {
  const meta = checkpointMetadata(ckpt);
  const j = JSON.parse(meta[key]);
  j[field] = "__RAW__";
  return encodeSafetensors(ckpt.stateDict, {
    ...meta,
    [key]: JSON.stringify(j).replace('"__RAW__"', raw),
  });
}

const decode = (b: Uint8Array) => () => decodeCheckpoint(b, "co2.safetensors");

describe("checkpoint metadata is checked against the weights before anything is built", () => {
  it("sizes that disagree with the weights name the file and the field (no allocation, no hang)", () => {
    const t0 = performance.now();
    expect(decode(withRaw("recurrent.model", "num_layers", "1e308"))).toThrow(
      "co2.safetensors: metadata says num_layers = 1e308, but the weights hold 1 layer",
    );
    expect(decode(withRaw("recurrent.model", "num_layers", "1000000"))).toThrow(
      "co2.safetensors: metadata says num_layers = 1000000, but the weights hold 1 layer",
    );
    expect(decode(withRaw("recurrent.model", "hidden_size", "1000000000"))).toThrow(
      "co2.safetensors: metadata says hidden_size = 1000000000, but the weights hold a hidden size of 8",
    );
    expect(decode(withRaw("recurrent.model", "hidden_size", "1e308"))).toThrow(
      "co2.safetensors: metadata says hidden_size = 1e308, but the weights hold a hidden size of 8",
    );
    expect(decode(withRaw("recurrent.model", "input_size", "2"))).toThrow(
      "metadata says input_size = 2, but the weights hold 1 input column",
    );
    expect(decode(withRaw("recurrent.model", "cell", '"gru"'))).toThrow(
      'metadata says cell = "gru", but the weights hold an LSTM',
    );
    expect(decode(withRaw("recurrent.model", "horizon", "4"))).toThrow(
      "metadata says horizon = 4, but the weights hold 3 outputs (head.weight rows)",
    );
    // all of the above fail in well under a second: nothing was built from the metadata
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it("fields no tensor fixes get bounds: lookback, rows, ranges, scaler, history", () => {
    expect(decode(withRaw("recurrent.data", "lookback", "1.5"))).toThrow(
      "co2.safetensors: metadata says data.lookback = 1.5; expected an integer in [1, 120]",
    );
    expect(decode(withRaw("recurrent.data", "lookback", "-1"))).toThrow(
      "metadata says data.lookback = -1; expected an integer in [1, 120]",
    );
    expect(decode(withRaw("recurrent.data", "lookback", "119"))).toThrow(
      "metadata says data.lookback = 119; expected at most 117",
    );
    expect(decode(withRaw("recurrent.data", "rows", "1e12"))).toThrow(
      "metadata says data.rows = 1000000000000; expected an integer in [2, 100000000]",
    );
    expect(decode(withRaw("recurrent.data", "target_index", "3"))).toThrow(
      "metadata says data.target_index = 3; expected an integer in [0, 0]",
    );
    expect(
      decode(
        mutated("recurrent.data", (d) => {
          (d.scaler as { scale: number[] }).scale = [1e-300];
        }),
      ),
    ).toThrow(
      "metadata says data.scaler.scale[0] = 1e-300, which makes the scaling factor 1e300: scaled values (or forecasts scaled back) would not fit float32",
    );
    expect(
      decode(
        mutated("recurrent.data", (d) => {
          (d.scaler as { scale: number[] }).scale = [1e308];
        }),
      ),
    ).toThrow("metadata says data.scaler.scale[0] = 1e308, which makes the scaling factor 1e-308");
    expect(
      decode(
        mutated("recurrent.split", (s) => {
          s.test_range = [96, 9999];
        }),
      ),
    ).toThrow(
      "metadata says split.test_range = [96,9999]; expected [start, end) with 0 <= start <= end <= 120",
    );
    expect(
      decode(
        mutated("recurrent.training", (t) => {
          (t.history as { loss: unknown }[])[0].loss = "NaN";
        }),
      ),
    ).toThrow('metadata says training.history[0].loss = "NaN"; expected a finite loss >= 0');
    expect(
      decode(
        mutated("recurrent.optimizer", (o) => {
          (o.param_groups as { lr: number }[])[0].lr = -0.5;
        }),
      ),
    ).toThrow("metadata says optimizer.param_groups[0].lr = -0.5; expected a positive learning rate");
    // found by the fuzz harness: a state entry without its buffers reached Adam's kernel
    expect(
      decode(
        mutated("recurrent.optimizer", (o) => {
          (o.state as Record<string, unknown>)["1"] = { step: 4 };
        }),
      ),
    ).toThrow("metadata says optimizer.state[1].exp_avg = nothing; expected a float32 buffer of 256 values");
    expect(
      decode(
        mutated("recurrent.optimizer", (o) => {
          (o.state as Record<string, unknown>)["1"] = null;
        }),
      ),
    ).toThrow("the checkpoint is damaged: recurrent.optimizer: state 1 is null, not an object of buffers");
    expect(
      decode(
        mutated("recurrent.optimizer", (o) => {
          o.state = null;
        }),
      ),
    ).toThrow("the checkpoint is damaged: recurrent.optimizer: expected {state, param_groups}");
    expect(
      decode(
        mutated("recurrent.scheduler", (s) => {
          s.num_bad_epochs = -3;
        }),
      ),
    ).toThrow("metadata says scheduler.num_bad_epochs = -3; expected an integer in [0, 9007199254740991]");
  });

  it("weights that are not a forecast model, or miss a tensor, are refused by name", () => {
    const meta = checkpointMetadata(ckpt);
    const extra = { ...ckpt.stateDict, "rnn.weight_ih_l1": ckpt.stateDict["rnn.weight_ih_l0"] };
    expect(decode(encodeSafetensors(extra, meta))).toThrow(
      "co2.safetensors: rnn.weight_ih_l1 has shape [32, 1], but a LSTM(1, 8) layer needs [32, 8]",
    );
    const { "rnn.bias_hh_l0": _, ...noBias } = ckpt.stateDict;
    expect(decode(encodeSafetensors(noBias, meta))).toThrow(
      "the weights of a 1 layer LSTM need rnn.bias_hh_l0, which is missing",
    );
    const stray = { ...ckpt.stateDict, "other.w": new Tensor(new Float32Array(1), [1]) };
    expect(decode(encodeSafetensors(stray, meta))).toThrow(
      'the weights hold "other.w", which a forecast model (rnn.*, head.*) does not have',
    );
    expect(() => decodeCheckpoint(encodeSafetensors(stray, meta))).toThrow(CheckpointError);
  });
});

describe("the library refuses sizes it cannot allocate, with the size asked for", () => {
  const tooBig =
    /can't allocate memory: you tried to allocate 4000000000000000000 bytes \(1000000000000000000 float32 elements\)/;
  it("creation functions", () => {
    // PyTorch: torch.zeros(10**9, 10**9) -> "DefaultCPUAllocator: can't allocate memory: you tried to
    // allocate 4000000000000000000 bytes."
    expect(() => zeros(1e9, 1e9)).toThrow(/^zeros\(1000000000, 1000000000\): /);
    for (const f of [zeros, ones, randn, rand]) expect(() => f(1e9, 1e9)).toThrow(tooBig);
    expect(() => eye(1e9)).toThrow(tooBig);
    expect(() => arange(0, 1e12)).toThrow(/arange\(0, 1000000000000, 1\): can't allocate memory/);
    expect(zeros(2, 3).shape).toEqual([2, 3]);
  });

  it("module constructors: num_layers and hidden sizes", () => {
    const t0 = performance.now();
    expect(() => new LSTM(1, 20, { numLayers: 1e6 })).toThrow(
      "LSTM(1, 20, num_layers=1000000): num_layers = 1000000 is more than the 1024 stacked layers one module may have here",
    );
    expect(() => new LSTM(1, 1e9)).toThrow(
      /^LSTM\(1, 1000000000, num_layers=1\): can't allocate memory: you tried to allocate 16000000\d{12} bytes \(4000000\d{12} float32 elements\)/,
    );
    expect(() => new GRU(1e5, 1e5)).toThrow(/GRU\(100000, 100000, num_layers=1\): can't allocate memory/);
    expect(() => new RNN(1, 1e308)).toThrow(
      /can't allocate memory: you tried to allocate more than 1\.798e308 bytes/,
    );
    expect(() => new Linear(1e9, 1e9)).toThrow(/Linear\(1000000000, 1000000000\): can't allocate memory/);
    expect(() => new LSTMCell(1, 1e9)).toThrow(/LSTMCell\(1, 1000000000\): can't allocate memory/);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(new LSTM(3, 4, { numLayers: 2 }).numLayers).toBe(2);
  });
});

describe("misuse gets PyTorch's errors", () => {
  it("tensor() of strings, objects and null (torch.tensor's messages)", () => {
    expect(() => tensor("abc" as never)).toThrow(new TypeError("new(): invalid data type 'str'"));
    expect(() => tensor([1, "a"] as never)).toThrow("new(): invalid data type 'str'");
    expect(() => tensor({ a: 1 } as never)).toThrow("Could not infer dtype of object");
    expect(() => tensor(null as never)).toThrow("Could not infer dtype of null");
    expect(() => tensor([1, null] as never)).toThrow("Could not infer dtype of null");
    expect(Array.from(tensor([true, false] as never).data)).toEqual([1, 0]);
    expect(Array.from(tensor(new Float64Array([1.5, 2])).data)).toEqual([1.5, 2]);
  });

  it("manualSeed outside 64 bits (torch.manual_seed's messages)", () => {
    expect(() => manualSeed(2 ** 70)).toThrow("Overflow when unpacking long");
    expect(() => manualSeed(2 ** 64)).toThrow("Overflow when unpacking long");
    expect(() => manualSeed(-(2 ** 63) * 1.5)).toThrow("Overflow when unpacking long");
    expect(() => manualSeed(Number.NaN)).toThrow("cannot convert float NaN to integer");
    expect(() => manualSeed(Number.POSITIVE_INFINITY)).toThrow("cannot convert float infinity to integer");
    // -1 and 2^64 - 2^11 (the largest double below 2^64) are accepted, as in PyTorch
    manualSeed(-1);
    const a = randn(3).data.slice();
    manualSeed(2 ** 32 - 1);
    expect(Array.from(randn(3).data)).toEqual(Array.from(a)); // both seed mt[0] with 0xffffffff
    manualSeed(2 ** 64 - 2 ** 11);
    manualSeed(0);
  });

  it("forward(null) and losses of non-tensors (F.linear's message)", () => {
    expect(() => new LSTM(1, 2).forward(null as never)).toThrow(
      new TypeError(
        "LSTM.forward(): argument 'input' (position 1) must be Tensor or PackedSequence, not null",
      ),
    );
    expect(() => new GRU(1, 2).forward(5 as never)).toThrow(
      "GRU.forward(): argument 'input' (position 1) must be Tensor or PackedSequence, not number",
    );
    expect(() => new Linear(1, 2).forward(null as never)).toThrow(
      "linear(): argument 'input' (position 1) must be Tensor, not null",
    );
    expect(() => new LSTMCell(1, 2).forward(undefined as never)).toThrow(
      "LSTMCell.forward(): argument 'input' (position 1) must be Tensor, not undefined",
    );
    expect(() => mseLoss(zeros(1), [1] as never)).toThrow(
      "mseLoss(): argument 'target' (position 2) must be Tensor, not Array",
    );
  });

  it("non-finite learning rates, and a bad optimizer state on load", () => {
    const p = () => [zeros(2, { requiresGrad: true })];
    // PyTorch: torch.optim.Adam(params, lr=float("nan")) -> "Invalid learning rate: nan"
    expect(() => new Adam(p(), { lr: Number.NaN })).toThrow("Invalid learning rate: nan");
    expect(() => new Adam(p(), { lr: Number.POSITIVE_INFINITY })).toThrow("Invalid learning rate: inf");
    expect(() => new SGD(p(), { lr: Number.NaN })).toThrow("Invalid learning rate: nan");
    expect(() => new SGD(p())).toThrow(/didn't specify a value of required optimization parameter lr/);
    const opt = new Adam(p(), { lr: 0.1 });
    const sd = opt.stateDict();
    sd.param_groups[0].lr = -0.5;
    expect(() => opt.loadStateDict(sd)).toThrow(
      "loadStateDict: param_groups[0]: Invalid learning rate: -0.5",
    );
    expect(opt.paramGroups[0].lr).toBe(0.1); // nothing was copied
    sd.param_groups[0].lr = 0.2;
    sd.state["0"] = { step: 1.5, exp_avg: new Float32Array(2), exp_avg_sq: new Float32Array(2) };
    expect(() => opt.loadStateDict(sd)).toThrow('state "step" should be a whole number >= 0, got 1.5');
    sd.state["0"] = { step: 1, exp_avg: new Float32Array([0, Number.NaN]), exp_avg_sq: new Float32Array(2) };
    expect(() => opt.loadStateDict(sd)).toThrow('state "exp_avg" holds nan at index 1');
    sd.state["0"] = { step: 1, exp_avg: new Float32Array(2), exp_avg_sq: new Float32Array(2) };
    opt.loadStateDict(sd);
    expect(opt.paramGroups[0].lr).toBe(0.2);
  });
});

/** Safetensors bytes from raw header text and `data` bytes of tensor data. */
function rawSafetensors(header: string, data = 0): Uint8Array {
  const json = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + json.length + data);
  new DataView(out.buffer).setUint32(0, json.length, true);
  out.set(json, 8);
  return out;
}

describe("the header parser's work is bounded before JSON.parse", () => {
  it("refuses deep nesting at once, whatever the size", () => {
    // 40 MB of brackets beside 12 MB of data (in proportion): PyTorch-sized work if parsed
    const deep = `{"__metadata__":{"a":"b"},"x":${"[".repeat(20_000_000)}${"]".repeat(20_000_000)}}`;
    const bytes = rawSafetensors(deep, 12_000_000);
    const t0 = performance.now();
    expect(() => decodeSafetensors(bytes)).toThrow(
      "the header nests JSON more than 8 levels deep (a safetensors header needs 3): refused before parsing",
    );
    expect(performance.now() - t0).toBeLessThan(5000); // parsing it would take 30-50 s and gigabytes
    // nine levels inside a string are text, not nesting
    const ok = `{"__metadata__":{"a":"${"[".repeat(50)}"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`;
    expect(decodeSafetensors(rawSafetensors(ok, 4)).metadata.a).toBe("[".repeat(50));
  });

  it("refuses a header out of proportion to the data it declares", () => {
    const big = `{"__metadata__":{"a":"${"x".repeat(2_000_000)}"},"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`;
    expect(() => decodeSafetensors(rawSafetensors(big, 4))).toThrow(
      /^the 2000078-byte header is out of proportion to the 4 bytes of tensor data it describes \(at most 1048592 bytes: 1048576 \+ 4 per data byte\)$/,
    );
    // the same metadata beside 1 MB of weights is fine
    const fine = `{"__metadata__":{"a":"${"x".repeat(2_000_000)}"},"w":{"dtype":"F32","shape":[250000],"data_offsets":[0,1000000]}}`;
    expect(decodeSafetensors(rawSafetensors(fine, 1_000_000)).tensors.w.shape).toEqual([250000]);
  });
});

describe("the playground reads checkpoints through the same checks", () => {
  const csv = readFileSync(join(FDIR, "lstm_co2.csv"), "utf8");
  it("a metadata lie and a non-finite forecast get the command's messages", () => {
    expect(() =>
      forecastWithCheckpoint(
        withRaw("recurrent.model", "num_layers", "1e308"),
        "up.safetensors",
        csv,
        "co2.csv",
      ),
    ).toThrow("up.safetensors: metadata says num_layers = 1e308, but the weights hold 1 layer");
    const sd: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(ckpt.stateDict)) sd[k] = new Tensor(t.data.slice(), [...t.shape]);
    sd["rnn.bias_ih_l0"].data.fill(1e30);
    sd["head.weight"].data.fill(3e38);
    const bytes = encodeSafetensors(sd, checkpointMetadata(ckpt));
    expect(() => forecastWithCheckpoint(bytes, "huge.safetensors", csv, "co2.csv")).toThrow(
      /^the forecast would not be finite: the network turns a finite input window into (-?Infinity|NaN) \(output 1 of 3\); its weights overflow float32 \(the largest is 3e38 in head\.weight\)$/,
    );
    expect(
      forecastWithCheckpoint(
        encodeSafetensors(ckpt.stateDict, checkpointMetadata(ckpt)),
        "ok.safetensors",
        csv,
        "co2.csv",
      ).future.values.length,
    ).toBe(3);
  });
});
