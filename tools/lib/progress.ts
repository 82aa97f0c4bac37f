/**
 * A plain progress bar on stderr (`\r` redraws; no dependency). When stderr
 * is not a terminal (CI logs) it prints a line every 10% instead.
 */
export interface Progress {
  update(done: number, total: number): void;
  finish(): void;
}

export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  let lastDecile = -1;
  let drawn = false;
  return {
    update(done, total) {
      const fraction = total > 0 ? Math.min(1, done / total) : 1;
      if (stream.isTTY) {
        const width = 30;
        const filled = Math.round(fraction * width);
        stream.write(`\r${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${Math.round(fraction * 100)}% ${done}/${total}`);
        drawn = true;
        return;
      }
      const decile = Math.floor(fraction * 10);
      if (decile !== lastDecile) {
        lastDecile = decile;
        stream.write(`${label}: ${done}/${total} (${decile * 10}%)\n`);
      }
    },
    finish() {
      if (drawn) stream.write('\n');
    },
  };
}
