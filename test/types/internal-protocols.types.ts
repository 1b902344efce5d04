// The public classes meet the internal protocols the loop relies on. These
// checks live here rather than as `implements` clauses, which would name the
// internal interfaces in the published declarations (stripInternal removes
// the members, not the clauses).
import type { Context, ContextHolder } from "../../src/contextvars.js";
import type { EventLoop } from "../../src/events.js";
import type { Handle, HandleOwner, Runnable, Timer, TimerHandle } from "../../src/handles.js";
import type { LiveMember } from "../../src/live-tasks.js";
import type { Task } from "../../src/tasks.js";

type Satisfies<T extends Protocol, Protocol> = T;

export type InternalProtocols = [
  Satisfies<Context, ContextHolder>,
  Satisfies<EventLoop, HandleOwner>,
  Satisfies<Handle, Runnable & ContextHolder>,
  Satisfies<TimerHandle, Timer>,
  Satisfies<Task<unknown>, Runnable & LiveMember & ContextHolder>,
];
