// Progress for long work: a bar on a terminal, plain lines otherwise.

import cliProgress from "cli-progress";

export interface Progress {
  update(done: number, fields: Record<string, string | number>, line?: string): void;
  stop(): void;
}

/**
 * On a TTY, a progress bar showing `format`'s fields and time left; elsewhere each `line` passed to
 * `update` is printed as is (so logs read like the notes' output).
 */
export function makeProgress(
  total: number,
  format: string,
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `{bar} {percentage}% | ${format} | {duration_formatted} elapsed, ETA {eta_formatted}`,
        stream,
        hideCursor: true,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(done, fields) {
        if (!started) {
          bar.start(total, 0, fields);
          started = true;
        }
        bar.update(done, fields);
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  return {
    update(_done, _fields, line) {
      if (line !== undefined) stream.write(`${line}\n`);
    },
    stop() {},
  };
}
