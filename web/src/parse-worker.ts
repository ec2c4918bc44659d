// Reads a CSV file off the page's thread: the page posts the file (a Blob: cheap to pass, never copied
// as text) and gets back its summary (inspect.ts) or the reason it cannot be used. The page ends this
// worker to stop a read, and starts another for the next file.

import { type CsvSummary, inspectCsv } from "./inspect.js";

export type ToParser = { id: number; file: Blob; name: string };
export type FromParser =
  | { id: number; ok: true; summary: CsvSummary }
  | { id: number; ok: false; message: string };

interface ParserScope {
  postMessage(message: FromParser): void;
  onmessage: ((e: MessageEvent<ToParser>) => void) | null;
}
const scope = globalThis as unknown as ParserScope;

scope.onmessage = async (e) => {
  const { id, file, name } = e.data;
  let text: string;
  try {
    text = await file.text();
  } catch (err) {
    scope.postMessage({ id, ok: false, message: `Could not read ${name}: ${String(err)}` });
    return;
  }
  try {
    scope.postMessage({ id, ok: true, summary: inspectCsv(text, name) });
  } catch (err) {
    scope.postMessage({ id, ok: false, message: err instanceof Error ? err.message : String(err) });
  }
};
