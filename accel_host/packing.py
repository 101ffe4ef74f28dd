"""Lanes <-> words: lane i of a word at bits [i*width +: width] (row 0 / column 0 in the low bits, as the
course's text lines read as binary numbers)."""
from __future__ import annotations

import numpy as np


def pack_lanes(values, width: int) -> int:
    """One word from lane values; negative values in two's complement."""
    mask = (1 << width) - 1
    word = 0
    for i, v in enumerate(values):
        v = int(v)
        if not -(1 << (width - 1)) <= v < (1 << width):
            raise ValueError(f"lane {i}: value {v} does not fit {width} bits")
        word |= (v & mask) << (i * width)
    return word


def unpack_lanes(word: int, n: int, width: int, signed: bool) -> list[int]:
    mask = (1 << width) - 1
    out = []
    for i in range(n):
        v = (word >> (i * width)) & mask
        if signed and v >> (width - 1):
            v -= 1 << width
        out.append(v)
    return out


def pack_rows(lanes: np.ndarray, width: int) -> list[int]:
    """(words, n) array of lanes -> one int per row, lane j at bits [j*width +: width]. Vectorised for lane
    widths that divide 8 (the memory words of whole layers are packed here); any other width lane by lane."""
    lanes = np.asarray(lanes).astype(np.int64)
    lo, hi = -(1 << (width - 1)), (1 << width) - 1
    if lanes.size and (lanes.min() < lo or lanes.max() > hi):
        raise ValueError(f"lane values {int(lanes.min())}..{int(lanes.max())} do not fit {width} bits")
    if 8 % width:
        return [pack_lanes(row, width) for row in lanes]
    per_byte = 8 // width
    u = (lanes & ((1 << width) - 1)).astype(np.uint8)
    pad = (-u.shape[1]) % per_byte
    if pad:
        u = np.concatenate([u, np.zeros((u.shape[0], pad), np.uint8)], axis=1)
    b = np.zeros((u.shape[0], u.shape[1] // per_byte), np.uint8)
    for j in range(per_byte):
        b |= u[:, j::per_byte] << (j * width)
    return [int.from_bytes(row.tobytes(), "little") for row in b]
