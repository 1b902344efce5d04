/**
 * Context variables (Python's `contextvars`): values that follow the flow
 * of a program through tasks, the way a thread-local follows a thread.
 *
 * Every task runs in its own context: a copy of the context current where
 * it was created (or, given `createTask(coro, { context })`, that context
 * itself). A `set` inside a task is therefore seen by the task's later
 * steps and by the tasks it creates afterwards, never by its parent or its
 * siblings. A `callSoon`/`callLater`/`callAt` callback runs in a copy of
 * the context current when it was scheduled (handles.ts). Outside tasks and
 * callbacks, the context follows the host's async context where there is
 * one (AsyncLocalStorage on Node, Bun and Deno): a `set` in a request
 * handler, a timer or after a native `await` is seen by that code's own
 * continuations and the tasks it creates, never by another request.
 *
 * A context's values are an immutable map replaced on every `set`, so a
 * copy is one pointer (Python uses a HAMT for the same reason); contexts
 * hold at most a handful of variables, so the replaced map is small.
 */
import { formatValue, inspectCustom } from "./repr.js";
import { LookupError, RuntimeError } from "./errors.js";
import { hostContextStore, type HostStore } from "./async-scope.js";

/** Internal (not exported by the package): The values of a context: replaced on every `set`, never mutated. */
export type VarMap = ReadonlyMap<ContextVar<unknown>, unknown>;

const EMPTY: VarMap = new Map();

/**
 * Internal (not exported by the package): What holds the values of the running context: a `Context`, or a
 * task (which keeps its own copy in a field, so a task costs no extra
 * object). `contextVars` is replaced, never mutated.
 */
export interface ContextHolder {
  contextVars: VarMap;
}

/** The values a new task starts with: those of the running context (a copy is the same immutable map). */
export function currentContextVars(): VarMap {
  return active === outsideTasks ? hostContextVars() : active.contextVars;
}

/**
 * @internal Makes `holder` the running context; returns the one it replaces,
 * to be given back to `restoreContext` (tasks do this around every step).
 */
export function enterContext(holder: ContextHolder): ContextHolder {
  const previous = active;
  active = holder;
  return previous;
}

/** @internal Gives back the context `enterContext` replaced. */
export function restoreContext(previous: ContextHolder): void {
  active = previous;
}

/**
 * A mapping of context variables to values (Python's `contextvars.Context`).
 * `copyContext()` makes one; `context.run(fn)` runs `fn` inside it, so the
 * `set`s `fn` makes land in it.
 */
export class Context implements Iterable<[ContextVar<unknown>, unknown]> {
  /** @internal */ contextVars: VarMap;
  private entered = false;

  /** An empty context (Python's `Context()`); `copyContext()` gives a copy of the current one. */
  constructor(vars: VarMap = EMPTY) {
    this.contextVars = vars;
  }

  /**
   * Calls `fn(...args)` with this context as the current one and returns its
   * result; the changes `fn` makes to context variables stay in this context.
   * `RuntimeError` if the context is already entered (by an enclosing `run`).
   */
  run<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R {
    if (typeof fn !== "function") throw new TypeError(`Context.run() takes a function, got ${typeof fn}`);
    if (this.entered) throw new RuntimeError("cannot enter context: it is already entered");
    this.entered = true;
    const previous = enterContext(this);
    try {
      return fn(...args);
    } finally {
      restoreContext(previous);
      this.entered = false;
    }
  }

  /** A shallow copy: the same values, independent from now on. */
  copy(): Context {
    return new Context(this.contextVars);
  }

  /** The value of `variable` in this context, or `dflt` when it has none. */
  get<T>(variable: ContextVar<T>): T | undefined;
  get<T, D>(variable: ContextVar<T>, dflt: D): T | D;
  get<T, D>(variable: ContextVar<T>, dflt?: D): T | D | undefined {
    checkVar(variable, "Context.get()");
    const vars = this.contextVars;
    return vars.has(variable as ContextVar<unknown>) ? (vars.get(variable as ContextVar<unknown>) as T) : dflt;
  }

  /** Whether `variable` has a value in this context (Python's `var in ctx`). */
  has(variable: ContextVar<unknown>): boolean {
    checkVar(variable, "Context.has()");
    return this.contextVars.has(variable);
  }

  /** How many variables have a value here. */
  get size(): number {
    return this.contextVars.size;
  }

  /** The variables that have a value here. */
  keys(): IterableIterator<ContextVar<unknown>> {
    return this.contextVars.keys();
  }

  /** The values, in the order of `keys()`. */
  values(): IterableIterator<unknown> {
    return this.contextVars.values();
  }

  /** `[variable, value]` pairs. */
  entries(): IterableIterator<[ContextVar<unknown>, unknown]> {
    return this.contextVars.entries();
  }

  /** `for (const [variable, value] of context)`: the same as `entries()`. */
  [Symbol.iterator](): IterableIterator<[ContextVar<unknown>, unknown]> {
    return this.contextVars.entries();
  }

  [inspectCustom](): string {
    return `<Context vars=${this.contextVars.size}>`;
  }
}

// Outside tasks, callbacks and `Context.run`, the context follows the host's
// async context: each host callback (a request handler, a native `await`'s
// continuation, a timer) sees the context of the code that started it, and
// a `set` there makes a new context for that callback and what it starts,
// never writing one that another request would see. Hosts without
// AsyncLocalStorage (browsers) have one root context instead.
const hostContexts = hostContextStore as HostStore<Context> | null;
// The values outside every host context that had a `set`: the program's start.
const rootContext = new Context();
// A marker holder: "the current context is the host's" (its own field is unused).
const outsideTasks: ContextHolder = { contextVars: EMPTY };

function hostContextVars(): VarMap {
  return (hostContexts?.getStore() ?? rootContext).contextVars;
}

// A `set` or `reset` outside tasks: a new context for the running host callback.
function setHostContextVars(vars: VarMap): void {
  if (hostContexts === null) rootContext.contextVars = vars;
  else hostContexts.enter(new Context(vars));
}

// Invariant: `active` is the holder whose values get()/set() read and write —
// the running task (or its explicit context) during a step, the running
// callback's copy during a `callSoon`/`callLater` callback, the innermost
// `Context.run` inside one, and `outsideTasks` (the host's context) otherwise.
let active: ContextHolder = outsideTasks;

/** A copy of the current context (Python's `contextvars.copy_context()`). */
export function copyContext(): Context {
  return new Context(currentContextVars());
}

const MISSING: unique symbol = Symbol("Token.MISSING");

/**
 * What `ContextVar.set` returns: `reset(token)` puts the variable back to
 * the value it had before that `set` (Python's `contextvars.Token`).
 */
export class Token<T> {
  /** The marker `oldValue` holds when the variable had no value before the `set`. */
  static readonly MISSING: typeof MISSING = MISSING;
  /** @internal */ used = false;

  /** @internal Made by `ContextVar.set`. */
  constructor(
    /** The variable that was set. */
    readonly variable: ContextVar<T>,
    /** The value before the `set`, or `Token.MISSING`. */
    readonly oldValue: T | typeof MISSING,
    /** @internal Where the `set` happened. */
    readonly holder: ContextHolder,
  ) {}

  /**
   * Resets the variable with this token (Python 3.14: a token is a context
   * manager), so `using _ = v.set(x)` puts `v` back when the scope ends.
   * Throws as `reset` does (a token used already, or another context).
   *
   * @example
   * {
   *   using _ = requestId.set("r-1");
   *   handle(); // sees "r-1"
   * }           // requestId is back to its previous value
   */
  [Symbol.dispose](): void {
    this.variable.reset(this);
  }

  [inspectCustom](): string {
    return `<Token${this.used ? " used" : ""} var=${this.variable.name}>`;
  }
}

/**
 * A context variable (Python's `contextvars.ContextVar`): `get()` reads its
 * value in the current context, `set(v)` changes it there and returns a
 * `Token` for `reset`.
 *
 * @example
 * const requestId = new ContextVar<string>("requestId", { default: "-" });
 * function* handle(id: string): Coro<void> {
 *   requestId.set(id);             // this task only
 *   yield* sleep(1);
 *   log(`done ${requestId.get()}`); // still this task's id
 * }
 */
export class ContextVar<T> {
  /** The name given at creation, for reprs and messages. */
  readonly name: string;
  private readonly hasDefault: boolean;
  private readonly defaultValue: T | undefined;

  constructor(name: string, options?: { default?: T }) {
    if (typeof name !== "string") throw new TypeError(`ContextVar() takes a name string, got ${typeof name}`);
    if (options !== undefined && (options === null || typeof options !== "object")) throw new TypeError("ContextVar(): options must be an object");
    this.name = name;
    this.hasDefault = options !== undefined && "default" in options;
    this.defaultValue = options?.default;
  }

  /**
   * The variable's value in the current context; else `dflt` when given,
   * else the variable's default; else `LookupError`.
   */
  get(): T;
  get<D>(dflt: D): T | D;
  get<D>(...dflt: [D?]): T | D {
    const holder = active;
    const vars = holder === outsideTasks ? hostContextVars() : holder.contextVars;
    if (vars.has(this as ContextVar<unknown>)) return vars.get(this as ContextVar<unknown>) as T;
    if (dflt.length > 0) return dflt[0] as D;
    if (this.hasDefault) return this.defaultValue as T;
    throw new LookupError(`<ContextVar name=${JSON.stringify(this.name)}> has no value in this context`);
  }

  /** Sets the value in the current context; returns a `Token` to undo it with `reset`. */
  set(value: T): Token<T> {
    const holder = active;
    const vars = holder === outsideTasks ? hostContextVars() : holder.contextVars;
    const key = this as ContextVar<unknown>;
    const token = new Token<T>(this, vars.has(key) ? (vars.get(key) as T) : MISSING, holder);
    const next = new Map(vars).set(key, value);
    if (holder === outsideTasks) setHostContextVars(next);
    else holder.contextVars = next;
    return token;
  }

  /**
   * Puts the variable back to its value before the `set` that gave `token`.
   * `RangeError` for a token of another variable, made in another context,
   * or already used (Python's ValueError / RuntimeError).
   */
  reset(token: Token<T>): void {
    if (!(token instanceof Token)) throw new TypeError(`ContextVar.reset() takes a Token, got ${typeof token}`);
    if (token.variable !== this) throw new RangeError(`the token was created by a different ContextVar (${token.variable.name})`);
    if (token.used) throw new RangeError("the token has already been used once");
    if (token.holder !== active) throw new RangeError("the token was created in a different Context");
    token.used = true;
    const key = this as ContextVar<unknown>;
    const holder = active;
    const next = new Map(holder === outsideTasks ? hostContextVars() : holder.contextVars);
    if (token.oldValue === MISSING) next.delete(key);
    else next.set(key, token.oldValue);
    if (holder === outsideTasks) setHostContextVars(next);
    else holder.contextVars = next;
  }

  [inspectCustom](): string {
    return `<ContextVar name=${JSON.stringify(this.name)}${this.hasDefault ? ` default=${formatValue(this.defaultValue)}` : ""}>`;
  }
}

function checkVar(variable: unknown, where: string): void {
  if (!(variable instanceof ContextVar)) throw new TypeError(`${where} takes a ContextVar, got ${typeof variable}`);
}
