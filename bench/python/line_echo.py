"""A line-echo server with asyncio streams, and clients that send all lines then read them back."""
import asyncio
from common import Timer, report, sizes

S = sizes()
LINE = b"the quick brown fox jumps over the lazy dog\n"


async def handle(reader, writer):
    while True:
        line = await reader.readline()
        if not line:
            break
        writer.write(line)
        await writer.drain()
    writer.close()


async def client(port):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(LINE * S["echoLines"])
    await writer.drain()
    received = 0
    while received < S["echoLines"]:
        chunk = await reader.read(65536)
        if not chunk:
            break
        received += chunk.count(b"\n")
    writer.close()
    await writer.wait_closed()


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    await asyncio.gather(*(client(port) for _ in range(S["echoClients"])))
    server.close()
    await server.wait_closed()


with Timer() as t:
    asyncio.run(main())
report(t.seconds)
