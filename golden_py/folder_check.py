"""A course-format folder checked against itself (`python -m golden_py.export --check`, and every replay for the
numbers the core does not report): psums recomputed from its activation and weight files, sums and outputs from
those, twin files against the files they repeat. numpy only: a replay imports no torch."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .coursefmt import CourseVectors
from .tiling import compute_tiles


@dataclass
class FolderCheck:
    """What `--check` compared: values per kind of file, the kinds absent, and the differences found."""
    compared: dict = field(default_factory=dict)      # kind -> values compared
    not_provided: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    firsts: dict = field(default_factory=dict)        # kind -> its first difference (a failure's one line shows each)
    mismatches: int = 0

    @property
    def total(self) -> int:
        return sum(self.compared.values())


def check_vectors(v: CourseVectors, limit: int = 10, only=None, kinds=("psum", "sum", "relu"),
                  twins: bool = True) -> FolderCheck:
    """A course-format folder's internal consistency: every psum recomputed from its activation and weight
    files, every sum and ReLU output from those psums, and every second file that names numbers the folder
    already gives (a decimal *_int.txt twin, the same quantity under two names) against the first.
    `only` (a bool array shaped like v.psum) restricts the psum comparison to those entries. Differences are
    named file:line (col c), up to `limit` lines a kind."""
    t = compute_tiles(v.a_tiles, v.w_tiles, v.side, v.side)
    rep = FolderCheck()

    def diff(kind: str, got: np.ndarray, exp: np.ndarray, where, mask=None, what="recomputed from the "
             "activation and weight files"):
        bad = (got != exp) if mask is None else (got != exp) & mask
        rep.compared[kind] = rep.compared.get(kind, 0) + int(exp.size if mask is None else mask.sum())
        idx = np.argwhere(bad).tolist()
        rep.mismatches += len(idx)
        # up to `limit` lines a kind: a changed activation gives a hundred psum differences and one twin-file
        # line, the only one naming the activation file (the psum lines filled a shared limit before it)
        for pos in idx[:limit]:
            rep.problems.append(f"{where(*pos)}: file has {int(got[tuple(pos)])}, {what} {int(exp[tuple(pos)])}")
            rep.firsts.setdefault(kind, rep.problems[-1])
        if len(idx) > limit:
            rep.problems.append(f"{kind}: ... {len(idx)} differences in all")

    if "psum" not in kinds:
        pass
    elif v.psum is not None:
        mask = v.psum_mask
        if only is not None:
            mask = only if mask is None else mask & only
        diff("psum", v.psum, t.psum, lambda i, o, c, p, k: v.psum_where(i, o, k, p, c), mask)
    else:
        rep.not_provided.append("psum")
    oc_out = t.out_tiles()
    for kind, tensor, exp in (("sum", v.out_raw, oc_out), ("relu", v.out, np.maximum(oc_out, 0))):
        if kind not in kinds:
            continue
        if tensor is None or (kind == "relu" and v.relu_derived) or (kind == "sum" and v.sums_derived):
            rep.not_provided.append(kind)
        else:
            fkind = "raw" if kind == "sum" else "relu"
            diff(kind, tensor, exp, lambda o, c, n, fk=fkind: v.out_where(fk, o, n, c))
    for tw in (v.twins or []) if twins else []:
        diff("twin files", tw.twin.values, tw.primary.values,
             lambda line, field, m=tw.twin: m.where_field(line, field),
             what=f"{tw.primary.path.name} has")
    return rep
