#!/usr/bin/env python3
"""A client for the pizza server: one order, prints the reply.

    python3 examples/python/pizza_client.py --port 8000
"""
import argparse
import asyncio


async def order(host: str, port: int, what: str) -> str:
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(what.encode())
    await writer.drain()
    reply = await reader.read()
    writer.close()
    await writer.wait_closed()
    return reply.decode()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--order", default="margherita")
    args = parser.parse_args()
    print(asyncio.run(order(args.host, args.port, args.order)))
