// The `recurrent` command.

import { Command, CommanderError, Option } from "commander";
import { num, reportError, UsageError } from "./errors.js";
import { registerGradientsCommand } from "./gradients.js";
import { registerForecastCommands } from "./forecast-commands.js";
import { sineCommand } from "./sine.js";

export function buildProgram(): Command {
  const program = new Command();
  program
    .name("recurrent")
    .description("Recurrent neural networks and time-series forecasting, faithful to PyTorch.")
    .showHelpAfterError()
    .exitOverride();

  program
    .command("sine", { isDefault: false })
    .description("the study notes' sine-wave experiment: train, predict autoregressively, chart")
    .addOption(new Option("--cell <type>", "recurrent cell").choices(["rnn", "lstm", "gru"]).default("rnn"))
    .option("--hidden <n>", "hidden size", num("--hidden", "posint"), 16)
    .option("--layers <n>", "stacked layers", num("--layers", "posint"), 1)
    .option("--iters <n>", "training iterations", num("--iters", "posint"), 6000)
    .option("--lr <x>", "Adam learning rate", num("--lr", "posfloat"), 0.01)
    .option("--clip <x>", "clip the gradient norm to this value", num("--clip", "posfloat"))
    .option("--seed <n>", "random seed (same seed, same numbers)", num("--seed", "int"), 0)
    .option(
      "--context <k>",
      "points the context-started forecast reads first",
      num("--context", "posint"),
      10,
    )
    .option("--out <stem>", "chart file stem (writes <stem>.svg and <stem>.png)", "sine")
    .option("--no-chart", "do not write the chart")
    .option("--json", "print a final JSON object with the figures", false)
    .addHelpText(
      "after",
      "\nExamples:\n  recurrent sine\n  recurrent sine --cell lstm --hidden 32 --iters 2000 --out out/lstm\n  recurrent sine --iters 500 --json",
    )
    .action(async (opts) => {
      await sineCommand(opts);
    });
  registerGradientsCommand(program);
  registerForecastCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: "user" });
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // commander already printed the message (and help); help and version are not failures
      if (e.code === "commander.helpDisplayed" || e.code === "commander.version" || e.exitCode === 0)
        return 0;
      return 2;
    }
    if (e instanceof UsageError) {
      reportError(e);
      return 2;
    }
    return reportError(e);
  }
}
