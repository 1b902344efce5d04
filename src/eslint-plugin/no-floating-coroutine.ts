/**
 * `no-floating-coroutine`: Python's "coroutine was never awaited", at lint
 * time. Calling a coroutine function builds a generator and runs nothing, so
 * `sleep(1);` as a statement is always a mistake; so is a plain `yield` of a
 * coroutine, `Future` or `Task` inside a coroutine, which the task rejects at
 * run time with a `TypeError`. A `Future` or `Task` dropped as a statement
 * runs, but its result and its errors are lost. In plain `async` code,
 * `await` of a coroutine is a mistake as well: awaiting a generator object
 * gives back the generator itself, and nothing runs.
 *
 * The rule reads types (typescript-eslint's typed linting), so it knows a
 * coroutine by what a call returns, not by the callee's name.
 */
import { ESLintUtils, type TSESLint, type TSESTree } from "@typescript-eslint/utils";
import ts from "typescript";

/** Options of `no-floating-coroutine`. */
export interface NoFloatingCoroutineOptions {
  /**
   * Calls whose `Future`/`Task` may be dropped because they start work on
   * purpose (`createTask`, `tg.createTask`). Matched against the callee's
   * name or its last property. A coroutine is never allowed. Default
   * `["createTask"]`. Taking an already running future out of an array
   * (`futures.shift()`, `futures.pop()`) is always allowed; a method of
   * another object that happens to be named `shift` or `pop` is not.
   */
  allowedCalls?: string[];
}

const defaultAllowedCalls = ["createTask"];

// Array methods that hand back an element already in the array (a future someone else started).
const arrayRemovals = new Set(["shift", "pop"]);

type MessageIds = "floating" | "plainYield" | "awaitedCoroutine" | "addYieldStar" | "useYieldStar";
type AwaitableKind = "coroutine" | "Future" | "Task";

const createRule = ESLintUtils.RuleCreator((name) => `https://github.com/asyncio-ts/asyncio-ts/blob/main/docs/guide/08-debugging.md#the-lint-rule-${name}`);

// A Future of this package, known by its protocol rather than its declaration
// (subclasses such as GatheringFuture and ExecutorFuture match too).
const futureMembers = ["addDoneCallback", "removeDoneCallback", "result", "cancel", "getLoop"];

function hasMembers(type: ts.Type, names: readonly string[]): boolean {
  return names.every((name) => type.getProperty(name) !== undefined);
}

function classify(type: ts.Type, checker: ts.TypeChecker): AwaitableKind | null {
  if (type.isUnion()) {
    for (const member of type.types) {
      const kind = classify(member, checker);
      if (kind !== null) return kind;
    }
    return null;
  }
  if (hasMembers(type, futureMembers)) return type.getProperty("getCoro") !== undefined ? "Task" : "Future";
  if (type.aliasSymbol?.name === "Coro") return "coroutine";
  if (hasMembers(type, ["next", "throw", "return"]) && type.getSymbol()?.name === "Generator") {
    const [yielded] = checker.getTypeArguments(type as ts.TypeReference);
    if (yielded === undefined) return null;
    // A generator that yields futures (or nothing at all) is a coroutine.
    if ((yielded.flags & ts.TypeFlags.Never) !== 0) return "coroutine";
    const members = yielded.isUnion() ? yielded.types : [yielded];
    if (members.some((member) => hasMembers(member, futureMembers))) return "coroutine";
  }
  return null;
}

function calleeName(call: TSESTree.CallExpression): string | null {
  const callee = call.callee;
  if (callee.type === "Identifier") return callee.name;
  if (callee.type === "MemberExpression" && callee.property.type === "Identifier") return callee.property.name;
  return null;
}

function unwrap(expression: TSESTree.Expression): TSESTree.Expression {
  let node = expression;
  for (;;) {
    if (node.type === "ChainExpression") node = node.expression;
    else if (node.type === "TSNonNullExpression" || node.type === "TSAsExpression" || node.type === "TSSatisfiesExpression") node = node.expression;
    else return node;
  }
}

type FunctionNode = TSESTree.FunctionDeclaration | TSESTree.FunctionExpression | TSESTree.ArrowFunctionExpression;

function enclosingFunction(node: TSESTree.Node): FunctionNode | null {
  // The Program node's parent is null (not undefined, as its type says).
  for (let current = node.parent; current; current = current.parent) {
    if (current.type === "FunctionDeclaration" || current.type === "FunctionExpression" || current.type === "ArrowFunctionExpression") return current;
  }
  return null;
}

/** The rule object (register it as `asyncio-ts/no-floating-coroutine`). */
export const noFloatingCoroutine: TSESLint.RuleModule<MessageIds, [NoFloatingCoroutineOptions]> = createRule<[NoFloatingCoroutineOptions], MessageIds>({
  name: "no-floating-coroutine",
  meta: {
    type: "problem",
    hasSuggestions: true,
    fixable: "code",
    docs: {
      description: "Require coroutines, Futures and Tasks to be awaited with yield* (Python's 'coroutine was never awaited')",
    },
    messages: {
      floating: "This {{kind}} is never awaited: {{consequence}} Use `yield* …` to wait for it (or pass it to createTask / a task group).",
      plainYield: "A plain `yield` of a {{kind}} is a TypeError at run time: use `yield*` to wait for it.",
      awaitedCoroutine:
        "`await` of a coroutine gives back the generator itself: nothing runs. " +
        "From plain async code, run it with `await run(…)` (a new event loop) or `await loop.createTask(…)` (on a running loop); inside a coroutine, use `yield* …`.",
      addYieldStar: "Wait for it with `yield*`.",
      useYieldStar: "Replace `yield` with `yield*`.",
    },
    schema: [
      {
        type: "object",
        properties: { allowedCalls: { type: "array", items: { type: "string" } } },
        additionalProperties: false,
      },
    ],
  },
  defaultOptions: [{ allowedCalls: defaultAllowedCalls }],
  create(context, [options]) {
    const services = ESLintUtils.getParserServices(context);
    const checker = services.program.getTypeChecker();
    const allowed = new Set(options.allowedCalls ?? defaultAllowedCalls);
    // Generators that are coroutines: annotated Coro, or delegating with yield* somewhere.
    const delegatingGenerators = new WeakSet<FunctionNode>();

    // `fn` encloses a yield, so it is a generator function.
    const isCoroutineFunction = (fn: FunctionNode): boolean => {
      if (delegatingGenerators.has(fn)) return true;
      const returnType = fn.returnType?.typeAnnotation;
      return returnType?.type === "TSTypeReference" && returnType.typeName.type === "Identifier" && returnType.typeName.name === "Coro";
    };
    const plainYields: Array<{ node: TSESTree.YieldExpression; fn: FunctionNode; kind: AwaitableKind }> = [];

    return {
      ExpressionStatement(statement) {
        const expression = unwrap(statement.expression);
        if (expression.type !== "CallExpression") return;
        const kind = classify(services.getTypeAtLocation(expression), checker);
        if (kind === null) return;
        if (kind !== "coroutine") {
          const name = calleeName(expression);
          if (name !== null && allowed.has(name)) return;
          if (name !== null && arrayRemovals.has(name) && expression.callee.type === "MemberExpression" && checker.isArrayType(services.getTypeAtLocation(expression.callee.object))) return;
        }
        const inGenerator = enclosingFunction(statement)?.generator === true;
        context.report({
          node: statement,
          messageId: "floating",
          data: {
            kind,
            consequence: kind === "coroutine" ? "calling a coroutine function only builds the generator, nothing runs." : "its result and its errors are lost.",
          },
          suggest: inGenerator ? [{ messageId: "addYieldStar", fix: (fixer) => fixer.insertTextBefore(statement.expression, "yield* ") }] : [],
        });
      },
      AwaitExpression(node) {
        // A Future or Task is a thenable, so awaiting one works; a generator object is not.
        if (classify(services.getTypeAtLocation(node.argument), checker) === "coroutine") {
          context.report({ node, messageId: "awaitedCoroutine" });
        }
      },
      YieldExpression(node) {
        // A yield is always inside a generator function.
        const fn = enclosingFunction(node)!;
        if (node.delegate) {
          delegatingGenerators.add(fn);
          return;
        }
        if (node.argument === null) return;
        const kind = classify(services.getTypeAtLocation(node.argument), checker);
        if (kind !== null) plainYields.push({ node, fn, kind });
      },
      // Decided at the end: a `yield*` later in the same generator makes it a coroutine.
      "Program:exit"() {
        for (const { node, fn, kind } of plainYields) {
          if (!isCoroutineFunction(fn)) continue;
          // A yield expression's first token is its `yield` keyword.
          const yieldToken = context.sourceCode.getFirstToken(node)!;
          context.report({
            node,
            messageId: "plainYield",
            data: { kind },
            fix: (fixer) => fixer.replaceText(yieldToken, "yield*"),
          });
        }
      },
    };
  },
});
