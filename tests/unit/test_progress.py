"""Progress reporting: what the library tells a reporter, and what the terminal reporter draws."""

import io
import logging

from rich.console import Console
from rich.logging import RichHandler

from vae_core.console import TerminalProgress, command_output
from vae_core.progress import tracked


def test_tracked_reports_each_item_after_the_loop_body_ran():
    calls, seen = [], []
    for item in tracked("abc", lambda *step: calls.append(step), "letters", 3, 1):
        seen.append((item, len(calls)))
    assert calls == [("letters", 0, 3, 1), ("letters", 1, 3, 1), ("letters", 2, 3, 1), ("letters", 3, 3, 1)]
    assert seen == [("a", 1), ("b", 2), ("c", 3)]  # "a" reached its body before it was reported done
    assert list(tracked("abc", None, "letters", 3, 1)) == ["a", "b", "c"]


def test_a_terminal_gets_bars_with_batches_images_per_second_and_eta_that_vanish_when_done():
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, force_interactive=True, width=120, color_system=None)
    with TerminalProgress(console) as progress:
        for done in range(4):
            progress("epoch 1/3", done, 3, 128)
        drawn = screen.getvalue()
        assert "epoch 1/3" in drawn and "1/3 batches" in drawn and "images/s" in drawn and "ETA" in drawn
        assert not progress.bars.tasks  # the finished epoch's bar is gone: the log keeps its one line


def test_no_bars_unless_a_person_watches_a_terminal(monkeypatch):
    root = logging.getLogger()
    piped = Console(file=io.StringIO(), force_terminal=False)
    terminal = Console(file=io.StringIO(), force_terminal=True, force_interactive=True)
    for console, bars, drawn in ((piped, True, False), (terminal, False, False), (terminal, True, True)):
        monkeypatch.setattr(root, "handlers", [])  # as in a fresh process
        with command_output(bars=bars, console=console) as progress:
            assert isinstance(progress, TerminalProgress) is drawn
            # log lines: plain on a pipe; through rich on a terminal, so they appear above the bars
            assert isinstance(root.handlers[0], RichHandler) is drawn
