/**
 * Composition workloads (issue 3): `gather` of N tasks and a `TaskGroup` of N
 * tasks, each against `Promise.all` over N async functions in the same run.
 */
import { gather, run, sleep, taskGroup, type Coro } from "../src/index.js";
import { measure, report, size } from "./harness.js";

const N = size(100_000);

function* child(i: number): Coro<number> {
  yield* sleep(0);
  return i;
}
async function childAsync(i: number): Promise<number> {
  await null;
  return i;
}

const native = await measure("native Promise.all(async fns)", N, async () => {
  const promises = new Array<Promise<number>>(N);
  for (let i = 0; i < N; i++) promises[i] = childAsync(i);
  await Promise.all(promises);
});
const gathered = await measure("asyncio-ts gather(...coros)", N, () =>
  run(function* () {
    const coros = new Array<Coro<number>>(N);
    for (let i = 0; i < N; i++) coros[i] = child(i);
    yield* gather(...coros);
  }),
);
const grouped = await measure("asyncio-ts taskGroup + createTask", N, () =>
  run(() =>
    taskGroup(function* (tg) {
      for (let i = 0; i < N; i++) tg.createTask(child(i));
    }),
  ),
);
report(`${N} children, each yielding once`, native, [gathered, grouped]);
