// The one wording of a checkpoint's model that the command and the page share (src/forecast/describe.ts).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodeCheckpoint, type ForecastCheckpoint } from "../src/forecast/checkpoint.js";
import { describeModel, modelKind } from "../src/forecast/describe.js";
import { FIXTURES } from "./helpers.js";

const load = (name: string) =>
  decodeCheckpoint(new Uint8Array(readFileSync(join(FIXTURES, "forecast", `${name}.safetensors`))), name);

describe("describeModel / modelKind", () => {
  it("an LSTM checkpoint prints as its modules do, with the sizes its weights hold", () => {
    const c = load("lstm_co2");
    const [, hidden] = c.stateDict["rnn.weight_hh_l0"].shape;
    const horizon = c.stateDict["head.weight"].shape[0];
    expect(modelKind(c)).toBe("LSTM");
    expect(describeModel(c)).toBe(`LSTM(1, ${hidden}) -> Linear(${hidden}, ${horizon})`);
    expect(modelKind(load("gru_weather"))).toBe("GRU");
  });

  it("a hybrid or ETS checkpoint is named by its family, not by the LSTM fields it also carries", () => {
    const c = load("lstm_co2");
    const ets = { ...c, meta: { ...c.meta, ets: { spec: "ETS(M,Ad,M)" } } } as unknown as ForecastCheckpoint;
    expect(modelKind(ets)).toBe("ETS(M,Ad,M)");
    expect(describeModel(ets)).toBe("ETS(M,Ad,M)");
    const config = {
      mode: "multiplicative",
      season: 12,
      trend: true,
      learnedTerms: [],
      inputTerms: [{ period: 12, harmonics: 2 }],
      hidden: 32,
      layers: 1,
      horizon: 12,
      members: 3,
    };
    const hybrid = { ...c, meta: { ...c.meta, hybrid: { config } } } as unknown as ForecastCheckpoint;
    expect(modelKind(hybrid)).toBe("hybrid");
    expect(describeModel(hybrid)).toBe(
      "hybrid: multiplicative Holt-Winters (season 12, trend) + LSTM(5, 32) -> Linear(32, 12), 3 member(s)",
    );
  });
});
