/**
 * A load's progress updates, sent without holding up the load: one update
 * in flight at a time, later ones merged into one that waits for it. A busy
 * status object (a thousand watchers to write to) then makes the progress it
 * shows less fresh, never the batches slower. Step changes and the end are
 * not sent here: the loader awaits them, after `drain()`, so they keep their
 * order with the progress before them.
 *
 * A failed update is not lost silently: its error is thrown by the next
 * `push` or by `drain`, so the delivery fails as it would have had it waited.
 */
export class ProgressSender<P extends object> {
  private inFlight: Promise<void> | null = null;
  private waiting: P | null = null;
  private failure: { error: unknown } | null = null;
  /** Milliseconds the caller was held up by `drain` (what a slow status object costs the load). */
  waitedMs = 0;

  constructor(private readonly send: (patch: P) => Promise<void>) {}

  /** Queues `patch` (merged into any update not yet sent) and returns at once. */
  push(patch: P): void {
    this.throwFailure();
    this.waiting = this.waiting ? { ...this.waiting, ...patch } : patch;
    this.inFlight ??= this.pump();
  }

  /** Waits until every queued update is sent; throws the first failure. */
  async drain(): Promise<void> {
    const from = Date.now();
    while (this.inFlight) await this.inFlight;
    this.waitedMs += Date.now() - from;
    this.throwFailure();
  }

  /** Waits for the update in flight and drops the rest, without throwing (before another error propagates). */
  async abandon(): Promise<void> {
    this.waiting = null;
    while (this.inFlight) await this.inFlight;
  }

  private async pump(): Promise<void> {
    try {
      while (this.waiting && !this.failure) {
        const patch = this.waiting;
        this.waiting = null;
        try {
          await this.send(patch);
        } catch (error) {
          this.failure = { error };
        }
      }
    } finally {
      this.waiting = null;
      this.inFlight = null;
    }
  }

  private throwFailure(): void {
    if (this.failure) throw this.failure.error;
  }
}
