// How the command reports failure: a clear message and an exit code, never a stack trace for bad input.

import { DataError, escapeControls } from "../../data/errors.js";
import { SafetensorsError } from "../../io/safetensors.js";

/** Bad input or a failed run: exit code 1. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** The command line itself is wrong (unknown option, bad value): exit code 2. */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, 2);
    this.name = "UsageError";
  }
}

/** Prints `error: <message>` and returns the exit code for any thrown value. */
export function reportError(e: unknown, write: (s: string) => void = (s) => process.stderr.write(s)): number {
  // names from files reach messages: their control characters are shown escaped
  const stderr = (s: string) => write(escapeControls(s));
  if (e instanceof CliError) {
    stderr(`error: ${e.message}\n`);
    return e.exitCode;
  }
  if (e instanceof DataError || e instanceof SafetensorsError) {
    stderr(`error: ${e.message}\n`);
    return 1;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  stderr(`error: ${err.message}\n`);
  if (process.env.RECURRENT_DEBUG) stderr(`${err.stack}\n`);
  return 1;
}

/** Parses a number option, or throws a UsageError naming the option and the value. */
export function num(name: string, kind: "int" | "posint" | "float" | "posfloat") {
  return (v: string): number => {
    const x = Number(v);
    const ok =
      v.trim() !== "" &&
      Number.isFinite(x) &&
      (kind === "float" ||
        (kind === "posfloat" && x > 0) ||
        (kind === "int" && Number.isInteger(x)) ||
        (kind === "posint" && Number.isInteger(x) && x > 0));
    if (!ok) {
      const what = {
        int: "an integer",
        posint: "a positive integer",
        float: "a number",
        posfloat: "a positive number",
      }[kind];
      throw new UsageError(`option ${name} expects ${what}, got '${v}'`);
    }
    return x;
  };
}
