"""A checkpoint's path judged without torch: golden_py.checkpoint.load_model reads the file with torch (about 1.4 s
to import), so a missing file or a folder given as a checkpoint is refused before that, by the commands too."""
from __future__ import annotations

from pathlib import Path


class CheckpointError(RuntimeError):
    """A checkpoint file refused, named with what is wrong (golden_py.checkpoint raises it for the file's content)."""


def checkpoint_path(path: str | Path) -> Path:
    """The path of an existing checkpoint file; CheckpointError for a folder or a missing file."""
    path = Path(path)
    if path.is_dir():
        raise CheckpointError(f"{path}: a folder, not a checkpoint file (.pt)")
    if not path.is_file():
        raise CheckpointError(f"{path}: checkpoint not found")
    return path
