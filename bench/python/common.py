"""Shared helpers for the Python side of the comparison: sizes in, one JSON line out."""
import json
import sys
import time


def sizes():
    return json.loads(sys.argv[1])


def report(seconds, **extra):
    print(json.dumps({"seconds": seconds, **extra}))


class Timer:
    def __enter__(self):
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
