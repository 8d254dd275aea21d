/**
 * Deadlines for handshakes: a stalled peer must not hold a connection forever.
 * @module
 */

/** The operation did not finish in time. */
export class TimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} timed out after ${ms} ms`);
    this.name = "TimeoutError";
  }
}

/**
 * Resolves like `p`, or rejects with {@link TimeoutError} after `ms` and calls `onTimeout`
 * (typically closing the connection so the pending read ends too). `ms <= 0` means no limit.
 */
export function deadline<T>(p: Promise<T>, ms: number, what: string, onTimeout?: () => void): Promise<T> {
  if (ms <= 0) return p;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout?.();
      reject(new TimeoutError(what, ms));
    }, ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Resolves after `ms`, or early (rejecting) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
