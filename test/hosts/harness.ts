/**
 * A stand-in for the part of `node:test` the portable test files use
 * (`test(name, [{ skip, timeout }], fn)`), for hosts that have no `node:test`
 * of their own: the bundles run on Bun, Deno and in Chromium alias
 * `node:test` to this module, so they execute the very files `npm test` runs
 * under Node's runner. Tests run one at a time, in the order registered.
 */

/** What a test body receives (Node's `TestContext`, the part our files use). */
export interface TestContext {
  readonly name: string;
}

/** The options our files pass to `test`. */
export interface TestOptions {
  skip?: boolean | string;
  timeout?: number;
}

type Body = (context: TestContext) => unknown;

interface Registered {
  readonly name: string;
  readonly options: TestOptions;
  readonly body: Body | undefined;
}

const registered: Registered[] = [];

/** Registers a test, as `node:test`'s `test(name, [options], fn)`. */
export function test(name: string, optionsOrBody?: TestOptions | Body, maybeBody?: Body): void {
  const options = typeof optionsOrBody === "object" ? optionsOrBody : {};
  const body = typeof optionsOrBody === "function" ? optionsOrBody : maybeBody;
  registered.push({ name, options, body });
}

/** One test's outcome. */
export interface TestOutcome {
  readonly name: string;
  readonly status: "pass" | "fail" | "skip";
  readonly detail?: string;
  readonly ms: number;
}

/** The outcome of a whole run. */
export interface RunReport {
  readonly host: string;
  readonly pass: number;
  readonly fail: number;
  readonly skip: number;
  readonly ms: number;
  readonly failures: readonly TestOutcome[];
}

const DEFAULT_TIMEOUT_MS = 60_000;

function describeError(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return String(error);
}

async function runOne(entry: Registered): Promise<TestOutcome> {
  const started = performance.now();
  const skip = entry.options.skip;
  if (skip !== undefined && skip !== false) {
    return { name: entry.name, status: "skip", detail: typeof skip === "string" ? skip : "", ms: 0 };
  }
  const body = entry.body;
  if (body === undefined) return { name: entry.name, status: "skip", detail: "no body (todo)", ms: 0 };
  const limit = entry.options.timeout ?? DEFAULT_TIMEOUT_MS;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`test timed out after ${limit} ms`)), limit);
  });
  try {
    await Promise.race([Promise.resolve().then(() => body({ name: entry.name })), expired]);
    return { name: entry.name, status: "pass", ms: performance.now() - started };
  } catch (error) {
    return { name: entry.name, status: "fail", detail: describeError(error), ms: performance.now() - started };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs every registered test and reports, calling `onOutcome` after each.
 * `host` names the runtime in the report.
 */
export async function runRegistered(host: string, onOutcome: (outcome: TestOutcome) => void = () => {}): Promise<RunReport> {
  const started = performance.now();
  const failures: TestOutcome[] = [];
  let pass = 0;
  let skip = 0;
  for (const entry of registered) {
    const outcome = await runOne(entry);
    if (outcome.status === "pass") pass++;
    else if (outcome.status === "skip") skip++;
    else failures.push(outcome);
    onOutcome(outcome);
  }
  return { host, pass, fail: failures.length, skip, ms: performance.now() - started, failures };
}
