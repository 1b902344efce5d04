"""The chapter's pizza server at bake 0, and a load generator: 50 orders in flight."""
import asyncio
from common import Timer, report, sizes

N = sizes()["orders"]


async def handle_client(reader, writer):
    await reader.read(1024)
    writer.write(b"Here's your pizza!")
    await writer.drain()
    writer.close()
    await writer.wait_closed()


async def order(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"margherita")
    await writer.drain()
    await reader.read()
    writer.close()
    await writer.wait_closed()


async def main():
    server = await asyncio.start_server(handle_client, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    remaining = N

    async def worker():
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await order(port)

    await asyncio.gather(*(worker() for _ in range(50)))
    server.close()
    await server.wait_closed()


with Timer() as t:
    asyncio.run(main())
report(t.seconds)
