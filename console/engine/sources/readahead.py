"""A stream run in a thread ahead of its consumer, up to a byte limit: compression goes on while the
consumer hashes and writes a whole part."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Iterator

from console.engine.tapeformat.tar_headers import Buffer

READAHEAD_BYTES = 256 << 20


class _Ahead:
    """State shared between readahead() and its thread."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.items: deque[Buffer] = deque()
        self.size = 0
        self.done = False
        self.stop = False
        self.error: BaseException | None = None


def readahead(items: Iterable[Buffer], max_bytes: int = READAHEAD_BYTES) -> Iterator[Buffer]:
    """Run `items` in a thread, up to `max_bytes` ahead of the consumer, so compression goes on while
    the consumer is busy (hashing and writing a whole part). Errors reach the consumer in order;
    closing the consumer closes `items` too."""
    ahead = _Ahead()

    def run() -> None:
        source = iter(items)
        try:
            for item in source:
                size = memoryview(item).nbytes
                with ahead.cond:
                    while ahead.size >= max_bytes and not ahead.stop:
                        ahead.cond.wait()
                    if ahead.stop:
                        break
                    ahead.items.append(item)
                    ahead.size += size
                    ahead.cond.notify_all()
        except BaseException as exc:  # handed to the consumer
            ahead.error = exc
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()
            with ahead.cond:
                ahead.done = True
                ahead.cond.notify_all()

    thread = threading.Thread(target=run, name="readahead", daemon=True)
    thread.start()
    try:
        while True:
            with ahead.cond:
                while not ahead.items and not ahead.done:
                    ahead.cond.wait()
                if ahead.items:
                    item = ahead.items.popleft()
                    ahead.size -= memoryview(item).nbytes
                    ahead.cond.notify_all()
                elif ahead.error is not None:
                    raise ahead.error
                else:
                    return
            yield item
    finally:
        with ahead.cond:
            ahead.stop = True
            ahead.cond.notify_all()
        thread.join()


