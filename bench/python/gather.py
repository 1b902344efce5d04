"""gather of N children, each switching once."""
import asyncio
from common import Timer, report, sizes

S = sizes()


async def child(i):
    await asyncio.sleep(0)
    return i


async def main():
    await asyncio.gather(*(child(i) for i in range(S["spawn"])))


with Timer() as t:
    asyncio.run(main())
report(t.seconds)
