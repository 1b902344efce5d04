"""Spawn N trivial tasks and await them all, as a Python user would."""
import asyncio
from common import Timer, report, sizes

N = sizes()["spawn"]


async def trivial(i):
    return i


async def main():
    tasks = [asyncio.create_task(trivial(i)) for i in range(N)]
    for task in tasks:
        await task


with Timer() as t:
    asyncio.run(main())
report(t.seconds)
