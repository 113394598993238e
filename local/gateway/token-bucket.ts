/**
 * A token bucket: `ratePerSecond` tokens a second, holding at most `capacity` (the burst).
 */
export class TokenBucket {
  readonly #rate: number;
  readonly #capacity: number;
  readonly #now: () => number;
  #tokens: number;
  #updatedAt: number;

  /**
   * @param ratePerSecond refill rate
   * @param capacity burst size; defaults to one second's worth
   * @param now clock in milliseconds (tests may pass their own)
   */
  constructor(ratePerSecond: number, capacity = ratePerSecond, now: () => number = performance.now.bind(performance)) {
    this.#rate = ratePerSecond;
    this.#capacity = capacity;
    this.#now = now;
    this.#tokens = capacity;
    this.#updatedAt = now();
  }

  /** Tokens available now (negative while a large take is being paid back). */
  get tokens(): number {
    this.#refill();
    return this.#tokens;
  }

  /**
   * Takes `cost` tokens if there are enough. A cost above the capacity could never be met, so it
   * is allowed when the bucket is full and leaves it in debt: one oversized frame passes, then the
   * rate catches up.
   */
  tryTake(cost: number): boolean {
    if (this.waitMs(cost) > 0) return false;
    this.#tokens -= cost;
    return true;
  }

  /** Milliseconds until {@link tryTake} of `cost` would succeed; 0 when it would now. */
  waitMs(cost: number): number {
    this.#refill();
    const needed = Math.min(cost, this.#capacity);
    // a hair of tolerance, so float rounding never makes a caller wait 0.0001 ms forever
    if (this.#tokens >= needed - 1e-9) return 0;
    return Math.ceil(((needed - this.#tokens) / this.#rate) * 1000);
  }

  #refill(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.#capacity, this.#tokens + ((now - this.#updatedAt) / 1000) * this.#rate);
    this.#updatedAt = now;
  }
}
