/**
 * Conformance with CPython 3.13's Lib/test/test_asyncio/test_taskgroups.py.
 * `async with TaskGroup() as g:` is `yield* taskGroup(function* (g) {...})`;
 * `except* E` is a `catch` of the `ExceptionGroup` checking its members.
 */
import assert from "node:assert/strict";
import { CancelledError, Event, ExceptionGroup, RuntimeError, TaskGroup, createTask, currentTask, sleep, taskGroup, type Coro, type Task } from "../../src/index.js";
import { cases, raises, syncCases } from "./helpers.js";

const tgCase = cases("test_taskgroups", "TestTaskGroup");

class ZeroDivisionError extends Error {}
class MyExc extends Error {}
class ValueError extends Error {}

const NO_BASE_EXCEPTION = "JavaScript has no BaseException/Exception split (KeyboardInterrupt, BaseExceptionGroup): every error is an Error";

function errorTypes(eg: unknown): Set<unknown> {
  assert.ok(eg instanceof ExceptionGroup, `expected an ExceptionGroup, got ${String(eg)}`);
  return new Set(eg.exceptions.map((e) => e.constructor));
}

function* after<T>(delay: number, value: T): Coro<T> {
  yield* sleep(delay);
  return value;
}

function* crashAfter(delay: number, make: () => Error = () => new ZeroDivisionError()): Coro<never> {
  yield* sleep(delay);
  throw make();
}

/** sleep(10), then a ZeroDivisionError in cleanup (Python's `finally: 1 / 0`). */
function* crashInFinally(): Coro<void> {
  try {
    yield* sleep(10);
  } finally {
    // eslint-disable-next-line no-unsafe-finally -- the case is a crash in cleanup
    throw new ZeroDivisionError();
  }
}

/** Counts the cancellations it receives while sleeping. */
function counting(counter: { n: number }, by = 1, delay = 5): Coro<void> {
  return (function* () {
    try {
      yield* sleep(delay);
    } catch (error) {
      if (error instanceof CancelledError) counter.n += by;
      throw error;
    }
  })();
}

function* caught(aw: Coro<unknown> | Task<unknown>): Coro<unknown> {
  try {
    yield* aw;
  } catch (error) {
    return error;
  }
  return null;
}

tgCase("test_taskgroup_01", function* () {
  let t1: Task<number> | null = null;
  let t2: Task<number> | null = null;
  yield* taskGroup(function* (g) {
    t1 = g.createTask(after(0.1, 42));
    t2 = g.createTask(after(0.2, 11));
  });
  assert.equal(t1!.result(), 42);
  assert.equal(t2!.result(), 11);
});

tgCase("test_taskgroup_02", function* () {
  let t1: Task<number> | null = null;
  let t2: Task<number> | null = null;
  yield* taskGroup(function* (g) {
    t1 = g.createTask(after(0.1, 42));
    yield* sleep(0.15);
    t2 = g.createTask(after(0.2, 11));
  });
  assert.equal(t1!.result(), 42);
  assert.equal(t2!.result(), 11);
});

tgCase("test_taskgroup_03", function* () {
  let t1: Task<number> | null = null;
  let t2: Task<number> | null = null;
  yield* taskGroup(function* (g) {
    t1 = g.createTask(after(1, 42));
    yield* sleep(0.15);
    t1.cancel();
    t2 = g.createTask(after(0.2, 11));
  });
  assert.ok(t1!.cancelled());
  assert.equal(t2!.result(), 11);
});

tgCase("test_taskgroup_04", function* () {
  let num = 0;
  const t2Cancel = { n: 0 };
  let t2: Task<void> | null = null;
  const error = yield* caught(
    createTask(
      (function* (): Coro<void> {
        yield* taskGroup(function* (g) {
          g.createTask(crashAfter(0.1));
          t2 = g.createTask(
            (function* (): Coro<void> {
              yield* counting(t2Cancel, 1, 1);
              num += 1;
            })(),
          );
        });
        num += 10;
      })(),
    ),
  );
  assert.deepEqual(errorTypes(error), new Set([ZeroDivisionError]));
  assert.equal(num, 0);
  assert.equal(t2Cancel.n, 1);
  assert.ok(t2!.cancelled());
});

tgCase("test_cancel_children_on_child_error", function* () {
  let num = 0;
  const t2Cancel = { n: 0 };
  const runnerCancel = { n: 0 };
  const error = yield* caught(
    createTask(
      (function* (): Coro<void> {
        yield* taskGroup(function* (g) {
          for (let i = 0; i < 3; i++) g.createTask(crashAfter(0.1));
          g.createTask(
            (function* (): Coro<void> {
              yield* counting(t2Cancel);
              num += 1;
            })(),
          );
          yield* counting(runnerCancel, 1, 10);
        });
        num += 10;
      })(),
    ),
  );
  assert.deepEqual(errorTypes(error), new Set([ZeroDivisionError]));
  assert.equal(num, 0);
  assert.equal(t2Cancel.n, 1);
  assert.equal(runnerCancel.n, 1);
});

tgCase("test_cancellation", function* () {
  const num = { n: 0 };
  const r = createTask(
    taskGroup(function* (g) {
      for (let i = 0; i < 5; i++) g.createTask(counting(num));
    }),
  );
  yield* sleep(0.1);
  assert.equal(r.done(), false);
  r.cancel();
  yield* raises(CancelledError, r);
  assert.equal(num.n, 5);
});

tgCase("test_taskgroup_07", function* () {
  const num = { n: 0 };
  const r = createTask(
    taskGroup(function* (g) {
      for (let i = 0; i < 5; i++) g.createTask(counting(num));
      yield* counting(num, 10, 10);
    }),
  );
  yield* sleep(0.1);
  assert.equal(r.done(), false);
  r.cancel();
  yield* raises(CancelledError, r);
  assert.equal(num.n, 15);
});

tgCase("test_taskgroup_08", function* () {
  const r = createTask(
    taskGroup(function* (g) {
      for (let i = 0; i < 5; i++) g.createTask(crashInFinally());
      yield* sleep(10);
    }),
  );
  yield* sleep(0.1);
  assert.equal(r.done(), false);
  r.cancel();
  assert.deepEqual(errorTypes(yield* caught(r)), new Set([ZeroDivisionError]));
});

for (const [name, sleepFirst] of [
  ["test_taskgroup_09", true],
  ["test_taskgroup_10", false],
] as const) {
  tgCase(name, function* () {
    let t1: Task<number> | null = null;
    let t2: Task<number> | null = null;
    const error = yield* caught(
      taskGroup(function* (g) {
        t1 = g.createTask(after(1, 42));
        t2 = g.createTask(after(2, 11));
        if (sleepFirst) yield* sleep(0.1);
        throw new ZeroDivisionError();
      }),
    );
    assert.deepEqual(errorTypes(error), new Set([ZeroDivisionError]));
    assert.ok(t1!.cancelled());
    assert.ok(t2!.cancelled());
  });
}

for (const [name, outerTask] of [
  ["test_taskgroup_11", false],
  ["test_taskgroup_12", true],
] as const) {
  tgCase(name, function* () {
    const r = createTask(
      taskGroup(function* (g1) {
        if (outerTask) g1.createTask(sleep(10));
        yield* taskGroup(function* (g2) {
          for (let i = 0; i < 5; i++) g2.createTask(crashInFinally());
          yield* sleep(10);
        });
      }),
    );
    yield* sleep(0.1);
    assert.equal(r.done(), false);
    r.cancel();
    const error = yield* caught(r);
    assert.deepEqual(errorTypes(error), new Set([ExceptionGroup]));
    assert.deepEqual(errorTypes((error as ExceptionGroup).exceptions[0]), new Set([ZeroDivisionError]));
  });
}

tgCase("test_taskgroup_13", function* () {
  const r = createTask(
    taskGroup(function* (g1) {
      g1.createTask(crashAfter(0.1, () => new ValueError()));
      yield* taskGroup(function* (g2) {
        g2.createTask(crashAfter(10, () => new ValueError()));
      });
    }),
  );
  assert.deepEqual(errorTypes(yield* caught(r)), new Set([ValueError]));
});

tgCase("test_taskgroup_14", function* () {
  const r = createTask(
    taskGroup(function* (g1) {
      g1.createTask(crashAfter(10, () => new ValueError()));
      yield* taskGroup(function* (g2) {
        g2.createTask(crashAfter(0.1, () => new ValueError()));
      });
    }),
  );
  const error = yield* caught(r);
  assert.deepEqual(errorTypes(error), new Set([ExceptionGroup]));
  assert.deepEqual(errorTypes((error as ExceptionGroup).exceptions[0]), new Set([ValueError]));
});

function* slowToCancel(g: TaskGroup): Coro<void> {
  g.createTask(crashAfter(0.3));
  try {
    yield* sleep(10);
  } catch (error) {
    if (error instanceof CancelledError) yield* sleep(0.5);
    throw error;
  }
}

tgCase("test_taskgroup_15", function* () {
  const r = createTask(taskGroup(slowToCancel));
  yield* sleep(0.1);
  assert.equal(r.done(), false);
  r.cancel();
  assert.deepEqual(errorTypes(yield* caught(r)), new Set([ZeroDivisionError]));
});

tgCase("test_taskgroup_16", function* () {
  const r = createTask(
    (function* (): Coro<void> {
      const t = createTask(taskGroup(slowToCancel));
      yield* t;
    })(),
  );
  yield* sleep(0.1);
  assert.equal(r.done(), false);
  r.cancel();
  assert.deepEqual(errorTypes(yield* caught(r)), new Set([ZeroDivisionError]));
});

tgCase("test_taskgroup_17", function* () {
  const num = { n: 0 };
  const r = createTask(taskGroup(() => counting(num, 10, 10)));
  yield* sleep(0.1);
  assert.equal(r.done(), false);
  r.cancel();
  yield* raises(CancelledError, r);
  assert.equal(num.n, 10);
});

tgCase("test_taskgroup_18", function* () {
  let num = 0;
  const r = createTask(
    taskGroup(function* () {
      try {
        yield* sleep(10);
      } catch (error) {
        if (!(error instanceof CancelledError)) throw error;
        num += 10;
        throw new MyExc();
      }
    }),
  );
  yield* sleep(0.1);
  assert.equal(r.done(), false);
  r.cancel();
  assert.deepEqual(errorTypes(yield* caught(r)), new Set([MyExc]));
  assert.equal(num, 10);
});

tgCase("test_taskgroup_19", function* () {
  const r = createTask(
    taskGroup(function* (g) {
      g.createTask(crashAfter(0.1));
      try {
        yield* sleep(10);
      } finally {
        // eslint-disable-next-line no-unsafe-finally -- the case is an error raised while cancelled
        throw new MyExc();
      }
    }),
  );
  assert.deepEqual(errorTypes(yield* caught(r)), new Set([MyExc, ZeroDivisionError]));
});

tgCase("test_taskgroup_20", function* () {}, { skip: NO_BASE_EXCEPTION });
tgCase("test_taskgroup_20a", function* () {}, { skip: NO_BASE_EXCEPTION });
tgCase("test_taskgroup_21a", function* () {}, { skip: NO_BASE_EXCEPTION });

tgCase("test_taskgroup_22", function* () {
  const r = createTask(
    taskGroup(function* (g) {
      g.createTask(after(1, 42));
      g.createTask(after(2, 11));
    }),
  );
  yield* sleep(0.05);
  r.cancel();
  yield* raises(CancelledError, r);
});

tgCase("test_taskgroup_23", function* () {
  yield* taskGroup(function* (g) {
    for (let count = 0; count < 10; count++) {
      yield* sleep(0.1);
      g.createTask(sleep(0.3));
      if (count === 5) assert.ok(g.pendingTasks().length < 5);
    }
    yield* sleep(1.35);
    assert.equal(g.pendingTasks().length, 0);
  });
});

tgCase("test_taskgroup_24", function* () {
  function* root(g: TaskGroup): Coro<void> {
    yield* sleep(0.1);
    g.createTask(sleep(0.1));
    g.createTask(sleep(0.2));
  }
  yield* taskGroup(function* (g) {
    g.createTask(root(g));
  });
});

tgCase("test_taskgroup_25", function* () {
  let nhydras = 0;
  function* hydra(g: TaskGroup): Coro<void> {
    nhydras++;
    yield* sleep(0.01);
    g.createTask(hydra(g));
    g.createTask(hydra(g));
  }
  function* hercules(): Coro<void> {
    while (nhydras < 10) yield* sleep(0.015);
    throw new ZeroDivisionError();
  }
  const error = yield* caught(
    taskGroup(function* (g) {
      g.createTask(hydra(g));
      g.createTask(hercules());
    }),
  );
  assert.deepEqual(errorTypes(error), new Set([ZeroDivisionError]));
  assert.ok(nhydras >= 10);
});

tgCase("test_taskgroup_task_name", function* () {
  yield* taskGroup(function* (g) {
    const t = g.createTask(sleep(0), { name: "yolo" });
    assert.equal(t.getName(), "yolo");
  });
});

tgCase("test_taskgroup_task_context", function* () {}, {
  skip: "TaskGroup.createTask takes no `context` option in this branch (contextvars are another issue's work)",
});

tgCase("test_taskgroup_no_create_task_after_failure", function* () {
  function* coro1(): Coro<void> {
    yield* sleep(0.001);
    throw new ZeroDivisionError();
  }
  function* coro2(g: TaskGroup): Coro<void> {
    try {
      yield* sleep(1);
    } catch (error) {
      if (!(error instanceof CancelledError)) throw error;
      assert.throws(() => g.createTask(coro1()), RuntimeError);
    }
  }
  const error = yield* caught(
    taskGroup(function* (g) {
      g.createTask(coro1());
      g.createTask(coro2(g));
    }),
  );
  assert.deepEqual(errorTypes(error), new Set([ZeroDivisionError]));
});

tgCase("test_taskgroup_context_manager_exit_raises", function* () {
  class CustomException extends Error {}
  function* raiseExc(): Coro<void> {
    throw new CustomException();
  }
  yield* createTask(
    (function* (): Coro<void> {
      const task = currentTask()!;
      const error = yield* caught(
        taskGroup(function* (tg) {
          // Python's `async with database():` whose exit raises.
          try {
            tg.createTask(raiseExc());
            yield* sleep(1);
          } finally {
            // eslint-disable-next-line no-unsafe-finally -- the case is a context manager whose exit raises
            throw new CustomException();
          }
        }),
      );
      assert.ok(error instanceof ExceptionGroup);
      assert.equal(task.cancelling(), 0);
      assert.equal(error.exceptions.length, 2);
      assert.ok(error.exceptions.every((e) => e instanceof CustomException));
    })(),
  );
});

const ONE_ENTRY = "a TaskGroup is entered only through taskGroup(), which makes a new one for each block: there is no `async with tg` to enter twice";
tgCase("test_taskgroup_already_entered", function* () {}, { skip: ONE_ENTRY });
tgCase("test_taskgroup_double_enter", function* () {}, { skip: ONE_ENTRY });

tgCase("test_taskgroup_finished", function* () {
  let group: TaskGroup | null = null;
  yield* taskGroup(function* (tg) {
    group = tg;
  });
  let closed = false;
  const coro = (function* (): Coro<void> {
    try {
      yield* sleep(0);
    } finally {
      closed = true;
    }
  })();
  coro.next(); // started, so that closing it runs its finally (Python closes the coroutine)
  assert.throws(() => group!.createTask(coro), (e: Error) => e instanceof RuntimeError && /is finished/.test(e.message));
  assert.ok(closed);
});

tgCase("test_taskgroup_not_entered", function* () {
  const tg = new TaskGroup();
  assert.throws(() => tg.createTask(sleep(0)), (e: Error) => e instanceof RuntimeError && /has not been entered/.test(e.message));
});

tgCase("test_taskgroup_without_parent_task", function* () {}, {
  skip: "drives `__aenter__()` without a task (await_without_task); a coroutine here always runs inside a task",
});

syncCases("test_taskgroups", "TestTaskGroup")("test_coro_closed_when_tg_closed", () => {}, {
  skip: "the same case as test_taskgroup_finished, run with loop.run_until_complete; Python's variant only differs in how the loop is started",
});

tgCase("test_cancelling_level_preserved", function* () {
  const error = yield* caught(
    taskGroup(function* (tg) {
      tg.createTask(crashAfter(0, () => new RuntimeError()));
    }),
  );
  assert.deepEqual(errorTypes(error), new Set([RuntimeError]));
  assert.equal(currentTask()!.cancelling(), 0);
});

tgCase("test_nested_groups_both_cancelled", function* () {
  const error = yield* caught(
    taskGroup(function* (outerTg) {
      const inner = yield* caught(
        taskGroup(function* (innerTg) {
          innerTg.createTask(crashAfter(0, () => new RuntimeError()));
          outerTg.createTask(crashAfter(0, () => new ValueError()));
        }),
      );
      assert.deepEqual(errorTypes(inner), new Set([RuntimeError]));
      assert.equal(currentTask()!.cancelling(), 1);
    }),
  );
  assert.deepEqual(errorTypes(error), new Set([ValueError]));
  assert.equal(currentTask()!.cancelling(), 0);
});

tgCase("test_error_and_cancel", function* () {
  const event = new Event();
  function* raiseError(): Coro<void> {
    event.set();
    yield* sleep(0);
    throw new RuntimeError();
  }
  function* inner(): Coro<void> {
    const error = yield* caught(
      taskGroup(function* (tg) {
        tg.createTask(raiseError());
        yield* sleep(1);
        assert.fail("Sleep in group should have been cancelled");
      }),
    );
    assert.deepEqual(errorTypes(error), new Set([RuntimeError]));
    assert.equal(currentTask()!.cancelling(), 1);
    yield* sleep(1);
    assert.fail("Sleep after group should have been cancelled");
  }
  const t = createTask(inner());
  yield* event.wait();
  assert.equal(t.cancelling(), 0);
  t.cancel();
  assert.equal(t.cancelling(), 1);
  yield* raises(CancelledError, t);
  assert.ok(t.cancelled());
});
