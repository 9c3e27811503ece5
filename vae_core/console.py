"""What the command line shows while it works: log lines, and progress bars when a person watches.

On a terminal each long task (an epoch, validation, an evaluation phase) gets a bar with its
batches done/total, images/s, elapsed time and ETA; the bar disappears when the task ends, so
what stays on screen is the log: one line per epoch. When stderr is a file or a pipe (CI, `2> log`),
there are no bars at all, only those lines. rich (already pinned: Streamlit depends on it) draws.
"""

from __future__ import annotations

import contextlib
import logging
import unicodedata
from collections.abc import Iterator

from rich.console import Console
from rich.logging import RichHandler
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from .progress import BatchProgress


def terminal_text(text: str, limit: int = 300) -> str:
    """``text`` as a terminal shows it, not as it would obey it: control characters (an ANSI escape
    that clears the screen or sets the title, a bell) and invisible format ones (a right-to-left
    override) are written as escapes, like Python writes them (line breaks too: a message is one
    line); cut to ``limit`` characters."""
    out = []
    for ch in str(text):
        code = ord(ch)
        if code < 0x20 or 0x7F <= code < 0xA0:
            out.append(f"\\x{code:02x}")
        elif unicodedata.category(ch) in ("Cf", "Cs", "Co", "Zl", "Zp"):
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(ch)
    shown = "".join(out)
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


class ImagesPerSecond(ProgressColumn):
    """Throughput in images: rich measures batches per second, each task knows its batch size."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if speed is None:
            return Text("? images/s", style="progress.data.speed")
        return Text(f"{speed * task.fields['batch_size']:,.0f} images/s", style="progress.data.speed")


class TerminalProgress:
    """A BatchProgress that draws one transient rich bar per running task (use it as a context manager)."""

    def __init__(self, console: Console):
        self.bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("batches"),
            ImagesPerSecond(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            redirect_stdout=False,  # results printed to stdout stay on stdout (the bars are on stderr)
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> TerminalProgress:
        self.bars.start()
        return self

    def __exit__(self, *exc) -> None:
        self.bars.stop()

    def __call__(self, task: str, done: int, total: int, batch_size: int) -> None:
        if task not in self.tasks:
            self.tasks[task] = self.bars.add_task(task, total=total, batch_size=batch_size)
        # Drawn at once when a task starts, after its first batch and when it ends, however short
        # the task; in between at rich's 10 Hz.
        self.bars.update(self.tasks[task], completed=done, refresh=done in (0, 1, total))
        if done >= total:
            self.bars.remove_task(self.tasks.pop(task))


@contextlib.contextmanager
def command_output(bars: bool = True, console: Console | None = None) -> Iterator[BatchProgress | None]:
    """Sets up logging for a command and yields the progress reporter to pass to long work.

    Yields None (no bars, plain log lines) unless `bars` is wanted and `console` (default: stderr)
    is an interactive terminal; rich's TTY_INTERACTIVE=0/1 overrides that test.
    """
    console = console or Console(stderr=True)
    if not (bars and console.is_interactive):
        logging.basicConfig(level=logging.INFO, format="%(message)s")
        yield None
        return
    # Log lines go through rich so that they appear above the bars instead of through them.
    handler = RichHandler(console=console, show_time=False, show_level=False, show_path=False)
    logging.basicConfig(level=logging.INFO, format="%(message)s", handlers=[handler])
    with TerminalProgress(console) as progress:
        yield progress


def format_metrics(metrics: dict, title: str = "") -> str:
    """A plain-text table of the scalar metrics and the per-dimension latent statistics."""
    rows = [
        ("test -ELBO (nats)", metrics["test_neg_elbo_nats"], "lower is better"),
        ("  reconstruction BCE (nats)", metrics["test_recon_bce_nats"], ""),
        ("  KL (nats)", metrics["test_kl_nats"], metrics.get("kl_estimator", "")),
        (
            f"IWAE NLL bound, k={metrics.get('iw_samples', '?')} (nats)",
            metrics.get("test_iw_nll_nats"),
            "lower is better",
        ),
        ("5-NN accuracy of z_mean", metrics["knn5_accuracy"], "higher is better"),
        ("reconstruction MSE", metrics.get("test_recon_mse"), "per pixel"),
        (
            "aggregate posterior KL to N(0,I)",
            metrics.get("aggregate_posterior_kl_to_standard_normal"),
            "0 = matches N(0,I)",
        ),
    ]
    lines = [title, "-" * max(len(title), 60)] if title else []
    lines += [
        f"{name:40} {value:>10.4f}  {note}" if value is not None else f"{name:40} {'n/a':>10}"
        for name, value, note in rows
    ]
    factors = (metrics.get("disentanglement") or {}).get("factors") or {}
    if factors:
        lines.append(
            f"{'MIG (mutual information gap)':40} {metrics['mig']:>10.4f}  higher = more disentangled"
        )
        lines += [
            f"  {name:38} dim {f['dim']:>3}: {f['share']:.0%} of its entropy, gap {f['gap']:.2f}"
            for name, f in factors.items()
        ]
    stats = metrics.get("latent_stats")
    if stats:
        lines += ["", f"{'dim':>5} {'min':>9} {'max':>9} {'mean':>9} {'std':>9} {'KL':>9}"]
        kl = metrics.get("kl_per_dimension", [float("nan")] * len(stats["mean"]))
        shown = range(min(len(stats["mean"]), 32))
        lines += [
            f"{j:>5} {stats['min'][j]:9.3f} {stats['max'][j]:9.3f} {stats['mean'][j]:9.3f} "
            f"{stats['std'][j]:9.3f} {kl[j]:9.3f}"
            for j in shown
        ]
        if len(stats["mean"]) > 32:
            lines.append(f"  ... {len(stats['mean']) - 32} more dimensions")
    return "\n".join(lines)
