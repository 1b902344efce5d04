"""N concurrent sleeps: wall time, and memory per sleeping task (tracemalloc)."""
import asyncio
import tracemalloc
from common import Timer, report, sizes

S = sizes()
per_task = 0.0


async def main():
    global per_task
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    tasks = [asyncio.create_task(asyncio.sleep(S["sleepSeconds"])) for _ in range(S["sleepers"])]
    await asyncio.sleep(0)
    per_task = (tracemalloc.get_traced_memory()[0] - before) / S["sleepers"]
    tracemalloc.stop()
    await asyncio.gather(*tasks)


with Timer() as t:
    asyncio.run(main())
report(t.seconds, bytesPerTask=per_task)
