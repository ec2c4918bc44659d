#!/usr/bin/env node
// Entry point of the `recurrent` executable.
import "../threads.js"; // both cores for large products and batches
import { main } from "./main.js";

main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
