"""Spawn-and-wait N `true` children (at most C at once), or push MB megabytes through `cat` with communicate()."""
import asyncio
import sys
from common import Timer, report, sizes

S = sizes()


async def spawn_and_wait():
    limit = asyncio.Semaphore(S["concurrency"])

    async def one():
        async with limit:
            proc = await asyncio.create_subprocess_exec("true")
            await proc.wait()

    await asyncio.gather(*(one() for _ in range(S["children"])))


async def pipe_throughput():
    data = b"x" * (S["megabytes"] * 1024 * 1024)
    proc = await asyncio.create_subprocess_exec("cat", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    out, _ = await proc.communicate(data)
    assert len(out) == len(data)


workload = spawn_and_wait if sys.argv[2] == "spawn" else pipe_throughput
with Timer() as t:
    asyncio.run(workload())
report(t.seconds)
