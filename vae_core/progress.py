"""How long work (training, evaluation) reports its progress without printing anything itself.

Library functions take an optional `progress` callable and call it as batches finish; the
command line, the I/O edge, passes one that draws progress bars on a terminal
(`vae_core.console.TerminalProgress`) and passes none when output goes to a file or a pipe.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

BatchProgress = Callable[[str, int, int, int], None]
"""progress(task, done, total, batch_size): `done` of the `total` batches of `task` (each of up to
`batch_size` images) have finished. done == 0 announces the task; done == total ends it."""

T = TypeVar("T")


def tracked(
    items: Iterable[T], progress: BatchProgress | None, task: str, total: int, batch_size: int
) -> Iterator[T]:
    """Yields `items` (the `total` batches of `task`), reporting each one done once the loop body has run."""
    if progress is None:
        yield from items
        return
    progress(task, 0, total, batch_size)
    for done, item in enumerate(items, start=1):
        yield item
        progress(task, done, total, batch_size)


def n_batches(n: int, batch_size: int) -> int:
    return -(-n // batch_size)  # ceil without floats
