"""One producer, one consumer, a bounded asyncio.Queue(100)."""
import asyncio
from common import Timer, report, sizes

N = sizes()["queueItems"]


async def main():
    q = asyncio.Queue(100)

    async def consumer():
        for _ in range(N):
            await q.get()

    task = asyncio.create_task(consumer())
    for i in range(N):
        await q.put(i)
    await task


with Timer() as t:
    asyncio.run(main())
report(t.seconds)
