/**
 * The few names of `effect` (Effect 4) the comparison uses, loaded without
 * its type declarations: they pull in `lib esnext.disposable`, which changes
 * what TypeScript takes a `Generator` to be for the whole project.
 */

/** An Effect value producing `A`: `yield*`-able inside `Effect.gen`. */
export interface EffectOf<A> {
  [Symbol.iterator](): Iterator<unknown, A, unknown>;
}

export interface EffectModule {
  Effect: {
    runPromise<A>(effect: EffectOf<A>): Promise<A>;
    all<A>(effects: ReadonlyArray<EffectOf<A>>, options: { concurrency: "unbounded" }): EffectOf<A[]>;
    succeed<A>(value: A): EffectOf<A>;
    gen<A>(body: () => Generator<unknown, A, unknown>): EffectOf<A>;
    yieldNow: EffectOf<void>;
    sleep(millis: number): EffectOf<void>;
    forkChild<A>(effect: EffectOf<A>): EffectOf<FiberOf<A>>;
  };
  Fiber: {
    join<A>(fiber: FiberOf<A>): EffectOf<A>;
  };
  Semaphore: {
    make(permits: number): EffectOf<SemaphoreOf>;
    withPermit<A>(semaphore: SemaphoreOf, effect: EffectOf<A>): EffectOf<A>;
  };
}

export interface FiberOf<A> {
  readonly __fiber: A;
}
export interface SemaphoreOf {
  readonly __semaphore: true;
}

const specifier: string = "effect";
export const { Effect, Fiber, Semaphore } = (await import(specifier)) as EffectModule;
