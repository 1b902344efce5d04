"""A TaskGroup of N children, each switching once."""
import asyncio
from common import Timer, report, sizes

S = sizes()


async def child(i):
    await asyncio.sleep(0)
    return i


async def main():
    async with asyncio.TaskGroup() as tg:
        for i in range(S["spawn"]):
            tg.create_task(child(i))


with Timer() as t:
    asyncio.run(main())
report(t.seconds)
