import assert from "node:assert/strict";
import { test } from "node:test";
import { inspect } from "node:util";
import {
  CancelledError,
  ExceptionGroup,
  RuntimeError,
  TaskGroup,
  copyContext,
  ContextVar,
  createTask,
  currentTask,
  fromPromise,
  getRunningLoop,
  sleep,
  taskGroup,
  type Coro,
  type Task,
} from "../src/index.js";
import { after, collectGarbage, failsAfter, runCapturing, runVirtual } from "./support.js";

test("the block waits for every task of the group", async () => {
  const outcome = await runVirtual(function* () {
    const tasks = yield* taskGroup(function* (tg) {
      return [tg.createTask(after(1, "a")), tg.createTask(after(3, "b"))];
    });
    return { results: tasks.map((t) => t.result()), at: getRunningLoop().time() };
  });
  assert.deepEqual(outcome, { results: ["a", "b"], at: 3 });
});

test("the block returns the body's value", async () => {
  assert.equal(await runVirtual(() => taskGroup(function* () {
    return "body value";
  })), "body value");
});

test("the first failure cancels the siblings and the body, and errors surface as one ExceptionGroup", async () => {
  const outcome = await runVirtual(function* () {
    let sibling: Task<string> | null = null;
    const trail: string[] = [];
    try {
      yield* taskGroup(function* (tg) {
        sibling = tg.createTask(after(10, "sibling"));
        tg.createTask(failsAfter(1, "boom"));
        try {
          yield* sleep(100);
        } catch (e) {
          trail.push(e instanceof CancelledError ? "body cancelled" : "body other");
          throw e;
        }
      });
    } catch (e) {
      assert.ok(e instanceof ExceptionGroup);
      trail.push(`group: ${e.exceptions.map((x) => x.message).join(",")}`);
    }
    return { trail, siblingCancelled: sibling!.cancelled(), at: getRunningLoop().time() };
  });
  assert.deepEqual(outcome, { trail: ["body cancelled", "group: boom"], siblingCancelled: true, at: 1 });
});

test("several failures are collected in completion order", async () => {
  const messages = await runVirtual(function* () {
    try {
      yield* taskGroup(function* (tg) {
        tg.createTask(failsAfter(1, "first"));
        tg.createTask(
          (function* (): Coro<void> {
            try {
              yield* sleep(5);
            } finally {
              // eslint-disable-next-line no-unsafe-finally -- a failure while being cancelled
              throw new Error("second, while cancelled");
            }
          })(),
        );
      });
    } catch (e) {
      return (e as ExceptionGroup).exceptions.map((x) => x.message);
    }
    return null;
  });
  assert.deepEqual(messages, ["first", "second, while cancelled"]);
});

test("cancellations are not included in the ExceptionGroup", async () => {
  const count = await runVirtual(function* () {
    try {
      yield* taskGroup(function* (tg) {
        tg.createTask(after(10, "cancelled sibling"));
        tg.createTask(failsAfter(1, "only error"));
      });
    } catch (e) {
      return (e as ExceptionGroup).exceptions.length;
    }
    return -1;
  });
  assert.equal(count, 1);
});

test("an error in the body cancels the tasks and joins the group's errors", async () => {
  const outcome = await runVirtual(function* () {
    let child: Task<string> | null = null;
    try {
      yield* taskGroup(function* (tg) {
        child = tg.createTask(after(10, "x"));
        yield* sleep(1);
        throw new Error("body failed");
      });
    } catch (e) {
      return { messages: (e as ExceptionGroup).exceptions.map((x) => x.message), childCancelled: child!.cancelled() };
    }
    return null;
  });
  assert.deepEqual(outcome, { messages: ["body failed"], childCancelled: true });
});

test("an outer cancellation propagates as CancelledError, not swallowed", async () => {
  await runVirtual(function* () {
    let child: Task<string> | null = null;
    const outer = createTask(
      taskGroup(function* (tg) {
        child = tg.createTask(after(10, "x"));
        yield* sleep(10);
      }),
    );
    yield* sleep(1);
    outer.cancel();
    yield* sleep(1);
    assert.equal(outer.cancelled(), true);
    assert.equal(child!.cancelled(), true);
  });
});

test("cancelling the parent while it waits for the tasks at the end cancels them", async () => {
  await runVirtual(function* () {
    let child: Task<string> | null = null;
    const outer = createTask(
      taskGroup(function* (tg) {
        child = tg.createTask(after(10, "x"));
      }),
    );
    yield* sleep(1);
    outer.cancel();
    yield* sleep(1);
    assert.equal(child!.cancelled(), true);
    assert.equal(outer.cancelled(), true);
  });
});

test("the parent's cancel count is restored after the group cancelled it itself", async () => {
  assert.equal(await runVirtual(function* () {
    try {
      yield* taskGroup(function* (tg) {
        tg.createTask(failsAfter(1, "boom"));
        yield* sleep(10);
      });
    } catch {
      // ExceptionGroup
    }
    return currentTask()!.cancelling();
  }), 0);
});

test("a child cancelled explicitly by the user does not affect the group", async () => {
  assert.deepEqual(await runVirtual(() =>
    taskGroup(function* (tg) {
      const victim = tg.createTask(after(10, "x"));
      const other = tg.createTask(after(2, "other"));
      yield* sleep(1);
      victim.cancel();
      yield* other;
      return [victim.cancelled(), other.result()];
    }),
  ), [true, "other"]);
});

test("creating a task in a finished group is a RuntimeError", async () => {
  await runVirtual(function* () {
    let saved: TaskGroup | null = null;
    yield* taskGroup(function* (tg) {
      saved = tg;
    });
    assert.throws(() => saved!.createTask(after(1, 1)), /is finished/);
  });
});

test("creating a task in a group that is shutting down is a RuntimeError", async () => {
  const message = await runVirtual(function* () {
    let seen = "";
    try {
      yield* taskGroup(function* (tg) {
        tg.createTask(failsAfter(1, "boom"));
        try {
          yield* sleep(10);
        } catch (e) {
          try {
            tg.createTask(after(1, 1));
          } catch (inner) {
            seen = (inner as Error).message;
          }
          throw e;
        }
      });
    } catch {
      // ExceptionGroup
    }
    return seen;
  });
  assert.match(message, /is shutting down/);
});

test("a TaskGroup that was not entered refuses tasks", () => {
  assert.throws(() => new TaskGroup().createTask(after(1, 1)), RuntimeError);
});

test("tasks created by children while the group is open are awaited too", async () => {
  assert.equal(await runVirtual(function* () {
    let grandchild: Task<string> | null = null;
    yield* taskGroup(function* (tg) {
      tg.createTask(
        (function* (): Coro<void> {
          yield* sleep(1);
          grandchild = tg.createTask(after(5, "late"));
        })(),
      );
    });
    return [grandchild!.result(), getRunningLoop().time()].join("@");
  }), "late@6");
});

test("finally blocks of cancelled children run before the group ends", async () => {
  const trail = await runVirtual(function* () {
    const seen: string[] = [];
    try {
      yield* taskGroup(function* (tg) {
        tg.createTask(
          (function* (): Coro<void> {
            try {
              yield* sleep(10);
            } finally {
              seen.push("child cleanup");
            }
          })(),
        );
        tg.createTask(failsAfter(1, "boom"));
      });
    } catch {
      seen.push("group raised");
    }
    return seen;
  });
  assert.deepEqual(trail, ["child cleanup", "group raised"]);
});

test("an error takes priority over an outer cancellation, and the cancellation stays pending", async () => {
  await runVirtual(function* () {
    const outer = createTask(
      (function* (): Coro<string> {
        try {
          yield* taskGroup(function* (tg) {
            tg.createTask(
              (function* (): Coro<void> {
                try {
                  yield* sleep(10);
                } catch {
                  throw new Error("failed during cancel");
                }
              })(),
            );
            yield* sleep(10);
          });
        } catch (e) {
          assert.ok(e instanceof ExceptionGroup);
        }
        yield* sleep(1); // the outer cancellation is delivered here
        return "not reached";
      })(),
    );
    yield* sleep(1);
    outer.cancel();
    yield* sleep(5);
    assert.equal(outer.cancelled(), true);
  });
});

test("a group describes itself", async () => {
  await runVirtual(() =>
    taskGroup(function* (tg) {
      tg.createTask(sleep(1));
      assert.match(inspect(tg), /<TaskGroup tasks=1 entered>/);
    }),
  );
});

test("a group outside a task is a RuntimeError", async () => {
  await runVirtual(function* () {
    const loop = getRunningLoop();
    let error: unknown = null;
    loop.callSoon(() => {
      const gen = taskGroup(function* () {
        return 1;
      });
      try {
        gen.next();
      } catch (e) {
        error = e;
      }
    });
    yield* sleep(0);
    assert.ok(error instanceof RuntimeError);
  });
});

test("a TaskGroup entered a second time is a RuntimeError", async () => {
  await runVirtual(function* () {
    const group = new TaskGroup();
    yield* group.run(function* () {});
    try {
      yield* group.run(function* () {});
      assert.fail("no RuntimeError");
    } catch (error) {
      assert.ok(error instanceof RuntimeError);
      assert.match(error.message, /^TaskGroup <TaskGroup tasks=0> has already been entered$/);
    }
  });
});

test("a task of a group whose parent already completed reports its error to the loop", async () => {
  const outcome = await runCapturing(function* () {
    const parent = createTask(
      (function* (): Coro<void> {
        // The parent drives the group's block by hand for one step, then ends without finishing it.
        const block = taskGroup(function* (tg) {
          tg.createTask(failsAfter(1, "orphaned failure"), { name: "orphan" });
          yield* sleep(100);
        });
        block.next();
      })(),
      { name: "parent" },
    );
    yield* parent;
    yield* sleep(2);
  });
  assert.equal(outcome.error, undefined);
  assert.equal(outcome.reports.length, 1);
  assert.equal(outcome.reports[0]!.message, "Task orphan has errored out but its parent task parent is already completed");
  assert.equal((outcome.reports[0]!.exception as Error).message, "orphaned failure");
});

// ------------------------------------------------------------ start (Trio's nursery.start)

test("start() returns the value passed to started() while the task goes on in the group", async () => {
  const outcome = await runVirtual(function* () {
    const trail: string[] = [];
    yield* taskGroup(function* (tg) {
      const port = yield* tg.start<number>(function* (status) {
        yield* sleep(1);
        status.started(8080);
        yield* sleep(2);
        trail.push(`server stopped at ${getRunningLoop().time()}`);
      });
      trail.push(`listening on ${port} at ${getRunningLoop().time()}`);
    });
    return trail;
  });
  assert.deepEqual(outcome, ["listening on 8080 at 1", "server stopped at 3"]);
});

test("an error raised before started() comes out of start() and does not fail the group", async () => {
  const outcome = await runVirtual(function* () {
    const trail: string[] = [];
    yield* taskGroup(function* (tg) {
      tg.createTask(after(2, "sibling"));
      try {
        yield* tg.start(function* () {
          yield* sleep(1);
          throw new Error("cannot bind");
        });
      } catch (error) {
        trail.push(`start raised: ${(error as Error).message}`);
      }
      yield* sleep(2);
      trail.push("group still running");
    });
    return trail;
  });
  assert.deepEqual(outcome, ["start raised: cannot bind", "group still running"]);
});

test("an error raised after started() fails the group as any task's", async () => {
  const outcome = await runVirtual(function* () {
    try {
      yield* taskGroup(function* (tg) {
        yield* tg.start(function* (status) {
          status.started();
          yield* sleep(1);
          throw new Error("crashed later");
        });
        yield* sleep(5);
      });
    } catch (error) {
      return (error as ExceptionGroup).exceptions.map((e) => e.message);
    }
    return null;
  });
  assert.deepEqual(outcome, ["crashed later"]);
});

test("a function that returns without calling started() makes start() raise RuntimeError", async () => {
  const outcome = await runVirtual(function* () {
    return yield* taskGroup(function* (tg) {
      try {
        yield* tg.start(() => sleep(1));
      } catch (error) {
        return error instanceof RuntimeError;
      }
      return false;
    });
  });
  assert.equal(outcome, true);
});

test("calling started() twice is a RuntimeError", async () => {
  const outcome = await runVirtual(function* () {
    let second: unknown;
    yield* taskGroup(function* (tg) {
      yield* tg.start(function* (status) {
        status.started();
        try {
          status.started();
        } catch (error) {
          second = error;
        }
        yield* sleep(0);
      });
    });
    return second instanceof RuntimeError;
  });
  assert.equal(outcome, true);
});

test("cancelling the caller of start() cancels the task that has not started yet", async () => {
  const outcome = await runVirtual(function* () {
    const trail: string[] = [];
    yield* taskGroup(function* (tg) {
      const caller = tg.createTask(
        tg.start(function* (status) {
          try {
            yield* sleep(10);
          } catch (error) {
            trail.push(`starting task got ${(error as Error).name}`);
            throw error;
          }
          status.started();
        }),
      );
      yield* sleep(1);
      caller.cancel();
    });
    return [trail, getRunningLoop().time()];
  });
  assert.deepEqual(outcome, [["starting task got CancelledError"], 1]);
});

// ------------------------------------------------------------ cancel (3.15) and createTask options (3.14)

test("cancel() cancels every task and the body, and the block ends without raising", async () => {
  const outcome = await runVirtual(function* () {
    const trail: string[] = [];
    const result = yield* taskGroup(function* (tg) {
      tg.createTask(
        (function* () {
          try {
            yield* sleep(10);
          } catch (error) {
            trail.push(`child ${(error as Error).name}: ${(error as Error).message}`);
            throw error;
          }
        })(),
      );
      getRunningLoop().callLater(1, () => tg.cancel("enough"));
      yield* sleep(10);
      return "not reached";
    });
    return { result, trail, at: getRunningLoop().time(), cancelling: currentTask()!.cancelling() };
  });
  assert.deepEqual(outcome, { result: undefined, trail: ["child CancelledError: enough"], at: 1, cancelling: 0 });
});

test("cancel() from the body while waiting at the end of the block stops the remaining tasks", async () => {
  const outcome = await runVirtual(function* () {
    yield* taskGroup(function* (tg) {
      tg.createTask(sleep(100));
      tg.createTask(
        (function* () {
          yield* sleep(1);
          tg.cancel();
        })(),
      );
    });
    return getRunningLoop().time();
  });
  assert.equal(outcome, 1);
});

test("after cancel(), a cancellation from outside still propagates", async () => {
  const outcome = await runVirtual(function* () {
    const parent = createTask(
      taskGroup(function* (tg) {
        tg.createTask(sleep(100));
        yield* sleep(1);
        currentTask()!.cancel();
        tg.cancel();
        yield* sleep(1);
      }),
    );
    try {
      yield* parent;
    } catch (error) {
      return error instanceof CancelledError;
    }
    return false;
  });
  assert.equal(outcome, true);
});

test("after cancel(), a child's failure still raises an ExceptionGroup", async () => {
  const outcome = await runVirtual(function* () {
    try {
      yield* taskGroup(function* (tg) {
        tg.createTask(
          (function* () {
            try {
              yield* sleep(10);
            } finally {
              // eslint-disable-next-line no-unsafe-finally
              throw new Error("failed while cancelled");
            }
          })(),
        );
        yield* sleep(1);
        tg.cancel();
        yield* sleep(1);
      });
    } catch (error) {
      return (error as ExceptionGroup).exceptions.map((e) => e.message);
    }
    return null;
  });
  assert.deepEqual(outcome, ["failed while cancelled"]);
});

test("createTask takes a context and eagerStart (Python 3.14)", async () => {
  const outcome = await runVirtual(function* () {
    const request = new ContextVar<string>("request", { default: "none" });
    const context = copyContext();
    context.run(() => request.set("r-42"));
    const trail: string[] = [];
    yield* taskGroup(function* (tg) {
      tg.createTask(
        (function* () {
          trail.push(`eager child sees ${request.get()}`);
          yield* sleep(0);
        })(),
        { name: "eager", context, eagerStart: true },
      );
      trail.push("body after createTask");
    });
    return trail;
  });
  assert.deepEqual(outcome, ["eager child sees r-42", "body after createTask"]);
});

test("an eager task that fails in its first step fails the group", async () => {
  const outcome = await runVirtual(function* () {
    try {
      yield* taskGroup(function* (tg) {
        tg.createTask(
          (function* (): Coro<void> {
            throw new Error("failed at once");
          })(),
          { eagerStart: true },
        );
        yield* sleep(10);
      });
    } catch (error) {
      return [(error as ExceptionGroup).exceptions.map((e) => e.message), getRunningLoop().time()];
    }
    return null;
  });
  assert.deepEqual(outcome, [["failed at once"], 0]);
});

test("cancel() before the block starts, twice, or after it ended does nothing; start() before it starts is a RuntimeError", async () => {
  const outcome = await runVirtual(function* () {
    const group = new TaskGroup();
    group.cancel();
    let startError: unknown;
    try {
      yield* group.start(function* (status) {
        status.started();
      });
    } catch (error) {
      startError = error;
    }
    const result = yield* taskGroup(function* (tg) {
      tg.cancel();
      tg.cancel();
      yield* sleep(1);
      return "not reached";
    });
    return { startError: startError instanceof RuntimeError, result, cancelling: currentTask()!.cancelling() };
  });
  assert.deepEqual(outcome, { startError: true, result: undefined, cancelling: 0 });
});

test("a long-lived task group does not keep the tasks that already finished", async () => {
  await runVirtual(function* () {
    yield* taskGroup(function* (group) {
      const refs: WeakRef<object>[] = [];
      function* quick(): Coro<void> {
        yield* sleep(0);
      }
      for (let i = 0; i < 200; i++) refs.push(new WeakRef(group.createTask(quick())));
      yield* sleep(0.1); // every task finished and was noted by the group
      yield* fromPromise(collectGarbage()); // weak references clear after the host's job
      const alive = refs.filter((ref) => ref.deref() !== undefined).length;
      assert.equal(alive, 0, `${alive} finished tasks still held`);
    });
  });
});

test("a long-lived task group lets go of finished tasks while an older one still runs", async () => {
  await runVirtual(function* () {
    yield* taskGroup(function* (group) {
      const refs: WeakRef<object>[] = [];
      function* quick(): Coro<void> {
        yield* sleep(0);
      }
      const slow = group.createTask(sleep(1));
      for (let i = 0; i < 200; i++) refs.push(new WeakRef(group.createTask(quick())));
      yield* sleep(0.1); // the quick tasks finished and were noted; the first one still runs
      assert.equal(slow.done(), false);
      yield* fromPromise(collectGarbage());
      const alive = refs.filter((ref) => ref.deref() !== undefined).length;
      assert.ok(alive < 100, `${alive} of 200 finished tasks still held`);
    });
  });
});
