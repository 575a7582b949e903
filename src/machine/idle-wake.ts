/**
 * A host loop that sleeps while its guests are halted (the page's worker, the runner in real
 * time) is woken early by this when something arrives for them from outside the run loop: a
 * network frame from another tab or a relay. Without it such a frame waits out the sleep.
 */
export class IdleWake {
  private pending: (() => void) | undefined;

  /** Resolves after `ms`, or as soon as wake() is called meanwhile. */
  sleep(ms: number): Promise<void> {
    this.pending?.();
    return new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        if (this.pending === done) this.pending = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.pending = done;
    });
  }

  /** Ends the current sleep, if any. */
  wake(): void {
    this.pending?.();
  }
}
