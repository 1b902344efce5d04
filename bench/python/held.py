"""Memory per finished task its caller still holds (tracemalloc)."""
import asyncio
import tracemalloc
from common import Timer, report, sizes

S = sizes()
per_task = 0.0


async def trivial(i):
    return i


async def main():
    global per_task
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    tasks = [asyncio.create_task(trivial(i)) for i in range(S["spawn"])]
    for task in tasks:
        await task
    per_task = (tracemalloc.get_traced_memory()[0] - before) / S["spawn"]
    tracemalloc.stop()
    assert len(tasks) == S["spawn"]


with Timer() as t:
    asyncio.run(main())
report(t.seconds, bytesPerTask=per_task)
