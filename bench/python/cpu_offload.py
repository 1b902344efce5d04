"""The chapter's cpu_bound_task, J times: sequentially, then on a 2-process pool via run_in_executor."""
import asyncio
from concurrent.futures import ProcessPoolExecutor
from common import Timer, report, sizes

S = sizes()


def cpu_bound_task(n):
    return sum(i * i for i in range(n))


async def pooled():
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max_workers=2) as pool:
        await asyncio.gather(*(loop.run_in_executor(pool, cpu_bound_task, S["cpuN"]) for _ in range(S["cpuJobs"])))


if __name__ == "__main__":
    with Timer() as seq:
        for _ in range(S["cpuJobs"]):
            cpu_bound_task(S["cpuN"])
    with Timer() as t:
        asyncio.run(pooled())
    report(t.seconds, speedup=seq.seconds / t.seconds)
