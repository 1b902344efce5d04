"""T tasks each switching S times through three nested coroutines."""
import asyncio
from common import Timer, report, sizes

S = sizes()


async def level3():
    await asyncio.sleep(0)


async def level2():
    await level3()


async def level1():
    await level2()


async def worker():
    for _ in range(S["switches"]):
        await level1()


async def main():
    await asyncio.gather(*(worker() for _ in range(S["switchTasks"])))


with Timer() as t:
    asyncio.run(main())
report(t.seconds)
