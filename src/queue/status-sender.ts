/**
 * A load's status updates, sent without holding up the load: one update in
 * flight at a time, the others queued in order behind it, and consecutive
 * updates of the same step (progress after each batch) merged into one. A
 * busy status object (a thousand watchers to write to) then makes the status
 * it shows less fresh, never the batches slower. The loader waits for what is
 * queued (`drain`) only before it shows the end and before it hands the rest
 * of the file to the next message, and lets it go out before a failure
 * ends the job (so the steps shown lead up to the failure).
 *
 * A failed update is not lost silently: its error is thrown by the next
 * `push` or by `drain`, so the delivery fails as it would have had it waited.
 */
export class StatusSender<S, P extends object> {
  private readonly queue: Array<{ status: S; patch: P }> = [];
  private inFlight: Promise<void> | null = null;
  private failure: { error: unknown } | null = null;
  /** Milliseconds the caller was held up by `drain` (what a slow status object costs the load). */
  waitedMs = 0;

  constructor(private readonly send: (status: S, patch: P) => Promise<void>) {}

  /** Queues an update (merged into a queued one of the same step) and returns at once. */
  push(status: S, patch: P): void {
    this.throwFailure();
    const last = this.queue.at(-1);
    if (last && last.status === status) last.patch = { ...last.patch, ...patch };
    else this.queue.push({ status, patch });
    this.inFlight ??= this.pump();
  }

  /** Waits until every queued update is sent; throws the first failure. */
  async drain(): Promise<void> {
    const from = Date.now();
    while (this.inFlight) await this.inFlight;
    this.waitedMs += Date.now() - from;
    this.throwFailure();
  }

  /** Waits until what is queued is sent or an update failed, without throwing (before another error propagates). */
  async settle(): Promise<void> {
    while (this.inFlight) await this.inFlight;
  }

  private async pump(): Promise<void> {
    try {
      for (let next = this.queue.shift(); next && !this.failure; next = this.queue.shift()) {
        try {
          await this.send(next.status, next.patch);
        } catch (error) {
          this.failure = { error };
        }
      }
    } finally {
      this.queue.length = 0;
      this.inFlight = null;
    }
  }

  private throwFailure(): void {
    if (this.failure) throw this.failure.error;
  }
}
