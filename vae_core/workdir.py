"""A training run's work folder (``artifacts/.NAME.work``): its config, its per-epoch history.

Training checkpoints every epoch there (vae_core.train), so the same command resumes after an
interruption. A folder of another config's run must not be resumed: the bundle's manifest would
then describe one config and hold another's weights. No TensorFlow here: the CLI checks a work
folder before it loads anything.
"""

from __future__ import annotations

import json
from pathlib import Path

from .config import VAEConfig

HISTORY_FILE = "history.jsonl"
CONFIG_FILE = "config.json"  # the config of the run whose checkpoints the work folder holds


class ResumeError(ValueError):
    """A work folder holds another run's checkpoints; the message says what differs and what to do."""


def check_resumable(work_dir: Path, config: VAEConfig, ignore: tuple[str, ...] = ()) -> None:
    """Raise ResumeError unless ``work_dir`` is empty or holds a run of exactly ``config`` (resuming
    another config would write a bundle whose manifest lies about its weights). ``ignore`` names
    fields not known yet (the CLI checks the flags' fields before it reads the data, the rest after)."""
    work_dir = Path(work_dir)
    if not work_dir.exists() or not any(work_dir.iterdir()):
        return
    fix = "Run the same command as before to resume it, or add --fresh to discard it and start over"
    try:
        saved = VAEConfig.from_dict(json.loads((work_dir / CONFIG_FILE).read_text()))
    except FileNotFoundError:
        raise ResumeError(
            f"{work_dir} holds checkpoints of a run that did not record its config. {fix}."
        ) from None
    except (OSError, ValueError, TypeError) as e:
        raise ResumeError(f"{work_dir}/{CONFIG_FILE} cannot be read ({e}). {fix}.") from None
    differs = [
        f"{f}: {getattr(saved, f)!r} there, {getattr(config, f)!r} now"
        for f in config.to_dict()
        if f not in ignore and getattr(saved, f) != getattr(config, f)
    ]
    if differs:
        raise ResumeError(
            f"{work_dir} holds an unfinished or unexported run of another config "
            f"({'; '.join(differs)}). {fix}."
        )


def read_history(work_dir: Path) -> list[dict]:
    """Rows of completed epochs, the last record of each epoch winning (re-runs after a crash)."""
    path = Path(work_dir) / HISTORY_FILE
    if not path.exists():
        return []
    rows: dict[int, dict] = {}
    for line in path.read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            rows[row["epoch"]] = row
    return [rows[e] for e in sorted(rows)]
