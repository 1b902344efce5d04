"""T tasks x R acquisitions of one asyncio.Lock, yielding once inside."""
import asyncio
from common import Timer, report, sizes

S = sizes()


async def main():
    lock = asyncio.Lock()

    async def worker():
        for _ in range(S["lockRounds"]):
            async with lock:
                await asyncio.sleep(0)

    await asyncio.gather(*(worker() for _ in range(S["lockTasks"])))


with Timer() as t:
    asyncio.run(main())
report(t.seconds)
