#!/usr/bin/env python3
"""The chapter's pizza server (same protocol), for side-by-side measurements:
read the order (at most 1024 bytes), bake, reply "Here's your pizza!", close.

    python3 examples/python/pizza_server.py --port 8000 --bake 2
"""
import argparse
import asyncio


async def main(host: str, port: int, bake: float) -> None:
    async def handle_client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        await asyncio.sleep(bake)
        writer.write(b"Here's your pizza!")
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(handle_client, host, port, backlog=4096)
    print(f"Pizza server running on {server.sockets[0].getsockname()}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--bake", type=float, default=2.0)
    args = parser.parse_args()
    try:
        asyncio.run(main(args.host, args.port, args.bake))
    except KeyboardInterrupt:
        pass
