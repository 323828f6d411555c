/**
 * A clock tests set by hand: `new Date()` and `Date.now()` read it, so the
 * store writes a fixture's times as the test names them (the writes take
 * their times from `new Date()`). Dates made from a value are untouched.
 */
export interface FakeClock {
  /** Moves the clock to an ISO time. */
  set(iso: string): void;
  /** Gives the real Date back. */
  restore(): void;
}

/** Replaces the global Date until `restore()`; starts at `iso`. */
export function fakeClock(iso: string): FakeClock {
  const RealDate = Date;
  let now = RealDate.parse(iso);
  class FakeDate extends RealDate {
    constructor(...args: ConstructorParameters<DateConstructor> | []) {
      super(...(args.length === 0 ? [now] : args) as [number]);
    }
    static override now() {
      return now;
    }
  }
  globalThis.Date = FakeDate as DateConstructor;
  return {
    set(to) {
      now = RealDate.parse(to);
    },
    restore() {
      globalThis.Date = RealDate;
    },
  };
}

/** Runs `fn` with a fake clock starting at `iso`, always restoring the real one. */
export async function withClock<T>(
  iso: string,
  fn: (clock: FakeClock) => Promise<T>,
): Promise<T> {
  const clock = fakeClock(iso);
  try {
    return await fn(clock);
  } finally {
    clock.restore();
  }
}
