"""Course folders written the way each seed notebook's cells write them (shared/reference-notebooks in the
project's history: 000 Part1_golden_gen, 001 project_part1, 002 HW_Code6, 003 Final Project Software), for
the tests and the bad-input sweep: the reader must take what the notebooks write, not only what
golden_py.export writes. One tile (8 rows x 8 columns), as the notebooks do.

    write_notebook_folder("001", layer, folder)   # layer: golden_py.tiling.TiledLayer, one tile
"""
from __future__ import annotations

from pathlib import Path

from .coursefmt import write_layer
from .tiling import TiledLayer


def _bin(v: int, bits: int) -> str:
    return format(int(v) & ((1 << bits) - 1), f"0{bits}b")


def _header(*lines: str) -> str:
    return "".join(line + "\n" for line in lines)


def _nb001(t: TiledLayer, d: Path, relu_file: bool = True, twins: bool = True) -> None:
    """Notebook 001: activation_project.txt (36 padded positions), weight_kij{k}.txt, psum_kij{k}.txt, out.txt
    (the sums before ReLU), out_relu.txt, and the decimal *_int.txt twins ('v,' per field, highest first)."""
    a = t.a_tiles[0]                                              # (R, P)
    head = _header("#timeOrow7[msb-lsb],timeOrow6[msb-lst],...,timeOrow0[msb-lst]#",
                   "#time1row7[msb-lsb],time1row6[msb-lst],...,time1row0[msb-lst]#", "#....#")
    (d / "activation_project.txt").write_text(head + "".join(
        "".join(_bin(a[7 - j, i], 4) for j in range(8)) + "\n" for i in range(a.shape[1])))
    if twins:
        (d / "activation_project_int.txt").write_text(head + "".join(
            "".join(f"{int(a[7 - j, i])}," for j in range(8)) + "\n" for i in range(a.shape[1])))
    whead = _header("#col0row7[msb-lsb],col0row6[msb-lst],...,col0row0[msb-lst]#",
                    "#col1row7[msb-lsb],col1row6[msb-lst],...,col1row0[msb-lst]#", "#....#")
    for k in range(9):
        w = t.w_tiles[0, 0, :, :, k]                              # (C, R)
        (d / f"weight_kij{k}.txt").write_text(whead + "".join(
            "".join(reversed([_bin(w[i, j], 4) for j in range(8)])) + "\n" for i in range(8)))
        if twins:
            (d / f"weight_kij{k}_int.txt").write_text(whead + "".join(
                "".join(reversed([f"{int(w[i, j])}," for j in range(8)])) + "\n" for i in range(8)))
        p = t.psum[0, 0, :, :, k].T                               # (P, C)
        phead = _header("#timeOcol7[msb-lsb],timeOcol6[msb-lst],....,timeOcol0[msb-lst]#",
                        "#time1col7[msb-lsb],time1col6[msb-lst],....,time1col0[msb-lst]#", "#.....#")
        (d / f"psum_kij{k}.txt").write_text(phead + "".join(
            "".join(reversed([_bin(p[i, j], 16) for j in range(8)])) + "\n" for i in range(p.shape[0])))
        if twins:
            (d / f"psum_kij{k}_int.txt").write_text(phead + "".join(
                "".join(reversed([f"{int(p[i, j])}," for j in range(8)])) + "\n" for i in range(p.shape[0])))
    out = t.out_tile(0)                                           # (C, HW)
    ohead = _header("#out7feature0[msb-lsb],out6feature0[msb-lst],...,out0feature0[msb-lst]#",
                    "#out7feature1[msb-lsb],out6feature1[msb-lst],...,out0feature1[msb-lst]#", "#.....#")
    (d / "out.txt").write_text(ohead + "".join(
        "".join(_bin(out[7 - j, i], 16) for j in range(8)) + "\n" for i in range(out.shape[1])))
    if relu_file:
        (d / "out_relu.txt").write_text(ohead + "".join(
            "".join(_bin(max(0, int(out[7 - j, i])), 16) for j in range(8)) + "\n" for i in range(out.shape[1])))
        if twins:
            (d / "out_int_relu.txt").write_text(ohead + "".join(
                "".join(f"{max(0, int(out[7 - j, i]))}, " for j in range(8)) + "\n" for i in range(out.shape[1])))


def _nb003(t: TiledLayer, d: Path) -> None:
    """Notebook 003: activation.txt (the 16 unpadded positions), weight_itile0_otile0_kij{k}.txt written line
    t = output channel 7-t with input channel 0 first (the cell's W_k[7 - oc, ic]), no headers; psum.txt (the
    sums before ReLU), psum_relu.txt, and psum_{k}.txt (kernel position k's psums at the 16 output positions)."""
    side = t.height
    a = t.a_tiles[0].reshape(8, side + 2, side + 2)[:, 1:-1, 1:-1].reshape(8, side * side)
    (d / "activation.txt").write_text(_header("#time0row7[msb-lsb],time0row6[msb-lsb],...,time0row0[msb-lsb]",
                                              "#time1row7[msb-lsb],time1row6[msb-lsb],...,time1row0[msb-lsb]",
                                              "#.....#") + "".join(
        "".join(_bin(a[7 - j, i], 4) for j in range(8)) + "\n" for i in range(side * side)))
    for k in range(9):
        w = t.w_tiles[0, 0, :, :, k]                              # (C = oc, R = ic)
        (d / f"weight_itile0_otile0_kij{k}.txt").write_text("".join(
            "".join(_bin(w[7 - oc, ic], 4) for ic in range(8)) + "\n" for oc in range(8)))
    out = t.out_tile(0)                                           # (C, HW)
    (d / "psum.txt").write_text(_header("#time0row7[msb-lsb],time0row6[msb-lsb],...,time0row0[msb-lsb]",
                                        "#.....#") + "".join(
        "".join(_bin(out[7 - r, q], 16) for r in range(8)) + "\n" for q in range(side * side)))
    (d / "psum_relu.txt").write_text(_header("#ReLUed psum output", "#time0row7[msb-lsb],time0row6[msb-lsb],...,row0#",
                                             "#.....#") + "".join(
        "".join(_bin(max(0, int(out[7 - r, q])), 16) for r in range(8)) + "\n" for q in range(side * side)))
    for k in range(9):
        kh, kw = divmod(k, 3)
        lines = []
        for q in range(side * side):
            h, w_ = divmod(q, side)
            pos = (h + kh) * (side + 2) + w_ + kw
            lines.append("".join(_bin(t.psum[0, 0, 7 - oc, pos, k], 16) for oc in range(8)) + "\n")
        (d / f"psum_{k}.txt").write_text("".join(lines))


def _nb002(t: TiledLayer, d: Path) -> None:
    """Notebook 002: one kernel position's matrix product over a window of positions, a blank between words:
    activation.txt, one weight.txt, psum.txt."""
    a = t.a_tiles[0]
    head = "#time0row7[msb-lsb],time0row6[msb-lst],...,time0row0[msb-lst]\n#time1row7[msb-lsb],...\n#.....#\n"
    (d / "activation.txt").write_text(head + "".join(
        "".join(_bin(a[7 - j, i], 4) + " " for j in range(8)) + "\n" for i in range(a.shape[1])))
    w = t.w_tiles[0, 0, :, :, 0]
    (d / "weight.txt").write_text("#col0row7[msb-lsb],...\n#col1row7[msb-lsb],...\n#.....#\n" + "".join(
        "".join(_bin(w[7 - j, i], 4) + " " for j in range(8)) + "\n" for i in range(8)))
    p = t.psum[0, 0, :, :, 0]
    (d / "psum.txt").write_text("#time0col7[msb-lsb],...#\n#time1col7[msb-lsb],...#\n#.....#\n" + "".join(
        "".join(_bin(p[7 - j, i], 16) + " " for j in range(8)) + "\n" for i in range(p.shape[1])))


def write_notebook_folder(notebook: str, t: TiledLayer, folder: str | Path, **options) -> Path:
    """Write one tile of a layer as notebook `notebook` ('000', '001', '002', '003') writes it. Options:
    001: relu_file (out_relu.txt, default True), twins (the *_int.txt files, default True)."""
    d = Path(folder)
    d.mkdir(parents=True, exist_ok=True)
    if t.n_ic != 1 or t.n_oc != 1 or t.rows != 8 or t.cols != 8:
        raise ValueError("the seed notebooks write one 8x8 tile")
    if notebook == "000":
        write_layer(t, d, psums=options.get("psums", True))
    else:
        {"001": _nb001, "002": _nb002, "003": _nb003}[notebook](t, d, **options)
    return d
