#!/usr/bin/env node
// Entry point of the `recurrent` executable.
import "../threads.js"; // both cores for large products and batches
import { main } from "./main.js";

// A reader that closes the pipe early (`recurrent forecast ... | head -1`) has what it wanted: end quietly
// with exit code 0, as Unix tools do, instead of a stack trace for "write EPIPE".
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(0);
  throw e;
});

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
