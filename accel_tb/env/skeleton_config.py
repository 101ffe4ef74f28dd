"""The configuration file of a course-skeleton core (accel_tb.env.skeleton.SkeletonAdapter): every fact about one
team's core that the course testbench sequence depends on, read from TOML and judged before anything is
built (docs/byoc_config.md is the field reference).

    cfg = load_config("skeleton.toml")        # ConfigError: one line naming the file and the field
    check_ports(cfg, top_ports(...))          # the same against the elaborated top module's ports

No cocotb here: the commands use it in the host process.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from accel_host.mapping import names
from accel_tb.adapter import Geometry
from accel_tb.design.portdesc import constant_problem


class ConfigError(ValueError):
    """A configuration that cannot drive the core: its message is the one line the user sees."""


# the course's inst[33:0], LSB first (core_tb.v of ECE 284 Part 1): name -> (lsb, width)
COURSE_FIELDS = {"load": (0, 1), "execute": (1, 1), "l0_wr": (2, 1), "l0_rd": (3, 1), "ififo_rd": (4, 1),
                 "ififo_wr": (5, 1), "ofifo_rd": (6, 1), "A_xmem": (7, 11), "WEN_xmem": (18, 1),
                 "CEN_xmem": (19, 1), "A_pmem": (20, 11), "WEN_pmem": (31, 1), "CEN_pmem": (32, 1), "acc": (33, 1)}
COURSE_WIDTH = 34
# flow.drain_wait's bound: four times a 64 x 64 array's default wait (2 (rows + cols) = 256). A 4x4 layer's nine
# kernel positions at that wait (about 1,070 cycles each, streamed) stay inside its cycle budget (100 per padded
# position and kernel position, plus 10,000); a smaller layer over many tiles may not, and its timeout then names
# the stream and the wait (SkeletonAdapter.stream) rather than blaming the core
MAX_DRAIN_WAIT = 1024
# course fields a weight-stationary flow never drives: a core may have none (inst.fields.ififo_wr = "none")
NO_IFIFO = ("ififo_wr", "ififo_rd")
# memory enables are active low in the skeleton: idle words hold them high
ACTIVE_LOW = ("WEN_xmem", "CEN_xmem", "WEN_pmem", "CEN_pmem")

# the top module's pins the flow touches (role -> default name); ofifo_valid only when draining by valid
PIN_ROLES = ("clk", "reset", "inst", "D_xmem", "ofifo_valid", "sfp_out")
# pins a core may have, used only when the file names them (no default name): mode selects 2-bit activations,
# os the output-stationary dataflow (1) or the weight-stationary one (0)
OPTIONAL_PINS = ("mode", "os")
DATAFLOWS = tuple(names())      # the registered dataflows (accel_host.mapping)
WHEN = ("always", "run", "readout", "after_acc")
# the flows the issue lists that this adapter does not run yet: (key, supported value, the others)
UNSUPPORTED = {"accumulate": ("readout", ("run",)), "read_from": ("sfp_out", ("pmem", "pe_bus"))}

SCHEMA = {   # section -> key -> (type(s), required); None: a table of free names (checked where used)
    "geometry": {"rows": (int, True), "cols": (int, True), "bits": (int, False), "psum_bits": (int, False),
                 "max_side": (int, False)},
    "pins": {r: (str, r in ("inst", "D_xmem", "sfp_out")) for r in (*PIN_ROLES, *OPTIONAL_PINS)},
    "inst": {"width": (int, False), "fields": (dict, False), "extra": (dict, False)},
    "tie": None,
    "params": None,
    "reset": {"active": (str, False), "cycles": (int, False), "per_kernel": (bool, False),
              "per_kernel_cycles": (int, False), "per_output": (bool, False), "per_output_cycles": (int, False)},
    "mode": {"four_bit": (int, False), "two_bit": (int, False), "field": ((int, str), False),
             "even_channel": (str, False)},
    "flow": {"weights_at": (int, False), "drain": (str, False), "drain_wait": (int, False),
             "output": (str, False), "accumulate": (str, False), "read_from": (str, False),
             "dataflow": (str, False), "ofifo_latency": (int, False), "readout_wait": (int, False),
             "xmem_latency": (int, False)},
}
REQUIRED_SECTIONS = ("geometry", "pins")
EXTRA_KEYS = {"bits": ((int, str), True), "value": (int, True), "when": (str, False)}


@dataclass(frozen=True)
class Extra:
    """An instruction field beyond the course map (a ReLU enable, a mode bit) with the value it carries."""
    name: str
    lsb: int
    width: int
    value: int
    when: str = "always"        # always: every word; run: not during the readout; readout: only then


@dataclass
class SkeletonConfig:
    path: str
    rows: int
    cols: int
    bits: int = 4
    psum_bits: int = 16
    max_side: int = 4
    pins: dict = field(default_factory=lambda: {r: r for r in PIN_ROLES if r != "sfp_out"} | {"sfp_out": "sfp_out"})
    inst_width: int = COURSE_WIDTH
    fields: dict = field(default_factory=lambda: dict(COURSE_FIELDS))   # name -> (lsb, width)
    extra: list = field(default_factory=list)                           # [Extra]
    tie: dict = field(default_factory=dict)                              # pin -> value
    params: dict = field(default_factory=dict)                           # Verilog parameter -> value
    reset_active: int = 1
    reset_cycles: int = 3
    reset_per_kernel: bool = True
    reset_per_kernel_cycles: int = 1
    reset_per_output: bool = True         # a reset before every output's accumulation (core_tb.v; an SFU cleared only by it)
    reset_per_output_cycles: int = 1
    weights_at: int = 1024
    drain: str = "valid"
    drain_wait: int | None = None
    stream_valid: bool = False            # drain = "stream" with pins.ofifo_valid named: valid checked at each pop
    ofifo_latency: int = 1                # cycles from ofifo_rd to the OFIFO's pop (the course ofifo.v registers rd: 1)
    xmem_latency: int = 1                 # cycles from an xmem read to its word on Q (the course SRAM registers A: 1)
    readout_wait: int = 0                 # idle words after the one that follows the last acc, before sampling
    output: str = "relu"
    accumulate: str = "readout"
    read_from: str = "sfp_out"
    # the 2-bit activation mode (course Part 2), selected by pins["mode"] or by an instruction field
    mode_field: tuple | None = None       # (lsb, width) of the field, when the mode is one
    mode_four_bit: int = 0                # the select's value for 4-bit layers
    mode_two_bit: int = 1                 # for 2-bit layers: row r's lane = {channel 2r+1, channel 2r}
    even_channel: str = "low"             # 2-bit lane order: channel 2r in the lane's low half ("high": [3:2])
    dataflow: str = "ws"                  # "os": output-stationary (accel_tb.env.skeleton: run_output_stationary)

    @property
    def two_bit(self) -> bool:
        """Whether the core has the 2-bit mode: a mode pin or a mode field is named."""
        return "mode" in self.pins or self.mode_field is not None

    def mode_value(self, a_bits: int) -> int:
        return self.mode_two_bit if a_bits * 2 == self.bits else self.mode_four_bit

    @property
    def kernel_words(self) -> int:
        """xmem words of one kernel position: one per column, two in 2-bit mode (channels 2r, then 2r+1)."""
        return self.cols * (2 if self.two_bit else 1)

    @property
    def name(self) -> str:
        return Path(self.path).name

    @property
    def geometry(self) -> Geometry:
        return Geometry(rows=self.rows, cols=self.cols, a_bits=self.bits, w_bits=self.bits,
                        psum_bits=self.psum_bits, max_side=self.max_side, two_bit=self.two_bit,
                        output_stationary=self.dataflow == "os" or "os" in self.pins)

    @property
    def positions(self) -> int:
        """Padded positions of the largest input the core takes (xmem words of one activation tile)."""
        return (self.max_side + 2) ** 2

    def wait_after_execute(self) -> int:
        """drain = "count": cycles from the last execute word to the first OFIFO read (default: twice the
        skew of the array, enough for the last column's last psum to reach the OFIFO)."""
        return self.drain_wait if self.drain_wait is not None else 2 * (self.rows + self.cols)

    def wait_in_stream(self) -> int:
        """drain = "stream": cycles from the first execute word to the first OFIFO read, which only the core's
        own testbench tells (load_config requires it; a configuration built in Python is told here)."""
        if self.drain_wait is None:
            raise ValueError(f"{self.name}: flow.drain_wait: required with drain = \"stream\"")
        return self.drain_wait

    def to_dict(self) -> dict:
        """JSON-able (the run's configuration carries it into the simulation)."""
        d = asdict(self)
        d["fields"] = {k: list(v) for k, v in self.fields.items()}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> SkeletonConfig:
        d = dict(d)
        d["fields"] = {k: tuple(v) for k, v in d["fields"].items()}
        d["extra"] = [Extra(**e) for e in d["extra"]]
        if d.get("mode_field") is not None:
            d["mode_field"] = tuple(d["mode_field"])
        return cls(**d)


# ---------------------------------------------------------------------------------------------- reading
def _toml(path: Path) -> dict:
    try:
        import tomllib  # noqa: PLC0415 (Python 3.11)
    except ImportError:   # pragma: no cover - Python 3.10
        try:
            import tomli as tomllib  # noqa: PLC0415
        except ImportError:
            raise ConfigError(f"{path}: reading TOML needs Python 3.11 (tomllib) or the tomli package") from None
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder; give the .toml file") from None
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror})") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"{path}: byte {e.object[e.start]:#04x} at offset {e.start} is not UTF-8") from None
    if text.startswith("\ufeff"):
        raise ConfigError(f"{path}: starts with a UTF-8 byte-order mark (BOM); save the file as plain UTF-8 text")
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None


def _type_name(t) -> str:
    names = {int: "an integer", str: "a string", bool: "true or false", dict: "a table"}
    return " or ".join(names[x] for x in t) if isinstance(t, tuple) else names[t]


def _is(value, t) -> bool:
    ts = t if isinstance(t, tuple) else (t,)
    # TOML's true is a Python bool, which is also an int: a flag is never taken for a number
    return any(isinstance(value, x) and not (x is int and isinstance(value, bool)) for x in ts)


def _check_table(where: str, table: dict, schema: dict, err) -> None:
    for key, value in table.items():
        if key not in schema:
            err(f"{where}.{key}", f"unknown key (known: {', '.join(schema)})")
        t, _ = schema[key]
        if not _is(value, t):
            err(f"{where}.{key}", f"must be {_type_name(t)}, not {value!r}")
    for key, (_, required) in schema.items():
        if required and key not in table:
            err(f"{where}.{key}", "missing (required)")


def parse_bits(spec, width: int, where: str, err) -> tuple[int, int]:
    """A field's position: an integer (one bit) or "msb:lsb" as in Verilog; returns (lsb, width)."""
    if _is(spec, int):
        msb = lsb = spec
    else:
        m = re.fullmatch(r"\s*(\d+)\s*(?::\s*(\d+)\s*)?", spec)
        if not m:
            err(where, f"{spec!r}: expected a bit number or \"msb:lsb\"")
        msb = int(m.group(1))
        lsb = int(m.group(2)) if m.group(2) is not None else msb
        if lsb > msb:
            err(where, f"\"{spec}\": write the high bit first (\"{lsb}:{msb}\")")
    if lsb < 0:
        err(where, f"bit {lsb} is negative")
    n = msb - lsb + 1
    if n > width:
        err(where, f"{n} bits wide, wider than the {width}-bit instruction")
    if msb >= width:
        err(where, f"bit {msb} is outside the {width}-bit instruction (bits {width - 1}:0)")
    return lsb, n


def load_config(path) -> SkeletonConfig:
    """Read and validate a configuration; ConfigError names the file and the field."""
    path = Path(path)
    raw = _toml(path)

    def err(key: str, msg: str):
        raise ConfigError(f"{path}: {key}: {msg}")

    for section, value in raw.items():
        if section not in SCHEMA:
            err(section, f"unknown section (known: {', '.join(SCHEMA)})")
        if not isinstance(value, dict):
            err(section, f"must be a table ([{section}]), not {value!r}")
    for section in REQUIRED_SECTIONS:
        if section not in raw:
            err(section, f"missing section [{section}]")
    for section, schema in SCHEMA.items():
        if schema is not None:
            _check_table(section, raw.get(section, {}), schema, err)

    geo = raw["geometry"]
    cfg = SkeletonConfig(path=str(path), rows=geo["rows"], cols=geo["cols"])
    for key in ("bits", "psum_bits", "max_side"):
        if key in geo:
            setattr(cfg, key, geo[key])
    for key, lo, hi in (("rows", 1, 64), ("cols", 1, 64), ("bits", 2, 8), ("psum_bits", 2, 64), ("max_side", 1, 32)):
        v = getattr(cfg, key)
        if not lo <= v <= hi:
            err(f"geometry.{key}", f"{v} is outside {lo}..{hi}")
    if cfg.bits != 4:
        # the golden model is the 4-bit VGG16 (accel_tb.cli.inputs): other widths have no golden values to run
        err("geometry.bits", f"{cfg.bits}: the golden layers are 4-bit (activations and weights); only 4 is run")

    pins = raw["pins"]
    cfg.pins = {r: pins.get(r, r) for r in PIN_ROLES} | {r: pins[r] for r in OPTIONAL_PINS if r in pins}
    for role, name in cfg.pins.items():
        if role == "ofifo_valid" and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*\[\s*\d+\s*\]", name):
            cfg.pins[role] = re.sub(r"\s+", "", name)       # one bit of a status bus: "l0_ofifo_signals[4]"
            continue
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", name):
            err(f"pins.{role}", f"{name!r} is not a Verilog port name"
                                + (" (a bit of a bus: \"name[4]\")" if role == "ofifo_valid" else ""))
    seen: dict[str, str] = {}
    for role, name in cfg.pins.items():     # roles left out take the port of their own name
        if name in seen:
            err(f"pins.{seen[name]} and pins.{role}", f"both name {name!r}; each role needs a port of its own"
                + ("" if role in pins and seen[name] in pins else " (a role left out takes the port of its name)"))
        seen.setdefault(name, role)

    reset = raw.get("reset", {})
    if "active" in reset:
        if reset["active"] not in ("high", "low"):
            err("reset.active", f"{reset['active']!r}: must be \"high\" or \"low\"")
        cfg.reset_active = int(reset["active"] == "high")
    for key, attr, lo in (("cycles", "reset_cycles", 1), ("per_kernel_cycles", "reset_per_kernel_cycles", 1),
                          ("per_output_cycles", "reset_per_output_cycles", 1)):
        if key in reset:
            if reset[key] < lo:
                err(f"reset.{key}", f"{reset[key]}: must be >= {lo}")
            setattr(cfg, attr, reset[key])
    cfg.reset_per_kernel = reset.get("per_kernel", True)
    cfg.reset_per_output = reset.get("per_output", True)
    if "per_output_cycles" in reset and not cfg.reset_per_output:
        err("reset.per_output_cycles", "only used with per_output = true")

    flow = raw.get("flow", {})
    for key in ("weights_at", "drain", "drain_wait", "output", "accumulate", "read_from", "dataflow",
                "ofifo_latency", "readout_wait", "xmem_latency"):
        if key in flow:
            setattr(cfg, key, flow[key])
    for key, allowed in (("drain", ("valid", "count", "stream")), ("output", ("relu", "sum")), ("dataflow", DATAFLOWS)):
        if getattr(cfg, key) not in allowed:
            err(f"flow.{key}", f"{getattr(cfg, key)!r}: must be {' or '.join(repr(a) for a in allowed)}")
    for key, (supported, others) in UNSUPPORTED.items():
        v = getattr(cfg, key)
        if v in others:
            err(f"flow.{key}", f"{v!r}: not supported by the config adapter yet; subclass "
                               f"accel_tb.env.skeleton.SkeletonAdapter and override its hook (docs/byoc_config.md)")
        if v != supported:
            err(f"flow.{key}", f"{v!r}: must be {supported!r} ({', '.join(map(repr, others))}: not supported yet)")
    if cfg.drain_wait is not None and cfg.drain == "valid":
        err("flow.drain_wait", "only used with drain = \"count\" or \"stream\" (drain = \"valid\" polls the valid pin)")
    if cfg.drain == "stream" and cfg.dataflow == "os":
        err("flow.drain", "\"stream\" is a weight-stationary flow (activations into L0 and the OFIFO read while "
                          "the array executes); flow.dataflow = \"os\" drains the sums after the run")
    if cfg.drain == "stream" and cfg.drain_wait is None:
        err("flow.drain_wait", "required with drain = \"stream\": the cycles from the first execute word to the "
                               "first ofifo_rd (your core_tb.v's; with pins.ofifo_valid named, a read before its word "
                               "is there is reported)")
    cfg.stream_valid = cfg.drain == "stream" and "ofifo_valid" in pins
    if cfg.drain_wait is not None and not 0 <= cfg.drain_wait <= MAX_DRAIN_WAIT:
        # past the bound the run would spend the layer's cycle budget waiting and end blaming the core
        err("flow.drain_wait", f"{cfg.drain_wait}: must be 0..{MAX_DRAIN_WAIT}")
    for key, hi in (("ofifo_latency", 8), ("readout_wait", 64), ("xmem_latency", 8)):
        if not 0 <= getattr(cfg, key) <= hi:
            err(f"flow.{key}", f"{getattr(cfg, key)}: must be 0..{hi}")
    if cfg.drain == "count" and "ofifo_valid" in pins:
        err("pins.ofifo_valid", "not read with drain = \"count\" (leave it out, or drain = \"valid\")")

    inst = raw.get("inst", {})
    cfg.inst_width = inst.get("width", COURSE_WIDTH)
    if not 1 <= cfg.inst_width <= 256:
        err("inst.width", f"{cfg.inst_width} is outside 1..256")
    fields = dict(COURSE_FIELDS)
    for name, spec in inst.get("fields", {}).items():
        where = f"inst.fields.{name}"
        if name not in COURSE_FIELDS:
            err(where, f"not a course field ({', '.join(COURSE_FIELDS)}); other fields go in [inst.extra.{name}]")
        if spec == "none" and name in NO_IFIFO:
            # a weight-stationary core without the IFIFO (several teams put another signal, a ReLU strobe, on
            # its bit): the field is gone, its bit free for an [inst.extra] field; output-stationary needs it
            if cfg.dataflow == "os" or "os" in cfg.pins:
                err(where, "\"none\": output-stationary runs stream the weights through the IFIFO (" +
                    ("flow.dataflow = \"os\")" if cfg.dataflow == "os" else f"pins.os = {cfg.pins['os']!r} switches to it)"))
            del fields[name]
            continue
        if spec == "none":
            err(where, f"\"none\": the flow drives {name} (only {' and '.join(NO_IFIFO)} may be \"none\")")
        if not _is(spec, (int, str)):
            err(where, f"must be a bit number or \"msb:lsb\", not {spec!r}" +
                (" (or \"none\": a core without the IFIFO)" if name in NO_IFIFO else ""))
        fields[name] = parse_bits(spec, cfg.inst_width, where, err)
    for name, (lsb, n) in fields.items():
        if name not in inst.get("fields", {}) and lsb + n > cfg.inst_width:
            err(f"inst.fields.{name}", f"the course position {lsb + n - 1}:{lsb} is outside the {cfg.inst_width}-bit "
                                       f"instruction; give its position")
    cfg.fields = fields
    extras = []
    for name, spec in inst.get("extra", {}).items():
        where = f"inst.extra.{name}"
        if name in COURSE_FIELDS:
            err(where, "a course field: move it under [inst.fields]")
        if not isinstance(spec, dict):
            err(where, "must be a table: { bits = 34, value = 1 }")
        _check_table(where, spec, EXTRA_KEYS, err)
        lsb, n = parse_bits(spec["bits"], cfg.inst_width, f"{where}.bits", err)
        if not 0 <= spec["value"] < (1 << n):
            err(f"{where}.value", f"{spec['value']} does not fit the field's {n} bit{'s' if n > 1 else ''}")
        when = spec.get("when", "always")
        if when not in WHEN:
            err(f"{where}.when", f"{when!r}: must be one of {', '.join(map(repr, WHEN))}")
        extras.append(Extra(name, lsb, n, spec["value"], when))
    cfg.extra = extras
    mode = raw.get("mode", {})
    if "field" in mode:
        if "mode" in pins:
            err("mode.field", f"the mode is already the pin pins.mode = {pins['mode']!r}; give one of the two")
        cfg.mode_field = parse_bits(mode["field"], cfg.inst_width, "mode.field", err)
    elif mode and "mode" not in pins:
        err("mode", "values of a mode select that is not named: give the pin (pins.mode = \"mode\") or the "
                    "instruction field (mode.field = 34)")
    if "even_channel" in mode:
        if mode["even_channel"] not in ("low", "high"):
            err("mode.even_channel", f"{mode['even_channel']!r}: must be \"low\" (channel 2r in the lane's low half, "
                                     f"bits 1:0) or \"high\" (bits 3:2)")
        cfg.even_channel = mode["even_channel"]
    for key in ("four_bit", "two_bit"):
        if key in mode:
            if mode[key] < 0:
                err(f"mode.{key}", f"{mode[key]}: must be >= 0")
            setattr(cfg, f"mode_{key}", mode[key])
        n = cfg.mode_field[1] if cfg.mode_field else None
        if n is not None and getattr(cfg, f"mode_{key}") >= 1 << n:
            err(f"mode.{key}", f"{getattr(cfg, f'mode_{key}')} does not fit the {n}-bit mode.field")
    if cfg.mode_two_bit == cfg.mode_four_bit:
        err("mode.two_bit", f"{cfg.mode_two_bit}: the same value as mode.four_bit; the two modes need two values")
    owner: dict[int, str] = {}
    mode_bits = [("mode.field", *cfg.mode_field)] if cfg.mode_field else []
    for label, lsb, n in [*((f"inst.fields.{k}", a, b) for k, (a, b) in fields.items()),
                          *((f"inst.extra.{e.name}", e.lsb, e.width) for e in extras), *mode_bits]:
        for bit in range(lsb, lsb + n):
            if bit in owner:
                err(label, f"overlaps {owner[bit]} at bit {bit}")
            owner[bit] = label

    # the addresses the flow writes must fit their fields, and the kernel must not overwrite activations
    p, a_x, a_p = cfg.positions, fields["A_xmem"][1], fields["A_pmem"][1]
    if cfg.weights_at < p:
        err("flow.weights_at", f"{cfg.weights_at}: below the {p} activation words at xmem 0..{p - 1} "
                               f"(geometry.max_side = {cfg.max_side})")
    if cfg.weights_at + cfg.kernel_words > (1 << a_x):
        err("flow.weights_at", f"{cfg.weights_at} + {cfg.kernel_words} kernel words"
                               + (" (two a column in 2-bit mode)" if cfg.two_bit else "")
                               + f" do not fit the {a_x}-bit A_xmem")
    if 9 * p > (1 << a_p):
        err("inst.fields.A_pmem", f"{a_p} bits address {1 << a_p} words; the nine kernel positions' psums take {9 * p}")

    for section in ("tie", "params"):
        for name, value in raw.get(section, {}).items():
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", name):
                err(f"{section}.{name}", "not a Verilog name")
            if not _is(value, int if section == "tie" else (int, str)):
                err(f"{section}.{name}", f"must be {'an integer' if section == 'tie' else 'an integer or a string'},"
                                         f" not {value!r}")
            elif section == "params" and (why := constant_problem(value)):
                err(f"params.{name}", why)
    cfg.tie = dict(raw.get("tie", {}))
    cfg.params = {k: v for k, v in raw.get("params", {}).items()}
    for name in cfg.tie:
        if name in cfg.pins.values():
            role = next(r for r, n in cfg.pins.items() if n == name)
            err(f"tie.{name}", f"is the {role} pin (pins.{role}); a pin the flow drives cannot be tied")
    return cfg


# ---------------------------------------------------------------------------------------------- ports
def used_pins(cfg: SkeletonConfig) -> dict[str, str]:
    """role -> port name of the pins this configuration's flow drives or reads."""
    return {r: n for r, n in cfg.pins.items()
            if not (r == "ofifo_valid" and (cfg.drain == "count" or cfg.drain == "stream" and not cfg.stream_valid))}


def pin_widths(cfg: SkeletonConfig) -> tuple[dict, dict]:
    """(role -> the width the configuration gives its pin (None: any), role -> the keys that width comes from)."""
    widths = {"clk": 1, "reset": 1, "inst": cfg.inst_width, "D_xmem": cfg.rows * cfg.bits, "ofifo_valid": 1,
              "sfp_out": cfg.cols * cfg.psum_bits, "mode": None, "os": 1}
    why = {"inst": "inst.width", "D_xmem": "geometry.rows x geometry.bits",
           "sfp_out": "geometry.cols x geometry.psum_bits"}
    return widths, why


def check_ports(cfg: SkeletonConfig, ports: dict, top: str, complete: bool = True) -> None:
    """The configuration against the elaborated top module's ports (name -> accel_tb.design.portdesc.Port, widths
    with the parameters applied): every pin there with its direction and width, every input driven.
    complete=False: `ports` holds only the pins' and ties' ports a simulator's handles showed, their direction
    None (SkeletonAdapter.check_pins at start()): names and widths are checked, directions and inputs nobody
    drives are not."""
    def err(key, msg):
        raise ConfigError(f"{cfg.path}: {key}: {msg}")

    widths, why = pin_widths(cfg)
    for role, name in used_pins(cfg).items():
        bit = None
        if "[" in name:                       # pins.ofifo_valid = "bus[4]": one bit of an output bus
            name, bit = name[:-1].split("[")
            bit = int(bit)
        port = ports.get(name)
        if port is None:
            near = [p for p in ports if p.lower() == name.lower()]
            err(f"pins.{role}", f"the top module {top} has no port {name!r}"
                                + (f" (it has {near[0]!r})" if near else f" (its ports: {', '.join(ports)})"
                                   if complete else ""))
        want = "output" if role in ("ofifo_valid", "sfp_out") else "input"
        if port.direction is not None and port.direction != want:
            err(f"pins.{role}", f"{name} is an {port.direction} of {top}; the flow needs an {want}")
        if role == "mode":   # any width its two values fit
            top_value = max(cfg.mode_two_bit, cfg.mode_four_bit)
            if port.width is not None and top_value >= 1 << port.width:
                key = "mode.two_bit" if cfg.mode_two_bit > cfg.mode_four_bit else "mode.four_bit"
                err(key, f"{top_value} does not fit {name}, a {port.width}-bit input of {top}")
            continue
        if bit is not None:
            # the declared range where the description gives it ([7:4]); Icarus's gives the width only, and a
            # bus need not start at 0: the run's sample() checks the bit against the simulator's range then
            if port.bits is not None and not min(port.bits) <= bit <= max(port.bits):
                err(f"pins.{role}", f"bit {bit} of {name}, a {port.width}-bit output of {top} "
                                    f"(bits {port.bits[0]}:{port.bits[1]})")
            continue
        if port.width is not None and port.width != widths[role]:
            src = f" ({why[role]})" if role in why else ""
            err(f"pins.{role}", f"{name} is {port.width} bits wide in {top}, the config gives {widths[role]}{src}")
    for name, value in cfg.tie.items():
        port = ports.get(name)
        if port is None:
            err(f"tie.{name}", f"the top module {top} has no port {name!r}")
        if port.direction is not None and port.direction != "input":
            err(f"tie.{name}", f"{name} is an {port.direction} of {top}; only inputs are tied")
        if port.width is not None and not 0 <= value < (1 << port.width):
            err(f"tie.{name}", f"{value} does not fit the {port.width}-bit port")
    driven = {n.split("[")[0] for n in used_pins(cfg).values()} | set(cfg.tie)
    floating = [n for n, p in ports.items() if p.direction == "input" and n not in driven] if complete else []
    if floating:
        # an input nobody drives is Z in the simulation: the run could only fail, and far from the cause
        err("tie", f"input {floating[0]} of {top} is neither a pin nor tied; add `{floating[0]} = VALUE` under [tie]"
                   + (f" ({len(floating) - 1} more: {', '.join(floating[1:])})" if len(floating) > 1 else ""))
