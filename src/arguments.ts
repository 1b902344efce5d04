/**
 * Checks of the numeric and option arguments of the public API, in one
 * place so that every function reports a bad argument the same way: a value
 * of the wrong type is a `TypeError`, a number out of range (NaN, negative
 * where that is not allowed, a fraction where a count is expected) a
 * `RangeError` (Python's `ValueError`); each message names the function and
 * the argument, e.g. `readexactly(): n must be an integer, got 2.5`.
 *
 * Each check returns the value it accepted, so a call site reads
 * `this.limit = integerArg(limit, "StreamReader(): limit", { min: 1 })`.
 */

function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  if (typeof value === "symbol") return value.toString();
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object" && value !== null) return "an object";
  return String(value);
}

/** Range limits of a numeric argument. */
export interface NumberBounds {
  /** The smallest value allowed (inclusive). */
  min?: number;
  /** The largest value allowed (inclusive). */
  max?: number;
  /** Whether `Infinity` is allowed (an unbounded size or count). Default false for integers. */
  infinite?: boolean;
}

/**
 * A number that is not NaN and lies within `bounds` (seconds, deadlines,
 * fractions allowed). `TypeError` for a non-number, `RangeError` otherwise.
 */
export function numberArg(value: unknown, name: string, bounds: NumberBounds = {}): number {
  if (typeof value !== "number") throw new TypeError(`${name} must be a number, got ${show(value)}`);
  if (Number.isNaN(value)) throw new RangeError(`${name} must not be NaN`);
  checkBounds(value, name, bounds);
  return value;
}

/**
 * An integer count or size within `bounds` (`Infinity` only when
 * `bounds.infinite`). `TypeError` for a non-number, `RangeError` for NaN, a
 * fraction or a value out of bounds.
 */
export function integerArg(value: unknown, name: string, bounds: NumberBounds = {}): number {
  if (typeof value !== "number") throw new TypeError(`${name} must be an integer, got ${show(value)}`);
  if (Number.isNaN(value)) throw new RangeError(`${name} must be an integer, got NaN`);
  if (!Number.isInteger(value) && !(bounds.infinite === true && value === Infinity)) throw new RangeError(`${name} must be an integer, got ${value}`);
  checkBounds(value, name, bounds);
  return value;
}

/** A number of seconds or a deadline, or `null`/`undefined` for none: `numberArg` when given. */
export function optionalNumberArg(value: unknown, name: string, bounds: NumberBounds = {}): number | null {
  if (value === null || value === undefined) return null;
  return numberArg(value, name, bounds);
}

/** An options argument: `undefined` or a plain object (not `null`, an array or a primitive). */
export function optionsArg<T extends object>(value: T | undefined, name: string): T | Record<string, never> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new TypeError(`${name} must be an options object, got ${show(value)}`);
  return value;
}

/** A function argument. */
export function functionArg(value: unknown, name: string): void {
  if (typeof value !== "function") throw new TypeError(`${name} must be a function, got ${show(value)}`);
}

/** A boolean argument; `undefined` gives `dflt`. */
export function booleanArg(value: unknown, name: string, dflt: boolean): boolean {
  if (value === undefined) return dflt;
  if (typeof value !== "boolean") throw new TypeError(`${name} must be a boolean, got ${show(value)}`);
  return value;
}

function checkBounds(value: number, name: string, bounds: NumberBounds): void {
  if (bounds.min !== undefined && value < bounds.min) throw new RangeError(`${name} must be >= ${bounds.min}, got ${value}`);
  if (bounds.max !== undefined && value > bounds.max) throw new RangeError(`${name} must be <= ${bounds.max}, got ${value}`);
  if (value === Infinity && bounds.infinite === false) throw new RangeError(`${name} must be finite`);
}
