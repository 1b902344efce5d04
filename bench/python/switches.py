"""T tasks each yielding S times with asyncio.sleep(0)."""
import asyncio
from common import Timer, report, sizes

S = sizes()


async def worker():
    for _ in range(S["switches"]):
        await asyncio.sleep(0)


async def main():
    await asyncio.gather(*(worker() for _ in range(S["switchTasks"])))


with Timer() as t:
    asyncio.run(main())
report(t.seconds)
