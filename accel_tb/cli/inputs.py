"""Validation of what users give the commands, in the host process before any build: a bad input is one
line naming the option or file, and exit status 2 (a real RTL mismatch is exit status 1)."""
from __future__ import annotations

import glob
from pathlib import Path

from accel_host.config import ConfigError, CoreConfig, for_network
from accel_host.mapping import LayerShape, MappingError, mapping


class InputError(ValueError):
    pass


def check_sim(sim: str | None, flag: str = "--sim") -> str:
    """The simulator's name, lower case (Verilator when none is given); runner.SIMULATORS is the one list."""
    from accel_tb.design.runner import SIMULATORS, unsupported_sim  # noqa: PLC0415
    name = (SIMULATORS[0] if sim is None else sim).lower()
    if name not in SIMULATORS:     # an empty name too: never the default in its place
        raise InputError(unsupported_sim(f"{flag} {sim or repr(sim)}"))
    return name


def check_seed(seed: int | None) -> int | None:
    """The random seed: --seed, else COCOTB_RANDOM_SEED from the environment, which must be an integer (cocotb
    would stop with a traceback inside the simulator); and, judged with it for the same reason (every command
    that simulates calls this), COCOTB_LOG_LEVEL and GPI_LOG_LEVEL."""
    from accel_tb.design.runner import BuildError, log_levels_from_env, seed_from_env  # noqa: PLC0415
    try:
        log_levels_from_env()
        return seed if seed is not None else seed_from_env()
    except BuildError as e:
        raise InputError(str(e)) from None


def check_waves(flag: bool) -> bool:
    """--waves, or WAVES=1 in the environment (read by accel-network and the suite too; accel-run and accel-byoc
    took it and wrote no waveform); WAVES other than 0, 1 or unset refused."""
    from accel_tb.design.runner import BuildError, waves_from_env  # noqa: PLC0415
    try:
        return waves_from_env() or flag
    except BuildError as e:
        raise InputError(str(e)) from None


def check_array(rows: int, cols: int) -> None:
    for name, v in (("--rows", rows), ("--cols", cols)):
        if not 1 <= v <= 64:
            raise InputError(f"{name} {v}: the array size must be in 1..64")


def load_checkpoint(path: str):
    """The checkpoint's outline (accel_tb.env.golden_store.checkpoint_outline: module types, conv channels and
    bits), stored after its first load, so that a command reads a checkpoint it has seen without torch."""
    from accel_tb.env.golden_store import checkpoint_outline  # noqa: PLC0415
    from golden_py.checkpoint_file import CheckpointError, checkpoint_path  # noqa: PLC0415 (no torch)
    try:
        return checkpoint_outline(checkpoint_path(path))    # a missing file or a folder: refused before torch
    except CheckpointError as e:
        raise InputError(f"--checkpoint {e}") from None


def check_layer(outline, layer: int):
    """The conv at features[layer], which must take unsigned integer input (every QuantConv2d but the first)."""
    convs = outline.quant_conv_indices()
    if layer == 0:
        raise InputError("--layer 0: features[0]'s input is the signed normalised image; the core takes unsigned "
                         f"activations. Layers with unsigned input: {convs[1:]}")
    if layer not in convs:
        what = outline.features[layer] if 0 <= layer < len(outline.features) else "out of range"
        raise InputError(f"--layer {layer}: features[{layer}] is {what}, not a QuantConv2d; choose one of {convs[1:]}")
    return outline.convs[layer]


def check_images(first: int, count: int, data_dir: str | None, first_flag: str = "--image") -> list[int]:
    """The image indices first..first+count-1, checked against the folder (or the bundled samples) without
    torch, so that a bad range is refused at once; first_flag is the command's name for the first index."""
    from golden_py.data import DataError, check_indices  # noqa: PLC0415
    if count < 1:
        raise InputError(f"--images {count}: at least 1 image")
    if first < 0:
        raise InputError(f"{first_flag} {first}: must be >= 0")
    idx = list(range(first, first + count))
    try:
        check_indices(idx[-1:], data_dir or None)
    except DataError as e:
        raise InputError(f"{first_flag}/--images: {e}") from None
    return idx


def check_data_dir(data_dir: str | None) -> str | None:
    if not data_dir:
        return None
    from golden_py.data import DataError, resolve_data_dir  # noqa: PLC0415
    try:
        return str(resolve_data_dir(data_dir))
    except DataError as e:
        raise InputError(f"--data-dir {e}") from None


def check_folder(path: str, rows: int | None = None, cols: int | None = None, flag: str | None = "--golden"):
    """The course folder read and judged; its errors name it after `flag` (None: the folder was the command's
    argument, accel-replay DIR, and the line starts with the folder)."""
    from golden_py.coursefmt import FormatError, read_folder  # noqa: PLC0415
    given = f"{flag} " if flag else ""
    try:
        v = read_folder(path)
    except FormatError as e:
        raise InputError(f"{given}{e}") from None
    except OSError as e:
        raise InputError(f"{given}{path}: cannot read ({e.strerror or e})") from None
    if rows is not None and (v.rows, v.cols) != (rows, cols):
        raise InputError(f"{given}{path}: the files are tiled for a {v.rows}x{v.cols} array, not {rows}x{cols} "
                         f"(leave out --rows/--cols to use the folder's size){two_bit_hint(v, rows)}")
    return v


def two_bit_hint(v, rows: int) -> str:
    """Why a folder may look tiled for twice the rows: activations given in decimal only are read as 4-bit, one
    channel a row, and a 2-bit folder (two channels a row) then reads as 2 x rows 4-bit rows (a probe); only its
    binary activation file says the lane width. '' where that is not the case."""
    decimal_only = any("activations in decimal only" in n for n in (v.notes or []))
    if decimal_only and v.rows == 2 * rows and int(v.a_tiles.max(initial=0)) <= 3:
        return ("; its activations are in decimal only (read as 4-bit, one channel a row) and all 0..3: a 2-bit "
                "folder needs its binary activation file, whose lane width says 2-bit")
    return ""


def layer_core_config(shape: LayerShape, rows: int, cols: int, a_bits: int = 4, dataflow: str = "ws") -> CoreConfig:
    """The default core (the README's numbers) when the layer fits it, else one sized for the layer."""
    try:
        cfg = CoreConfig(rows=rows, cols=cols)
        mapping(cfg, shape, a_bits, dataflow)
        return cfg
    except MappingError:
        pass
    try:
        cfg = for_network([shape], rows, cols, cmd_depth=4)
        mapping(cfg, shape, a_bits, dataflow)
        return cfg
    except (MappingError, ConfigError) as e:
        raise InputError(f"layer {shape} cannot run on a {rows}x{cols} core: {e}") from None


def absolute(path: str | None) -> str | None:
    return str(Path(path).resolve()) if path else None


def design_files(rtl: list[str], include: list[str], param: list[str], params: dict | None = None
                 ) -> tuple[list[Path], dict]:
    """A user's design as accel-byoc and accel-byoc init take it: the --rtl patterns' files (a folder or a
    pattern matching nothing refused), the --include folders, and --param NAME=VALUE on top of `params`."""
    sources = []
    for given in rtl:
        # "a.v b.v" quoted as one value (a list pasted from a Makefile): each word a pattern, unless the whole
        # value names a file (a name with a blank in it)
        words = given.split() if len(given.split()) > 1 and not glob.glob(given) else [given]
        for pattern in words:
            if Path(pattern).is_dir():
                raise InputError(f"--rtl {pattern}: is a folder; give its files (e.g. '{pattern.rstrip('/')}/*.v')")
            found = sorted(glob.glob(pattern))
            if not found:
                raise InputError(f"--rtl {pattern}: no such file" + (f" (one of the words of --rtl '{given}')"
                                                                      if len(words) > 1 else ""))
            sources += [Path(f).resolve() for f in found if Path(f).resolve() not in sources]
    from accel_tb.design.portdesc import constant_problem  # noqa: PLC0415
    params = dict(params or {})
    for name, value in params.items():          # a Python adapter's own `params` (a file's are judged as read)
        if why := constant_problem(value):
            raise InputError(f"the adapter's params {name} = {value!r}: {why}")
    for p in param:
        name, eq, value = p.partition("=")
        if not eq or not name.isidentifier() or not value:
            raise InputError(f"--param {p}: expected NAME=VALUE")
        if why := constant_problem(value):
            raise InputError(f"--param {p}: {why}")
        params[name] = value
    for d in include:
        if not Path(d).is_dir():
            raise InputError(f"--include {d}: not a folder")
    return sources, params

