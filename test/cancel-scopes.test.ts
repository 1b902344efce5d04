import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import {
  CancelScope,
  CancelledError,
  ExceptionGroup,
  RuntimeError,
  TimeoutError,
  cancelScope,
  createTask,
  currentTask,
  failAfter,
  failAt,
  getRunningLoop,
  moveOnAfter,
  moveOnAt,
  shielded,
  sleep,
  taskGroup,
  timeout,
  type Task,
} from "../src/index.js";
import { runVirtual } from "./support.js";

const now = (): number => getRunningLoop().time();

test("a scope that is not cancelled returns its body's result", async () => {
  assert.equal(await runVirtual(() => cancelScope(() => sleep(1, "done"))), "done");
});

test("cancel() throws CancelledError with the reason into the body and the block ends with undefined", async () => {
  const outcome = await runVirtual(function* () {
    let seen: unknown;
    let scopeSeen: CancelScope | null = null;
    const result = yield* cancelScope(function* (scope) {
      scopeSeen = scope;
      getRunningLoop().callLater(1, () => scope.cancel("enough"));
      try {
        yield* sleep(10);
      } catch (error) {
        seen = error;
        throw error;
      }
      return "finished";
    });
    const scope = scopeSeen as unknown as CancelScope;
    return { result, message: (seen as CancelledError).message, caught: scope.cancelledCaught, called: scope.cancelCalled, at: now(), cancelling: currentTask()!.cancelling() };
  });
  assert.deepEqual(outcome, { result: undefined, message: "enough", caught: true, called: true, at: 1, cancelling: 0 });
});

test("a scope's own cancellation is absorbed by that scope only, not by an enclosing one", async () => {
  const trail = await runVirtual(function* () {
    const trail: string[] = [];
    yield* cancelScope(function* (outer) {
      yield* cancelScope(function* (inner) {
        getRunningLoop().callLater(1, () => inner.cancel());
        yield* sleep(10);
      });
      trail.push(`inner ended at ${now()}`);
      yield* sleep(1);
      trail.push(`outer body went on, caught=${outer.cancelledCaught}`);
    });
    return trail;
  });
  assert.deepEqual(trail, ["inner ended at 1", "outer body went on, caught=false"]);
});

test("an outer scope's cancellation passes through an inner scope", async () => {
  const outcome = await runVirtual(function* () {
    let innerScope: CancelScope | null = null;
    let afterInner = false;
    const result = yield* cancelScope(function* (outer) {
      getRunningLoop().callLater(1, () => outer.cancel());
      yield* cancelScope(function* (inner) {
        innerScope = inner;
        yield* sleep(10);
      });
      afterInner = true;
    });
    const inner = innerScope as unknown as CancelScope;
    return { result, afterInner, innerCaught: inner.cancelledCaught, innerCalled: inner.cancelCalled };
  });
  assert.deepEqual(outcome, { result: undefined, afterInner: false, innerCaught: false, innerCalled: false });
});

test("a cancellation from outside the scope is never absorbed by it", async () => {
  const outcome = await runVirtual(function* () {
    const child = createTask(cancelScope(() => sleep(10)));
    yield* sleep(1);
    child.cancel();
    try {
      yield* child;
    } catch (error) {
      return error instanceof CancelledError;
    }
    return false;
  });
  assert.equal(outcome, true);
});

test("nested deadlines: the earliest wins whichever scope holds it", async () => {
  const outcome = await runVirtual(function* () {
    const ends: Array<[string, number]> = [];
    yield* moveOnAfter(5, function* () {
      yield* moveOnAfter(2, () => sleep(10));
      ends.push(["inner (2 s) ended", now()]);
      yield* sleep(10);
    });
    ends.push(["outer (5 s) ended", now()]);
    yield* moveOnAfter(2, function* () {
      yield* moveOnAfter(7, () => sleep(10));
      ends.push(["inner (7 s) went on", now()]);
    });
    ends.push(["outer (2 s) ended", now()]);
    return ends;
  });
  assert.deepEqual(outcome, [
    ["inner (2 s) ended", 2],
    ["outer (5 s) ended", 5],
    ["outer (2 s) ended", 7],
  ]);
});

test("a deadline moved while the body runs takes effect", async () => {
  const outcome = await runVirtual(function* () {
    const earlier = yield* cancelScope(
      function* (scope) {
        yield* sleep(1);
        scope.deadline = now() + 1;
        yield* sleep(10);
        return "not cut";
      },
      { deadline: 100 },
    );
    const cutAt = now();
    const later = yield* cancelScope(
      function* (scope) {
        scope.deadline = null;
        yield* sleep(10);
        return "no deadline any more";
      },
      { deadline: now() + 1 },
    );
    return { earlier, cutAt, later, end: now() };
  });
  assert.deepEqual(outcome, { earlier: undefined, cutAt: 2, later: "no deadline any more", end: 12 });
});

test("an infinite deadline is no deadline: no timer is scheduled for it", async () => {
  const outcome = await runVirtual(function* () {
    return yield* moveOnAfter(Infinity, function* () {
      const timers = /timers=(\d+)/.exec(inspect(getRunningLoop()))![1];
      yield* sleep(0);
      return Number(timers);
    });
  });
  assert.equal(outcome, 0);
});

test("moveOnAfter and moveOnAt give the result in time and undefined at the deadline", async () => {
  const outcome = await runVirtual(function* () {
    return [
      yield* moveOnAfter(2, () => sleep(1, "fast")),
      yield* moveOnAfter(2, () => sleep(5, "slow")),
      yield* moveOnAt(now() + 1, () => sleep(5, "slow")),
      now(),
    ];
  });
  assert.deepEqual(outcome, ["fast", undefined, undefined, 4]);
});

test("failAfter and failAt raise TimeoutError at the deadline", async () => {
  const outcome = await runVirtual(function* () {
    const seen: unknown[] = [yield* failAfter(2, () => sleep(1, "fast"))];
    try {
      yield* failAfter(2, () => sleep(5));
    } catch (error) {
      seen.push(error instanceof TimeoutError, now());
    }
    try {
      yield* failAt(now() + 1, () => sleep(5));
    } catch (error) {
      seen.push(error instanceof TimeoutError, (error as Error).cause instanceof CancelledError, now());
    }
    return seen;
  });
  assert.deepEqual(outcome, ["fast", true, 3, true, true, 4]);
});

test("a scope cancelled before its body starts cancels the body at its first suspension", async () => {
  const outcome = await runVirtual(function* () {
    const scope = new CancelScope();
    scope.cancel("early");
    const trail: string[] = [];
    const result = yield* scope.run(function* () {
      trail.push("body started");
      yield* sleep(1);
      trail.push("not reached");
    });
    return { result, trail, caught: scope.cancelledCaught };
  });
  assert.deepEqual(outcome, { result: undefined, trail: ["body started"], caught: true });
});

test("a scope cancelled by its own body that returns without suspending ends normally", async () => {
  const outcome = await runVirtual(function* () {
    const result = yield* cancelScope(function* (scope) {
      scope.cancel();
      return "returned";
    });
    yield* sleep(1);
    return { result, cancelling: currentTask()!.cancelling() };
  });
  assert.deepEqual(outcome, { result: "returned", cancelling: 0 });
});

test("a scope's own undelivered cancellation ends with the scope even while the task has other requests pending", async () => {
  const outcome = await runVirtual(function* () {
    const task = currentTask()!;
    task.cancel();
    try {
      yield* sleep(0);
    } catch {
      // swallowed without uncancel(): cancelling() stays 1
    }
    const result = yield* cancelScope(function* (scope) {
      scope.cancel();
      return "returned";
    });
    yield* sleep(0);
    const cancelling = task.cancelling();
    task.uncancel();
    return { result, cancelling };
  });
  assert.deepEqual(outcome, { result: "returned", cancelling: 1 });
});

test("a shielded block runs to its end through task.cancel(), then the cancellation arrives once at the next suspension", async () => {
  const outcome = await runVirtual(function* () {
    const trail: string[] = [];
    const worker = createTask(
      (function* () {
        yield* shielded(function* () {
          yield* sleep(5);
          trail.push(`cleanup finished at ${now()}, cancelling=${currentTask()!.cancelling()}`);
        });
        trail.push("after the block, before a suspension");
        try {
          yield* sleep(1);
        } catch (error) {
          trail.push(`held ${(error as Error).name} arrived: ${(error as Error).message}`);
          currentTask()!.uncancel();
        }
        yield* sleep(1);
        trail.push(`went on at ${now()}, cancelling=${currentTask()!.cancelling()}`);
      })(),
    );
    yield* sleep(1);
    worker.cancel("stop");
    yield* worker;
    return trail;
  });
  assert.deepEqual(outcome, [
    "cleanup finished at 5, cancelling=1",
    "after the block, before a suspension",
    "held CancelledError arrived: stop",
    "went on at 6, cancelling=0",
  ]);
});

test("a cancellation requested just before a shielded block is held back by it too", async () => {
  const outcome = await runVirtual(function* () {
    const task = currentTask()!;
    task.cancel();
    const value = yield* shielded(() => sleep(1, "shielded work done"));
    try {
      yield* sleep(0);
    } catch (error) {
      task.uncancel();
      return [value, error instanceof CancelledError];
    }
    return [value, false];
  });
  assert.deepEqual(outcome, ["shielded work done", true]);
});

test("a shielded block holds back an enclosing timeout's deadline, which then raises TimeoutError", async () => {
  const outcome = await runVirtual(function* () {
    const trail: string[] = [];
    try {
      yield* timeout(1, function* () {
        yield* shielded(() => sleep(3));
        trail.push(`shield ended at ${now()}`);
        yield* sleep(10);
      });
    } catch (error) {
      trail.push(`${(error as Error).name} at ${now()}`);
    }
    return trail;
  });
  assert.deepEqual(outcome, ["shield ended at 3", "TimeoutError at 3"]);
});

test("deadlines and scopes inside a shielded block still apply to what they wrap", async () => {
  const outcome = await runVirtual(function* () {
    const trail: string[] = [];
    yield* shielded(function* () {
      try {
        yield* timeout(1, () => sleep(5));
      } catch (error) {
        trail.push(`${(error as Error).name} at ${now()}`);
      }
      const moved = yield* moveOnAfter(1, () => sleep(5, "late"));
      trail.push(`moveOnAfter gave ${String(moved)} at ${now()}`);
    });
    return trail;
  });
  assert.deepEqual(outcome, ["TimeoutError at 1", "moveOnAfter gave undefined at 2"]);
});

test("a shielded block's own deadline still applies", async () => {
  const outcome = await runVirtual(function* () {
    const result = yield* shielded(() => sleep(10, "late"), { deadline: now() + 2 });
    return [result, now()];
  });
  assert.deepEqual(outcome, [undefined, 2]);
});

test("a shielded scope whose own cancellation and an outside one both arrive absorbs its own and delivers the outside one once", async () => {
  const outcome = await runVirtual(function* () {
    const trail: string[] = [];
    const worker = createTask(
      (function* () {
        const result = yield* cancelScope(
          function* (scope) {
            getRunningLoop().callLater(2, () => scope.cancel("own"));
            yield* sleep(10);
          },
          { shield: true },
        );
        trail.push(`scope ended with ${String(result)} at ${now()}`);
        try {
          yield* sleep(1);
        } catch (error) {
          trail.push(`outside cancellation: ${(error as Error).message}`);
          throw error;
        }
      })(),
    );
    yield* sleep(1);
    worker.cancel("outside");
    try {
      yield* worker;
    } catch (error) {
      trail.push(`worker ${(error as Error).name}`);
    }
    return trail;
  });
  assert.deepEqual(outcome, ["scope ended with undefined at 2", "outside cancellation: outside", "worker CancelledError"]);
});

test("turning shield off while the body runs delivers the held cancellation at once", async () => {
  const outcome = await runVirtual(function* () {
    let reachedEnd = false;
    const worker = createTask(
      cancelScope(
        function* (scope) {
          getRunningLoop().callLater(3, () => {
            scope.shield = false;
          });
          yield* sleep(10);
          reachedEnd = true;
        },
        { shield: true },
      ),
    );
    yield* sleep(1);
    worker.cancel();
    try {
      yield* worker;
    } catch {
      return [reachedEnd, worker.cancelled(), now()];
    }
    return null;
  });
  assert.deepEqual(outcome, [false, true, 3]);
});

test("a shield does not abort the task's signal while it holds a cancellation back", async () => {
  const outcome = await runVirtual(function* () {
    const task = currentTask()!;
    return yield* shielded(function* () {
      task.cancel();
      const aborted = task.signal.aborted;
      task.uncancel();
      yield* sleep(0);
      return aborted;
    });
  });
  assert.equal(outcome, false);
});

test("a TaskGroup inside a shielded block still cancels its children and body when one fails", async () => {
  const outcome = await runVirtual(function* () {
    const trail: string[] = [];
    yield* shielded(function* () {
      try {
        yield* taskGroup(function* (tg) {
          tg.createTask(
            (function* () {
              try {
                yield* sleep(10);
              } catch (error) {
                trail.push(`sibling ${(error as Error).name} at ${now()}`);
                throw error;
              }
            })(),
          );
          tg.createTask(
            (function* () {
              yield* sleep(1);
              throw new Error("boom");
            })(),
          );
          try {
            yield* sleep(10);
          } catch (error) {
            trail.push(`body ${(error as Error).name} at ${now()}`);
            throw error;
          }
        });
      } catch (error) {
        trail.push(`${(error as Error).name}: ${(error as ExceptionGroup).exceptions.map((e) => e.message).join()}`);
      }
    });
    return trail;
  });
  assert.deepEqual(outcome.slice(0, 2).sort(), ["body CancelledError at 1", "sibling CancelledError at 1"]);
  assert.equal(outcome[2], "ExceptionGroup: boom");
});

test("a failing TaskGroup outside a shielded block waits for the shielded work of its body", async () => {
  const outcome = await runVirtual(function* () {
    const trail: string[] = [];
    try {
      yield* taskGroup(function* (tg) {
        tg.createTask(
          (function* () {
            yield* sleep(1);
            throw new Error("boom");
          })(),
        );
        yield* shielded(() => sleep(3));
        trail.push(`shielded work done at ${now()}`);
        yield* sleep(10);
        trail.push("not reached");
      });
    } catch (error) {
      trail.push(`${(error as Error).name} at ${now()}`);
    }
    return trail;
  });
  assert.deepEqual(outcome, ["shielded work done at 3", "ExceptionGroup at 3"]);
});

test("nested shields release a held cancellation only when the outermost shield ends; a task ending right then ends cancelled", async () => {
  const outcome = await runVirtual(function* () {
    const trail: string[] = [];
    const worker = createTask(
      shielded(function* () {
        yield* shielded(() => sleep(2));
        trail.push(`inner shield ended at ${now()}`);
        yield* sleep(2);
        trail.push(`outer shield ended at ${now()}`);
      }),
    );
    yield* sleep(1);
    worker.cancel();
    try {
      yield* worker;
    } catch {
      // As in asyncio, a cancellation pending when the coroutine returns makes the task end cancelled.
    }
    return [trail, worker.cancelled()];
  });
  assert.deepEqual(outcome, [["inner shield ended at 2", "outer shield ended at 4"], true]);
});

test("scopes ended out of order are reported as misnesting", async () => {
  const outcome = await runVirtual(function* () {
    const task = currentTask() as Task<unknown>;
    const first = { shield: false };
    task.pushCancelScope(first);
    task.pushCancelScope({ shield: false });
    try {
      task.popCancelScope(first);
    } catch (error) {
      return error instanceof RuntimeError;
    }
    return false;
  });
  assert.equal(outcome, true);
});

test("a CancelScope describes its state", async () => {
  await runVirtual(function* () {
    yield* cancelScope(
      function* (scope) {
        assert.equal(inspect(scope), "<CancelScope active shielded deadline=5.000>");
        scope.cancel();
        assert.equal(inspect(scope), "<CancelScope active cancelled shielded deadline=5.000>");
        yield* sleep(0);
      },
      { deadline: 5, shield: true },
    );
  });
});

test("a CancelScope can be entered only once", async () => {
  await runVirtual(function* () {
    const scope = new CancelScope();
    yield* scope.run(() => sleep(0));
    assert.throws(() => scope.run(() => sleep(0)).next(), RuntimeError);
  });
});

test("cancel() is idempotent and does nothing once the block has ended", async () => {
  const outcome = await runVirtual(function* () {
    let kept: CancelScope | null = null;
    const result = yield* cancelScope(function* (scope) {
      kept = scope;
      scope.cancel("first");
      scope.cancel("second");
      try {
        yield* sleep(1);
      } catch (error) {
        return (error as Error).message;
      }
      return "not cancelled";
    });
    const scope = kept as unknown as CancelScope;
    scope.cancel("after the end");
    yield* sleep(1);
    return { result, caught: scope.cancelledCaught, cancelling: currentTask()!.cancelling() };
  });
  // The body caught the CancelledError and returned: the block keeps its result.
  assert.deepEqual(outcome, { result: "first", caught: false, cancelling: 0 });
});

test("failAfter raises TimeoutError also when its scope is cancelled by cancel()", async () => {
  const outcome = await runVirtual(function* () {
    try {
      yield* failAfter(10, function* (scope) {
        scope.cancel();
        yield* sleep(1);
      });
    } catch (error) {
      return [error instanceof TimeoutError, (error as Error).message];
    }
    return null;
  });
  assert.deepEqual(outcome, [true, "the scope was cancelled"]);
});

test("a cancel scope outside a task is a RuntimeError, and shield must be a boolean", async () => {
  await runVirtual(function* () {
    const loop = getRunningLoop();
    const fromCallback = loop.createFuture<unknown>();
    loop.callSoon(() => {
      try {
        cancelScope(() => sleep(0)).next();
      } catch (error) {
        fromCallback.setResult(error);
      }
    });
    assert.ok((yield* fromCallback) instanceof RuntimeError);
    const scope = new CancelScope();
    assert.throws(() => {
      (scope as { shield: unknown }).shield = "yes";
    }, TypeError);
    assert.equal(inspect(scope), "<CancelScope created>");
    yield* scope.run(() => sleep(0));
    assert.equal(inspect(scope), "<CancelScope exited>");
  });
});
