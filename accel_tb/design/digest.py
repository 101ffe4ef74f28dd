"""One digest of a tree of files: what a run measured or keyed its results on (the farm's code, a mutation
run's RTL), so that two runs compare, or a result is reused, only on the same bytes under the same names."""
from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path


def tree_digest(files: Iterable[tuple[str, Path]]) -> str:
    """sha256 over (relative name, sha256 of the bytes) of each file, sorted by name: where the tree lies does
    not matter, a renamed, edited, added or removed file does."""
    h = hashlib.sha256()
    for rel, path in sorted(files):
        h.update(rel.encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def folder_digest(folder: Path, pattern: str = "*") -> str:
    """tree_digest of every file under `folder` matching `pattern`, named relative to it."""
    return tree_digest((p.relative_to(folder).as_posix(), p) for p in folder.rglob(pattern) if p.is_file())
