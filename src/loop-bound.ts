/**
 * Binding a primitive to the loop it is first used on (Python's
 * `mixins._LoopBoundMixin`): locks, events, semaphores and queues can be
 * made before `run()` and bind to the running loop on first need.
 */
import { RuntimeError } from "./errors.js";
import { type EventLoop } from "./events.js";
import { getRunningLoop } from "./running-loop.js";

export abstract class LoopBound {
  private boundLoop: EventLoop | null = null;

  /** @internal The loop this primitive serves; `RuntimeError` if used from another one. */
  protected getLoop(): EventLoop {
    const loop = getRunningLoop();
    // A loop that has closed can no longer be served: bind to the new one (a module-level lock reused by a later run()).
    if (this.boundLoop === null || this.boundLoop.isClosed()) this.boundLoop = loop;
    else if (this.boundLoop !== loop) throw new RuntimeError(`${this.constructor.name} is bound to a different event loop`);
    return loop;
  }
}
