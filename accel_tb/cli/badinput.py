"""The bad-input table: what a user can get wrong, the command as the user types it, the exit status and a
phrase of the line it prints. One list read by three readers: the table in docs/bad_input.md
(tests/test_bad_inputs.py checks the two agree; `--table` prints it, `--write` puts it there), the regression
(the same test runs every row) and the sweep

    python -m accel_tb.cli.badinput [--only WORDS] [--no-sim]
    python -m accel_tb.cli.badinput --table | --write

which runs every row in a scratch folder and prints, per row, its exit status and the first line it printed,
then 'N passed, M failed' (a row passes when status and phrase are as listed). Exit status 0 when every row
did, 1 otherwise. Rows marked `sim` run a short simulation (Icarus, layer 27); the others must refuse before
anything is built, and the sweep asserts that no model was built for them.

Exit status of every command: 0 pass, 1 a check failed, 2 bad input or a build that failed. Through make
the status is make's own (2 whenever the command failed): make's last line says the command's ("Error 1" /
"Error 2"), and so does the command's last line (FAIL ... / error: ...).
"""
from __future__ import annotations

import argparse
import atexit
import contextlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from accel_tb.design.runner import ROOT
from golden_py.cliargs import ArgumentParser

EXAMPLE = ROOT / "examples" / "skeleton_core"
CKPT = ROOT / "checkpoints" / "vgg16_a4w4.pt"
DOC = ROOT / "docs" / "bad_input.md"      # the page that holds the table


@dataclass(frozen=True)
class Case:
    what: str                 # the table's "input" column (docs/bad_input.md)
    command: str              # as the user types it; {tmp} is the row's scratch folder
    exit: int                 # the command's exit status
    says: str                 # a phrase of the first line it prints about the problem
    setup: str = ""           # the function below that prepares {tmp} (SETUPS)
    env: tuple = ()           # ((NAME, value), ...) set for the command
    sim: bool = False         # the row runs a (short) simulation
    fresh: bool = False       # as on a fresh clone: no stored outline, the command reads the checkpoint (torch)

    @property
    def shown(self) -> str:
        """The command as the table in docs/bad_input.md shows it."""
        env = " ".join(f"{k}={v}" for k, v in self.env if k != "PATH")
        return (env + " " if env else "") + self.command.replace("{tmp}/", "").replace("{root}/", "").replace(
            str(ROOT) + "/", "")


# the user command on a configuration of the example core that the row's set-up spoils
CONFIG_RUN = "accel-byoc --config {tmp}/my_team/bad.toml --rtl '{tmp}/my_team/rtl/*.v' --top core"

CASES = [
    # ------------------------------------------------------------------ the layer and the array
    Case("`--layer 0` (the signed image input)", "make LAYER=0", 2, "error: --layer 0: features[0]'s input is the signed",
         fresh=True),
    Case("a layer that is no conv", "make LAYER=28", 2, "error: --layer 28: features[28] is ReLU, not a QuantConv2d",
         fresh=True),
    Case("an image beyond the bundled samples", "make IMAGE=99", 2, "image index 99 out of range 0..15"),
    Case("an array size outside 1..64", "make ROWS=0", 2, "error: --rows 0: the array size must be in 1..64"),
    Case("a missing checkpoint", "make CHECKPOINT={tmp}/x.pt", 2, "x.pt: checkpoint not found"),
    Case("an empty folder name (a script's unset `$DIR`: the default layer ran and passed)", "accel-run --golden ''",
         2, "error: argument --golden: an empty value ''"),
    Case("the same through make", "make SIM=icarus GOLDEN=", 2,
         "GOLDEN= is empty on make's command line; leave it out for its default"),
    Case("a folder as the checkpoint", "accel-run --checkpoint {tmp}", 2,
         "error: --checkpoint {tmp}: a folder, not a checkpoint file (.pt)"),
    Case("a truncated checkpoint", "accel-run --checkpoint {tmp}/trunc.pt", 2, "trunc.pt: not a readable torch checkpoint",
         setup="truncated_checkpoint"),
    Case("a checkpoint that runs code when unpickled", "accel-run --checkpoint {tmp}/evil.pt", 2,
         "evil.pt: holds objects that torch.load builds only by running code from the file; refused, never unpickled",
         setup="crafted_checkpoint"),
    Case("`--report` into a folder that does not exist", "accel-run --report {tmp}/no/such/r.json", 2,
         "error: --report {tmp}/no/such/r.json: folder {tmp}/no/such does not exist"),
    Case("`--corrupt psum` where no psums are checked", "make DATAFLOW=os CORRUPT=psum", 2,
         "error: --corrupt psum: no psum values are checked against the core in this run (the output-stationary"),
    Case("`WAVES` other than 0 or 1", "make SIM=icarus WAVES=yes", 2, "WAVES=yes: must be 0 or 1"),
    Case("the same for the network", "make network WORKERS=2 WAVES=yes", 2, "error: WAVES=yes: must be 0 or 1"),
    Case("the same with a number", "make SIM=icarus WAVES=2", 2, "WAVES=2: must be 0 or 1"),
    Case("`ACCEL_PGO` other than 0 or 1", "make network", 2, "error: ACCEL_PGO=yes: must be 0 or 1",
         env=(("ACCEL_PGO", "yes"),)),
    Case("a profile-guided model forced where none can be built", "make network WAVES=1", 2,
         "error: ACCEL_PGO=1: no profile-guided model with WAVES=1", env=(("ACCEL_PGO", "1"),)),
    Case("`COCOTB_RANDOM_SEED` that is not an integer", "make SIM=icarus", 2,
         "error: COCOTB_RANDOM_SEED=abc: must be an integer", env=(("COCOTB_RANDOM_SEED", "abc"),)),
    Case("the same, under pytest", "pytest {root}/tb/mac", 2, "error: COCOTB_RANDOM_SEED=abc: must be an integer",
         env=(("COCOTB_RANDOM_SEED", "abc"),)),
    Case("cocotb's older `RANDOM_SEED` that is not an integer (a traceback in each simulation)", "pytest {root}/tb/mac",
         2, "error: RANDOM_SEED=abc: must be an integer", env=(("RANDOM_SEED", "abc"),)),
    Case("`ACCEL_PGO` that is not 0 or 1, under pytest (taken as unset there)", "pytest {root}/tb/mac", 2,
         "error: ACCEL_PGO=yes: must be 0 or 1", env=(("ACCEL_PGO", "yes"),)),
    Case("`pytest --sim ''` (an empty value ran the tests' own simulators)", "pytest {root}/tb/mac --sim ''", 2,
         "error: --sim '': supported simulators are"),
    Case("`pytest --golden` given twice (the first folder was dropped unread)",
         "pytest {root}/tb/core -k replay_user --golden {tmp}/g --golden {tmp}/g", 2,
         "error: --golden given twice", setup="folder"),
    Case("`accel-run --golden` given twice (the first folder was dropped unread, the run passed on the second)",
         "accel-run --sim icarus --golden {tmp}/g --golden {tmp}/g", 2,
         "error: argument --golden: given twice ({tmp}/g, then {tmp}/g): give it once", setup="folder"),
    Case("`golden_py.export --check` given twice (the first folder was never read: 'consistent')",
         "python -m golden_py.export --check {tmp}/g --check {tmp}/g", 2,
         "error: argument --check: given twice", setup="folder"),
    Case("`accel-network --layers` given twice (only the last list ran)", "accel-network --layers 27 --layers 29", 2,
         "error: argument --layers: given twice (27, then 29): give it once"),
    Case("a pytest run of tb/ whose every test skips (it passed having verified nothing)",
         "pytest {root}/tb/core -k replay_user --sim icarus", 1, "error: no test ran (1 skipped): nothing was verified"),
    Case("a `COCOTB_LOG_LEVEL` cocotb does not know (a traceback in the simulator, then 'no results file')",
         "make SIM=icarus", 2, "error: COCOTB_LOG_LEVEL=LOUD: must be one of CRITICAL, ERROR, WARNING, INFO, DEBUG, "
         "TRACE, NOTSET", env=(("COCOTB_LOG_LEVEL", "LOUD"),)),
    Case("`SIM` a simulator the suite does not run, under pytest (the line named `--sim`, which was not given)",
         "pytest {root}/tb/mac", 2, "error: SIM=vcs: supported simulators are verilator and icarus",
         env=(("SIM", "vcs"),)),
    Case("`SIM=icarus` without `iverilog` on PATH", "accel-run --sim icarus", 2,
         "error: iverilog not found on PATH: run `make setup`", env=(("PATH", "{tmp}/bin"),), setup="python_only_path"),
    # ------------------------------------------------------------------ course folders
    Case("a malformed line in a course folder", "make GOLDEN={tmp}/g", 2,
         "weight_itile0_otile0_kij3.txt:6: expected only 0/1 characters, found 'x'", setup="malformed_line"),
    Case("`accel-replay` without a folder", "accel-replay --sim icarus", 2,
         "error: DIR: give the course folder to replay"),
    Case("`accel-replay` given a folder and `--golden` another", "accel-replay {tmp}/g --golden {tmp}/g2", 2,
         "error: {tmp}/g and --golden {tmp}/g2: give the folder once"),
    Case("a byte-order mark", "accel-replay {tmp}/g", 2, "kij2.txt:1: starts with a UTF-8 byte-order mark",
         setup="bom"),
    Case("a byte that is not UTF-8", "accel-replay {tmp}/g", 2, "out.txt:6: byte 0xe9 at column 4 is not UTF-8",
         setup="non_utf8"),
    Case("a folder with only activation and weight files", "accel-replay {tmp}/g", 2, "nothing to check against",
         setup="no_outputs"),
    Case("an incomplete psum set", "accel-replay {tmp}/g", 2, "psum files incomplete: psum_kij4.txt missing",
         setup="psum_incomplete"),
    Case("a second download of a psum file beside it ('psum_kij4 (1).txt', values never read: passed)",
         "accel-replay {tmp}/g", 2, "psum_kij4 (1).txt: rows of numbers named like a psum file",
         setup="second_download"),
    Case("course files one folder down (never read nor named: passed)", "accel-replay {tmp}/g", 2,
         "old/out.txt: a course file in a folder below g/, which is never read", setup="folder_below"),
    Case("notebook 002's folder (one kernel position's matrix product)", "accel-replay {tmp}/g", 2,
         "notebook 002's folder (activation.txt, one weight.txt, psum.txt) holds one kernel position's", setup="nb002"),
    Case("two notebooks' output names in one folder", "accel-replay {tmp}/g", 2,
         "name the outputs in two notebooks' styles", setup="two_namings"),
    Case("layer options beside a folder", "make GOLDEN={tmp}/g IMAGES=2", 2,
         "error: --images: not used with --golden", setup="folder"),
    Case("`--checkpoint`, `--layer`, `--image`, `--data-dir` beside `--golden`", "accel-byoc --adapter "
         "{tmp}/my_team/adapter.py --rtl '{tmp}/my_team/rtl/*.v' --top core --golden {tmp}/g --layer 3", 2,
         "error: --layer: not used with --golden", setup="folder_and_example"),
    Case("`pytest tb --golden` a folder that is not there", "pytest {root}/tb/core --golden {tmp}/nowhere", 2,
         "nowhere: not a folder"),
    Case("`pytest --golden` an empty folder name", "pytest {root}/tb/core --golden ''", 2,
         "error: --golden '': an empty folder name"),
    Case("`pytest --golden DIR` on tests that do not replay it (they passed; the folder went unchecked)",
         "pytest {root}/tb/replay -k minimal_course_folder_passes --golden {tmp}/g", 4,
         "error: --golden {tmp}/g: not replayed -- only tb/core/test_core.py::test_core_replay_user_vectors reads it",
         setup="folder", sim=True),
    # ------------------------------------------------------------------ your own core
    Case("an adapter file that is not there", "accel-byoc --adapter {tmp}/missing.py --rtl 'x.v' --top core", 2,
         "error: --adapter {tmp}/missing.py: file not found"),
    Case("the configuration file given as `--adapter`", "accel-byoc --adapter {tmp}/my_team/skeleton.toml --rtl "
         "'{tmp}/my_team/rtl/*.v' --top core", 2, "error: --adapter {tmp}/my_team/skeleton.toml: not a Python file "
         "(.py); a .toml describing a course-skeleton core goes to --config", setup="example"),
    Case("an adapter path without `.py`", "accel-byoc --adapter {tmp}/my_team/adapter --rtl '{tmp}/my_team/rtl/*.v' "
         "--top core", 2, "error: --adapter {tmp}/my_team/adapter: file not found (an adapter is "
         "path/to/adapter.py[:ClassName]", setup="example"),
    Case("an adapter class with no file or module", "accel-byoc --adapter :SkeletonCore --rtl 'x.v' --top core", 2,
         "error: --adapter :SkeletonCore: no file or module before ':'"),
    Case("an adapter without its hooks", "accel-byoc --adapter {tmp}/my_team/bare.py --rtl '{tmp}/my_team/rtl/*.v' "
         "--top core", 2, "error: --adapter Bare: start(), load_activations(), run_kernel(), outputs() not implemented",
         setup="bare_adapter"),
    Case("an adapter whose Geometry says psum_bits=0 (a traceback deep in the run: 'negative shift count')",
         "accel-byoc --adapter {tmp}/my_team/adapter.py --rtl '{tmp}/my_team/rtl/*.v' --top core", 2,
         "error: --adapter SkeletonCore: Geometry.psum_bits = 0: must be an integer in 2..64",
         setup="adapter_psum_bits_0"),
    Case("a core whose `psum_bits` the layer's sums do not fit (refused before the build; was a failed run, exit 1)",
         "accel-byoc --adapter {tmp}/my_team/narrow.py --rtl '{tmp}/my_team/rtl/*.v' --top core --sim icarus", 2,
         "value (175) does not fit NarrowCore's psum_bits=8 (-128 .. 127)", setup="narrow_adapter"),
    Case("`--rtl` a folder", "accel-byoc --adapter {tmp}/my_team/adapter.py --rtl {tmp}/my_team/rtl --top core", 2,
         "error: --rtl {tmp}/my_team/rtl: is a folder; give its files", setup="example"),
    Case("an option that is not a number", "make SIM=icarus SEED=abc", 2,
         "error: argument --seed: invalid int value: 'abc' (see accel-run --help)"),
    Case("a folder that gives kernel position 0's psums only (psum.txt alone: nothing checked the other positions' "
         "weights)", "accel-byoc --adapter {tmp}/my_team/adapter.py --rtl '{tmp}/my_team/rtl/*.v' --top core --golden "
         "{tmp}/g", 2, "error: --golden {tmp}/g: psum.txt holds kernel position 0's psums (notebook 000's last cell) and "
         "the folder has no out*.txt or psum_kij*.txt", setup="psum0_only"),
    Case("`--top` that names no module", "accel-byoc --adapter {tmp}/my_team/adapter.py --rtl '{tmp}/my_team/rtl/*.v' "
         "--top nosuch", 2, "error: --top nosuch: no module of that name", setup="example"),
    Case("a syntax error in the sources", "accel-byoc --adapter {tmp}/my_team/adapter.py --rtl "
         "'{tmp}/my_team/rtl/*.v' --top core --sim icarus", 2, "error: --rtl: icarus cannot compile the sources",
         setup="example_syntax_error"),
    Case("a file list that leaves a module out", "accel-byoc --adapter {tmp}/my_team/adapter.py --rtl "
         "'{tmp}/my_team/rtl/[a-l]*.v' '{tmp}/my_team/rtl/mac.v' '{tmp}/my_team/rtl/mac_array.v' "
         "'{tmp}/my_team/rtl/mac_row.v' '{tmp}/my_team/rtl/[o-z]*.v' --top core --sim icarus", 2,
         "module mac_tile is in none of the files", setup="example"),
    Case("a module declared in two files of `--rtl`, under Verilator (it warned and simulated one of them)",
         "accel-byoc --adapter {tmp}/my_team/adapter.py --rtl '{tmp}/my_team/rtl/*.v' --top core --sim verilator", 2,
         "Duplicate declaration of module: 'mac_array'", setup="example_duplicate_module"),
    Case("`accel-byoc init` on a file list that leaves a module out (it said 'checked')", "accel-byoc init --rtl "
         "'{tmp}/my_team/rtl/[a-l]*.v' '{tmp}/my_team/rtl/mac.v' '{tmp}/my_team/rtl/mac_array.v' "
         "'{tmp}/my_team/rtl/mac_row.v' '{tmp}/my_team/rtl/[o-z]*.v' --top core --out {tmp}/my_team/x.toml", 1,
         "not yet runnable: --rtl: ", setup="example"),
    Case("`--param` the top module does not have", "accel-byoc --adapter {tmp}/my_team/adapter.py --rtl "
         "'{tmp}/my_team/rtl/*.v' --top core --param NOSUCH=3", 2,
         "error: --param NOSUCH: the top module core has no such parameter", setup="example"),
    Case("a `--param` value no simulator takes as given", "accel-byoc --adapter {tmp}/my_team/adapter.py --rtl "
         "'{tmp}/my_team/rtl/*.v' --top core --param RELU_EN=abc", 2,
         "error: --param RELU_EN=abc: 'abc' is not a Verilog constant", setup="example"),
    Case("`--dataflow` for your own core", "accel-byoc --adapter {tmp}/my_team/adapter.py --rtl "
         "'{tmp}/my_team/rtl/*.v' --top core --dataflow os", 2, "error: --dataflow os: accel-byoc runs your adapter's",
         setup="example"),
    Case("a make variable misspelled (the default test would run and pass)", "make SIM=icarus golden={tmp}/g", 2,
         "golden: not a variable of this Makefile; did you mean GOLDEN?"),
    Case("a negative test's variable misspelled", "make byoc-example CORUPT=relu", 2,
         "CORUPT: not a variable of this Makefile; did you mean CORRUPT?"),
    Case("a make variable the target does not read (layer 27 would run and pass)", "make SIM=icarus LAYERS=5", 2,
         "LAYERS=5: make run does not read LAYERS (it reads SIM ROWS COLS"),
    Case("`--corrupt psum` on a core that reports outputs only", "make byoc-example CORRUPT=psum", 2,
         "error: --corrupt psum: no psum values are checked against the core in this run (skeleton.toml reports"),
    # ------------------------------------------------------------------ a course-skeleton core's configuration
    Case("`--adapter` and `--config` at once", "accel-byoc --adapter {tmp}/my_team/adapter.py --config "
         "{tmp}/my_team/skeleton.toml --rtl '{tmp}/my_team/rtl/*.v' --top core", 2,
         "error: --adapter {tmp}/my_team/adapter.py and --config {tmp}/my_team/skeleton.toml: give one of them",
         setup="example"),
    Case("a configuration that is not TOML", CONFIG_RUN, 2, "error: --config {tmp}/my_team/bad.toml: not valid "
         "TOML: ", setup="config_not_toml"),
    Case("a configuration key that does not exist", CONFIG_RUN, 2,
         "error: --config {tmp}/my_team/bad.toml: flow.drian: unknown key", setup="config_unknown_key"),
    Case("a configuration value of the wrong type", CONFIG_RUN, 2,
         "error: --config {tmp}/my_team/bad.toml: geometry.rows: must be an integer, not '8'",
         setup="config_wrong_type"),
    Case("an instruction field outside the instruction", CONFIG_RUN, 2, "error: --config {tmp}/my_team/bad.toml: "
         "inst.fields.acc: bit 34 is outside the 34-bit instruction", setup="config_bit_out_of_range"),
    Case("two instruction fields on one bit", CONFIG_RUN, 2, "error: --config {tmp}/my_team/bad.toml: "
         "inst.extra.relu: overlaps inst.fields.acc at bit 33", setup="config_overlap"),
    Case("an instruction field wider than the instruction", CONFIG_RUN, 2, "error: --config {tmp}/my_team/bad.toml: "
         "inst.extra.mode.bits: 41 bits wide, wider than the 34-bit instruction", setup="config_too_wide"),
    Case("a configuration without a required pin", CONFIG_RUN, 2,
         "error: --config {tmp}/my_team/bad.toml: pins.inst: missing (required)", setup="config_no_inst_pin"),
    Case("a flow the configuration adapter does not run yet", CONFIG_RUN, 2, "error: --config "
         "{tmp}/my_team/bad.toml: flow.read_from: 'pmem': not supported by the config adapter yet",
         setup="config_read_from_pmem"),
    Case("a configured pin the top module lacks", CONFIG_RUN, 2, "error: --config {tmp}/my_team/bad.toml: "
         "pins.sfp_out: the top module core has no port 'sfp_out'", setup="config_no_such_port"),
    Case("a configured geometry the ports disagree with", CONFIG_RUN, 2, "error: --config {tmp}/my_team/bad.toml: "
         "pins.D_xmem: D_xmem is 32 bits wide in core, the config gives 64", setup="config_rows_16"),
    Case("the 2-bit mode both a pin and an instruction field", CONFIG_RUN, 2, "error: --config "
         "{tmp}/my_team/bad.toml: mode.field: the mode is already the pin pins.mode = 'mode'; give one of the two",
         setup="config_mode_pin_and_field"),
    Case("the same mode value for 2-bit and 4-bit layers", CONFIG_RUN, 2, "error: --config {tmp}/my_team/bad.toml: "
         "mode.two_bit: 0: the same value as mode.four_bit", setup="config_mode_same_values"),
    Case("a configured parameter the top module lacks", CONFIG_RUN, 2, "error: --config {tmp}/my_team/bad.toml: "
         "params.NOSUCH: the top module core has no such parameter", setup="config_no_such_param"),
    Case("a mode value the mode pin cannot carry", CONFIG_RUN, 2, "error: --config {tmp}/my_team/bad.toml: "
         "mode.two_bit: 2 does not fit mode, a 1-bit input of core", setup="config_mode_too_wide"),
    Case("a 2-bit checkpoint on a core configured without a 2-bit mode", CONFIG_RUN + " --checkpoint "
         "{root}/checkpoints/vgg16_a2w4.pt", 2, "error: layer 16->16 on 4x4: 2-bit activations: this core takes "
         "4-bit only (no 2-bit mode); --config {tmp}/my_team/bad.toml: give the mode as pins.mode or an instruction "
         "bit ([mode] field = N)", setup="config_no_mode"),
    Case("an OFIFO read latency out of range", CONFIG_RUN, 2, "error: --config {tmp}/my_team/bad.toml: "
         "flow.ofifo_latency: 9: must be 0..8", setup="config_ofifo_latency"),
    Case("a per-output reset length without the per-output reset", CONFIG_RUN, 2, "error: --config "
         "{tmp}/my_team/bad.toml: reset.per_output_cycles: only used with per_output = true",
         setup="config_per_output_cycles"),
    Case("a valid pin given as a range of a bus", CONFIG_RUN, 2, "error: --config {tmp}/my_team/bad.toml: "
         "pins.ofifo_valid: 'sigs[4:3]' is not a Verilog port name (a bit of a bus: \"name[4]\")",
         setup="config_valid_range"),
    Case("a valid pin bit the bus does not have", CONFIG_RUN, 2, "error: --config {tmp}/my_team/bad.toml: "
         "pins.ofifo_valid: bit 200 of sfu_out, a 128-bit output of core (bits 127:0)", setup="config_valid_bit"),
    Case("`--dataflow os` on a configured core without an os pin", CONFIG_RUN + " --dataflow os", 2,
         "error: --dataflow os: {tmp}/my_team/bad.toml names no os pin (pins.os)", setup="config_no_os_pin"),
    Case("`--dataflow os` on a configured core that streams", CONFIG_RUN + " --dataflow os", 2,
         "error: --dataflow os: {tmp}/my_team/bad.toml has flow.drain = \"stream\", a weight-stationary flow",
         setup="config_stream"),
    Case("a streamed drain without its wait", CONFIG_RUN, 2, "error: --config {tmp}/my_team/bad.toml: "
         "flow.drain_wait: required with drain = \"stream\"", setup="config_stream_no_wait"),
    Case("a 2-bit layer output-stationary on the example core", "make byoc-example DATAFLOW=os "
         "CHECKPOINT={root}/checkpoints/vgg16_a2w4.pt", 2, "error: layer 16->16 on 4x4: 2-bit activations run "
         "weight-stationary only"),
    # ------------------------------------------------------------------ found by the checks (status 1)
    Case("a negative run of the example core", "make byoc-example SIM=icarus CORRUPT=relu", 2,
         "relu MISMATCH image", sim=True),
    Case("a course folder with one wrong output", "accel-replay {tmp}/g --sim icarus", 1,
         "relu MISMATCH image 0 oc tile 0 (channels 0-7) output nij=2 (y=0, x=2) [{tmp}/g/out.txt:6] col=0",
         setup="out_wrong", sim=True),
    Case("a psum file wrong at a padded position, replayed on your core", "accel-byoc --adapter "
         "{tmp}/my_team/adapter.py --rtl '{tmp}/my_team/rtl/*.v' --top core --sim icarus --golden {tmp}/g", 1,
         "psum_kij0.txt:8 (col 0): file has", setup="psum_wrong_padded", sim=True),
    Case("`out_raw.txt` wrong, replayed on a core without a sum port", "accel-byoc --adapter "
         "{tmp}/my_team/adapter.py --rtl '{tmp}/my_team/rtl/*.v' --top core --sim icarus --golden {tmp}/g", 1,
         "out_raw.txt:6 (col 0): file has", setup="out_raw_wrong", sim=True),
    Case("a core that never delivers its outputs", "accel-byoc --adapter {tmp}/my_team/adapter.py --rtl "
         "'{tmp}/my_team/rtl/*.v' --top core --sim icarus", 1, "ADAPTER STOPPED: the layer did not end within",
         setup="example_no_valid", sim=True),
    Case("a core whose outputs hold X", "accel-byoc --adapter {tmp}/my_team/x_adapter.py --rtl "
         "'{tmp}/my_team/rtl/*.v' --top core --sim icarus", 1, "got X/Z value", setup="x_adapter", sim=True),
    # ------------------------------------------------------------------ the whole network, export, evaluate
    Case("`make network IMAGES=0`", "make network IMAGES=0", 2, "error: --images 0: at least 1 image"),
    Case("`make network LAYERS=x`", "make network LAYERS=x", 2, "error: --layers x: expected a comma list"),
    Case("`accel-network --first-image -1`", "accel-network --first-image -1", 2, "error: --first-image -1: must be >= 0"),
    Case("a chunk cache on a single-process network run (taken and dropped: the run looked resumable)",
         "accel-network --images 1 --cache {tmp}/chunks", 2, "error: --cache: only a sharded run (--workers N > 1, "
         "--scheduler or --cluster) keeps chunks"),
    Case("a waveform of a sharded network run (workers wrote one file over each other; cached chunks none)",
         "accel-network --images 2 --workers 2", 2, "error: WAVES=1: a sharded run's workers would write one "
         "waveform over each other", env=(("WAVES", "1"),)),
    Case("`--seed` on the whole-network run (taken and dropped: nothing there is random)", "accel-network --seed 5", 2,
         "error: --seed 5: the whole-network run draws nothing at random"),
    Case("a farm file that is not text", "accel-network --cluster {tmp}/farm.yaml", 2,
         "error: --cluster {tmp}/farm.yaml: not a farm file (not UTF-8 text", setup="binary_farm_file"),
    Case("a Slurm farm file on a host without Slurm", "accel-network --cluster {tmp}/farm.yaml", 2,
         "submits jobs with sbatch, which is not on PATH", setup="slurm_farm_file", env=(("PATH", "{tmp}/bin"),)),
    Case("`--cache` that is a file", "accel-network --workers 2 --cache {tmp}/afile", 2,
         "error: --cache {tmp}/afile: exists and is not a folder", setup="a_file"),
    Case("`golden_py.export --check` with an export option", "python -m golden_py.export --check {tmp}/g "
         "--psum-bits 4", 2, "error: --psum-bits: an export option, not used with --check", setup="folder"),
    Case("`make mutate` of a module that is not there", "python -m accel_tb.quality.mutation --modules bogus", 2,
         "error: --modules bogus: not a module of rtl/"),
    Case("`make mutate` with both --all and --sample", "python -m accel_tb.quality.mutation --all --sample 3 --list",
         2, "error: --sample 3 with --all: --all runs every site"),
    Case("`make mutate` into a path under a file (refused before the baseline's simulations)",
         "python -m accel_tb.quality.mutation --modules mac --sample 1 --out {tmp}/afile/sub", 2,
         "error: --out {tmp}/afile/sub: cannot make the folder", setup="a_file"),
    Case("`make mutate` with an option as a make variable (the 240 default mutants would run)",
         "make mutate SAMPLE=5", 2, "SAMPLE: make mutate does not pass it on to its command; give the option itself: "
         "python -m accel_tb.quality.mutation --sample"),
    Case("`make synth` aiming at a clock that is not a number", "python -m accel_tb.quality.synth --freq nan", 2,
         "error: --freq nan: must be a number above 0"),
    Case("`make synth` with a placement seed but no place and route",
         "python -m accel_tb.quality.synth --no-pnr --seed 7", 2, "error: --seed with --no-pnr"),
    Case("`make synth` of one size twice", "python -m accel_tb.quality.synth --sizes 2x2,2x2", 2,
         "error: --sizes 2x2,2x2: 2x2 twice"),
    Case("`make synth` into a path under a file", "python -m accel_tb.quality.synth --sizes 2x2 --out {tmp}/afile/sub",
         2, "error: --out {tmp}/afile/sub: cannot make the folder", setup="a_file"),
    Case("`make formal` of one task twice", "python -m accel_tb.quality.formal --only fifo_d1,fifo_d1", 2,
         "error: --only 'fifo_d1,fifo_d1': fifo_d1 more than once"),
    Case("`make formal --list` of a task that is not there", "python -m accel_tb.quality.formal --list --only bogus",
         2, "error: --only 'bogus': unknown task(s) ['bogus']"),
    Case("`make test-times` keeping its log under a file (refused before the suite)",
         "python -m accel_tb.quality.test_times --log {tmp}/afile/x.log", 2,
         "error: --log {tmp}/afile/x.log: its folder {tmp}/afile: exists and is not a folder", setup="a_file"),
    Case("`make test-times SIM=bogus` (refused before the suite; was a log without durations)",
         "python -m accel_tb.quality.test_times", 2, "error: SIM=bogus: supported simulators are",
         env=(("SIM", "bogus"),)),
    Case("`make test-times`'s table of a log with no durations", "python -m accel_tb.quality.test_times --from "
         "{tmp}/afile", 2, "error: --from {tmp}/afile: no durations in the log", setup="a_file"),
    Case("the speed benchmark on more images than are bundled (refused before the base tree's checkout)",
         "python -m accel_tb.network.speed --base HEAD --images 17", 2,
         "error: --images: bundled samples: image index 16 out of range 0..15"),
    Case("`make coverage` into a file", "python -m accel_tb.quality.coverage_runs --out {tmp}/afile", 2,
         "error: --out {tmp}/afile: File exists", setup="a_file"),
    Case("`golden_py.export --out` a non-empty folder", "python -m golden_py.export --checkpoint " + str(CKPT) +
         " --out {tmp}/g", 2, "folder is not empty; choose a new folder or pass --force", setup="folder"),
    Case("`golden_py.evaluate --limit -5`", "python -m golden_py.evaluate --checkpoint " + str(CKPT) + " --limit -5",
         2, "error: --limit -5: must be >= 0"),
    Case("`golden_py.bench_tiling` on a missing checkpoint", "python -m golden_py.bench_tiling --checkpoint "
         "{tmp}/x.pt", 2, "x.pt"),
    Case("`golden_py.bench_tiling` on a layer that is no conv", "python -m golden_py.bench_tiling "
         "--layer 28", 2, "error: --layer 28: not a QuantConv2d of VGG16_quant"),
    Case("the same with no repeats", "python -m golden_py.bench_tiling --repeat 0", 2, "error: --repeat 0: must be >= 1"),
    Case("a crafted CIFAR-10 batch that runs code when unpickled", "python -m golden_py.evaluate --checkpoint " +
         str(CKPT) + " --data-dir {tmp}/data", 2, "refused global", setup="crafted_batch"),
]


# ---------------------------------------------------------------------------------------------- set-ups
_EXPORTED: list[Path] = []     # the process's one export, removed when the process exits


def _export(tmp: Path) -> Path:
    """Layer 27 of image 1 in the course format (notebook 000's naming), exported once per process."""
    if not _EXPORTED:
        from golden_py import export  # noqa: PLC0415
        cache = Path(tempfile.mkdtemp(prefix="accel-badinput-folder-"))
        atexit.register(shutil.rmtree, cache, ignore_errors=True)
        with contextlib.redirect_stdout(io.StringIO()):
            assert export.main(["--checkpoint", str(CKPT), "--layer", "27", "--image", "1", "--out", str(cache / "g")]) == 0
        _EXPORTED.append(cache / "g")
    shutil.copytree(_EXPORTED[0], tmp / "g")
    return tmp / "g"


def _flip(path: Path, data_index: int, col: int, bits: int = 16, cols: int = 8) -> None:
    lines = path.read_text().splitlines(keepends=True)
    idx = [i for i, line in enumerate(lines) if line.strip() and not line.startswith("#")][data_index]
    pos = (cols - 1 - col) * bits + bits - 1
    body = lines[idx]
    lines[idx] = body[:pos] + ("1" if body[pos] == "0" else "0") + body[pos + 1:]
    path.write_text("".join(lines))


def _edit_line(path: Path, index: int, fn) -> None:
    lines = path.read_bytes().split(b"\n")
    lines[index] = fn(lines[index])
    path.write_bytes(b"\n".join(lines))


def _example(tmp: Path) -> Path:
    shutil.copytree(EXAMPLE, tmp / "my_team")
    return tmp / "my_team"


def setup_adapter_psum_bits_0(tmp):
    adapter = _example(tmp) / "adapter.py"
    text = adapter.read_text()
    assert "psum_bits=PSUM_BW" in text
    adapter.write_text(text.replace("psum_bits=PSUM_BW", "psum_bits=0", 1))


def setup_a_file(tmp):
    (tmp / "afile").write_text("not a folder\n")


def setup_folder(tmp):
    _export(tmp)


def setup_example(tmp):
    _example(tmp)


def setup_example_duplicate_module(tmp):
    rtl = _example(tmp) / "rtl"
    (rtl / "mac_array_copy.v").write_text((rtl / "mac_array.v").read_text())


def setup_folder_and_example(tmp):
    _export(tmp)
    _example(tmp)


def setup_truncated_checkpoint(tmp):
    (tmp / "trunc.pt").write_bytes(CKPT.read_bytes()[:5000])


def setup_crafted_checkpoint(tmp):
    import torch  # noqa: PLC0415
    torch.save({"arch": {}, "state_dict": _Payload(str(tmp / "pwned"))}, tmp / "evil.pt")


def setup_python_only_path(tmp):
    (tmp / "bin").mkdir()
    for tool in ("make",):
        if shutil.which(tool):
            (tmp / "bin" / tool).symlink_to(shutil.which(tool))


def setup_malformed_line(tmp):
    _edit_line(_export(tmp) / "weight_itile0_otile0_kij3.txt", 5, lambda s: b"0101x010" + s[8:])


def setup_bom(tmp):
    p = _export(tmp) / "weight_itile0_otile0_kij2.txt"
    p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())


def setup_non_utf8(tmp):
    _edit_line(_export(tmp) / "out.txt", 5, lambda s: s[:3] + b"\xe9" + s[4:])


def setup_no_outputs(tmp):
    from golden_py.coursefmt import with_viz_twins  # noqa: PLC0415
    for q in with_viz_twins(_export(tmp), "psum_*.txt", "out*.txt"):
        q.unlink()


def setup_psum_incomplete(tmp):
    from golden_py.coursefmt import with_viz_twins  # noqa: PLC0415
    for q in with_viz_twins(_export(tmp), "psum_kij4.txt"):
        q.unlink()


def _tile(seed: int = 0):
    import torch  # noqa: PLC0415

    from golden_py.tiling import tile_layer  # noqa: PLC0415
    g = torch.Generator().manual_seed(seed)
    return tile_layer(torch.randint(0, 16, (8, 4, 4), generator=g), torch.randint(-8, 8, (8, 8, 3, 3), generator=g))


def setup_nb002(tmp):
    from golden_py.notebook_folders import write_notebook_folder  # noqa: PLC0415
    write_notebook_folder("002", _tile(), tmp / "g")


def setup_two_namings(tmp):
    from golden_py.notebook_folders import write_notebook_folder  # noqa: PLC0415
    g = write_notebook_folder("003", _tile(), tmp / "g")
    (g / "out.txt").write_text((g / "psum_relu.txt").read_text())


def setup_example_syntax_error(tmp):
    p = _example(tmp) / "rtl" / "sfu.v"
    p.write_text(p.read_text().replace("endmodule", "endmodul"))


def _bad_config(tmp, old: str, new: str):
    """my_team/bad.toml: the example's configuration with one text replaced (which must be there)."""
    text = (_example(tmp) / "skeleton.toml").read_text()
    assert old in text, old
    (tmp / "my_team" / "bad.toml").write_text(text.replace(old, new, 1))


def setup_config_not_toml(tmp):
    _bad_config(tmp, "rows = 8 ", "rows = = 8 ")


def setup_config_unknown_key(tmp):
    _bad_config(tmp, 'drain = "valid"', 'drian = "valid"')


def setup_config_wrong_type(tmp):
    _bad_config(tmp, "rows = 8 ", 'rows = "8" ')


def setup_config_bit_out_of_range(tmp):
    _bad_config(tmp, "[reset]", "[inst.fields]\nacc = 34\n\n[reset]")


def setup_config_overlap(tmp):
    _bad_config(tmp, "[reset]", "[inst.extra.relu]\nbits = 33\nvalue = 1\n\n[reset]")


def setup_config_too_wide(tmp):
    _bad_config(tmp, "[reset]", "[inst.extra.mode]\nbits = \"40:0\"\nvalue = 0\n\n[reset]")


def setup_config_no_inst_pin(tmp):
    _bad_config(tmp, 'inst = "inst"\n', "")


def setup_config_read_from_pmem(tmp):
    _bad_config(tmp, 'output = "relu"', 'output = "relu"\nread_from = "pmem"')


def setup_config_no_such_param(tmp):
    _bad_config(tmp, "RELU_EN = 1", "NOSUCH = 1")


def setup_config_no_such_port(tmp):
    _bad_config(tmp, 'sfp_out = "sfu_out"', 'sfp_out = "sfp_out"')


def setup_config_rows_16(tmp):
    _bad_config(tmp, "rows = 8 ", "rows = 16 ")


def setup_config_mode_pin_and_field(tmp):
    _bad_config(tmp, "[mode]", "[mode]\nfield = 34")


def setup_config_mode_same_values(tmp):
    _bad_config(tmp, "two_bit = 1 ", "two_bit = 0 ")


def setup_config_mode_too_wide(tmp):
    _bad_config(tmp, "two_bit = 1 ", "two_bit = 2 ")


def setup_config_no_mode(tmp):
    _bad_config(tmp, 'mode = "mode"', "")
    bad = tmp / "my_team" / "bad.toml"       # and its [mode] values, which would name no select
    text = bad.read_text()
    bad.write_text(text[:text.index("[mode]")] + text[text.index("[inst]"):])
    _bad_config_more(tmp, "[tie]\nmode = 0\n")    # its mode input tied: a core of 4-bit layers only


def setup_config_ofifo_latency(tmp):
    _bad_config(tmp, "ofifo_latency = 0 ", "ofifo_latency = 9 ")


def setup_config_per_output_cycles(tmp):
    _bad_config(tmp, "per_output = true ", "per_output = false\nper_output_cycles = 2 ")


def setup_config_valid_range(tmp):
    _bad_config(tmp, 'ofifo_valid = "ofifo_valid"', 'ofifo_valid = "sigs[4:3]"')


def setup_config_valid_bit(tmp):
    _bad_config(tmp, 'ofifo_valid = "ofifo_valid"', 'ofifo_valid = "sfu_out[200]"')


def setup_config_no_os_pin(tmp):
    _bad_config(tmp, 'os = "os"', "")
    _bad_config_more(tmp, "[tie]\nos = 0\n")


def setup_config_stream(tmp):
    _bad_config(tmp, 'drain = "valid"', 'drain = "stream"\ndrain_wait = 16')


def setup_config_stream_no_wait(tmp):
    _bad_config(tmp, 'drain = "valid"', 'drain = "stream"')


def _bad_config_more(tmp, text: str):
    """Append to my_team/bad.toml (after _bad_config)."""
    bad = tmp / "my_team" / "bad.toml"
    bad.write_text(bad.read_text() + "\n" + text)


def setup_bare_adapter(tmp):
    (_example(tmp) / "bare.py").write_text("from accel_tb.adapter import CoreAdapter\n\n\nclass Bare(CoreAdapter):\n"
                                           "    pass\n")


def setup_narrow_adapter(tmp):
    (_example(tmp) / "narrow.py").write_text(
        "import dataclasses\nimport importlib.util\nfrom pathlib import Path\n\n"
        "_spec = importlib.util.spec_from_file_location('team_adapter', Path(__file__).with_name('adapter.py'))\n"
        "_mod = importlib.util.module_from_spec(_spec)\n_spec.loader.exec_module(_mod)\n\n\n"
        "class NarrowCore(_mod.SkeletonCore):\n"
        "    geometry = dataclasses.replace(_mod.SkeletonCore.geometry, psum_bits=8)\n")


def setup_psum0_only(tmp):
    _example(tmp)
    g = _export(tmp)
    (g / "psum_kij0.txt").rename(g / "psum.txt")          # notebook 000's last cell: kernel position 0
    for q in [*g.glob("psum_kij*.txt"), *g.glob("out*.txt")]:
        q.unlink()
    shutil.rmtree(g / "viz")


def setup_example_no_valid(tmp):
    p = _example(tmp) / "rtl" / "ofifo.v"
    text, line = p.read_text(), "assign o_valid = ~col_num[col-1].e_any;"
    if line not in text:    # an edit of the example would otherwise leave a working core and a row that fails unexplained
        raise RuntimeError(f"setup_example_no_valid: examples/skeleton_core/rtl/ofifo.v has no `{line}` to tie low")
    p.write_text(text.replace(line, "assign o_valid = 1'b0;"))


def setup_psum_wrong_padded(tmp):
    _example(tmp)
    _flip(_export(tmp) / "psum_kij0.txt", 4, col=0)     # padded position 4 (row 0): never an output's input


def setup_second_download(tmp):
    g = _export(tmp)
    shutil.copyfile(g / "psum_kij4.txt", g / "psum_kij4 (1).txt")
    _flip(g / "psum_kij4 (1).txt", 2, col=0)


def setup_folder_below(tmp):
    g = _export(tmp)
    (g / "old").mkdir()
    shutil.copyfile(g / "out.txt", g / "old" / "out.txt")


def setup_out_wrong(tmp):
    g = _export(tmp)
    shutil.rmtree(g / "viz")      # (its twin would be reported as well)
    _flip(g / "out.txt", 2, col=0)


def setup_out_raw_wrong(tmp):
    _example(tmp)
    _flip(_export(tmp) / "out_raw.txt", 2, col=0)


X_ADAPTER = '''"""The example adapter with one activation word written as X: the outputs it feeds hold X."""
import importlib.util
from pathlib import Path

from cocotb.types import LogicArray

_spec = importlib.util.spec_from_file_location("team_adapter", Path(__file__).with_name("adapter.py"))
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)


class XInputCore(_mod.SkeletonCore):
    async def load_activations(self, tile):
        await super().load_activations(tile)
        await self.step(LogicArray("X" * 32), CEN_xmem=0, WEN_xmem=0, A_xmem=7)   # padded position 7
'''


def setup_x_adapter(tmp):
    (_example(tmp) / "x_adapter.py").write_text(X_ADAPTER)


def setup_binary_farm_file(tmp):
    (tmp / "farm.yaml").write_bytes(b"\x00\xff\xfe\x01cluster: slurm\n")


def setup_slurm_farm_file(tmp):
    (tmp / "farm.yaml").write_text("cluster: slurm\njobs: 2\noptions:\n  cores: 2\n  memory: 4GB\n")
    setup_python_only_path(tmp)


def setup_crafted_batch(tmp):
    import pickle  # noqa: PLC0415
    d = tmp / "data" / "cifar-10-batches-py"
    d.mkdir(parents=True)
    for name in [f"data_batch_{i}" for i in range(1, 6)]:
        (d / name).write_bytes(b"")
    with open(d / "test_batch", "wb") as f:
        pickle.dump({b"data": _Payload(str(tmp / "pwned")), b"labels": [0]}, f, protocol=2)


class _Payload:
    """Runs Path.touch(marker) if unpickled (it never must be)."""
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


SETUPS = {name[len("setup_"):]: fn for name, fn in globals().items() if name.startswith("setup_")}


# ---------------------------------------------------------------------------------------------- running
PROGRAMS = {"accel-run": ["-m", "accel_tb.cli.run"], "accel-replay": ["-m", "accel_tb.cli.replay"],
            "accel-byoc": ["-m", "accel_tb.cli.byoc"], "accel-network": ["-m", "accel_tb.cli.network"],
            "pytest": ["-m", "pytest", "-q", "-p", "no:cacheprovider"], "python": []}


def argv(case: Case, tmp: Path) -> list[str]:
    words = shlex.split(case.command.replace("{tmp}", str(tmp)).replace("{root}", str(ROOT)))
    prog, rest = words[0], words[1:]
    if prog == "make":
        return ["make", "--no-print-directory", "-C", str(ROOT), *rest]
    return [sys.executable, *PROGRAMS[prog], *rest]


_COCOTB_LOG = re.compile(r"^\s*[-.\d]+ns\s+[A-Z]+\s+\S+\s+(.*)$")


def first_line(out: str) -> str:
    """The first line a command printed about the outcome: an error line (its own, pytest's or make's), else
    the first mismatch (a cocotb log line without its time and logger), else its verdict line, else make's
    status line, else its last line."""
    lines = [line.strip() for line in out.splitlines() if line.strip()]
    lines = [m.group(1) if (m := _COCOTB_LOG.match(line)) else line for line in lines]
    for pick in (lambda s: s.startswith(("error:", "Exit: error:")) or (" *** " in s and s.endswith("Stop.")),
                 lambda s: "MISMATCH" in s or "got X/Z" in s or s.startswith("ADAPTER STOPPED"),
                 lambda s: s.startswith(("FAIL", "PASS")),
                 lambda s: " *** " in s):
        found = next((s for s in lines if pick(s)), None)
        if found:
            return found
    return lines[-1] if lines else ""


def doc_table() -> list[str]:
    """The bad-input table of docs/bad_input.md, row for row from CASES."""
    rows = ["| input | command | exit | what you see (first line) |", "|---|---|---|---|"]
    for c in CASES:
        says = c.says.replace("{tmp}/", "").replace("|", "\\|")
        rows.append(f"| {c.what} | `{c.shown}` | {c.exit} | `{says}` |")
    return rows


def table_in(lines: list[str]) -> tuple[int, int]:
    """Where the bad-input table sits in a page's lines: (first line, line after its last row)."""
    start = lines.index(doc_table()[0])
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return start, end


def write_doc_table(path: Path = DOC) -> None:
    """Replace the table in `path` (docs/bad_input.md) with the one CASES make."""
    lines = path.read_text().splitlines()
    start, end = table_in(lines)
    path.write_text("\n".join(lines[:start] + doc_table() + lines[end:]) + "\n")


def _seed_outlines(build: Path) -> None:
    """The bundled checkpoints' stored outlines (golden_store.checkpoint_outline, computed in this process the first
    time) copied into a row's own build folder: a command then judges a layer against the outline without torch,
    as it does after its first run in a clone (the rows test what the commands say, which is the same either way;
    the `fresh` rows run as on a fresh clone, reading the checkpoint, and tests/test_golden_store.py tests the
    outline's first computation). A row's own checkpoint files have outlines of their own, never seeded."""
    (build / "golden").mkdir(parents=True, exist_ok=True)
    if not _OUTLINES or not all(f.is_file() for f in _OUTLINES):     # once per process: a lookup hashes 18 MB
        from accel_tb.env import golden_store  # noqa: PLC0415
        _OUTLINES.clear()
        for ckpt in sorted((ROOT / "checkpoints").glob("vgg16_*.pt")):
            golden_store.checkpoint_outline(ckpt)
            f = golden_store.outline_file(ckpt)
            if f is not None and f.is_file():
                _OUTLINES.append(f)
    for f in _OUTLINES:
        shutil.copy(f, build / "golden" / f.name)


_OUTLINES: list[Path] = []      # the suite's stored outline files of the bundled checkpoints (_seed_outlines)


def run_case(case: Case, tmp: Path) -> tuple[int, str, list[str]]:
    """Run one row in `tmp`; returns (exit status, first line, problems: how it differs from the row)."""
    tmp.mkdir(parents=True, exist_ok=True)
    if case.setup:
        SETUPS[case.setup](tmp)
    env = dict(os.environ)
    # the variables make and the commands read: the row's result must not depend on the caller's shell
    for k in ("COCOTB_RANDOM_SEED", "WAVES", "SIM", "GOLDEN", "CHECKPOINT", "IMAGES", "IMAGE", "ROWS", "COLS", "LAYER",
              "LAYERS", "SEED", "CORRUPT", "REPORT", "PARAM", "INCLUDE", "DATAFLOW", "TOP", "ADAPTER", "CONFIG", "RTL",
              "DATA_DIR", "WORKERS", "COMPARE", "JOBS", "ACCEL_TB_CONFIG", "ACCEL_WORKER_WAIT_S", "MAKEFLAGS"):
        env.pop(k, None)
    env.update({k: v.replace("{tmp}", str(tmp)) for k, v in case.env})
    if not case.sim:
        env["ACCEL_BUILD_DIR"] = str(tmp / "build")     # nothing may be built: checked below
        if not case.fresh:
            _seed_outlines(tmp / "build")
    scratch = tmp.with_name(tmp.name + "-TMPDIR")     # what the command leaves in its temporary folder: checked below
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir()
    env["TMPDIR"] = str(scratch)
    r = subprocess.run(argv(case, tmp), cwd=tmp, env=env, capture_output=True, text=True, timeout=900)
    line = first_line(r.stderr + "\n" + r.stdout)
    problems = []
    if r.returncode != case.exit:
        problems.append(f"exit {r.returncode}, expected {case.exit}")
    says = case.says.replace("{tmp}", str(tmp))
    if says not in line:
        problems.append(f"first line does not say {says!r}")
    if "Traceback" in r.stderr + r.stdout and not case.sim:
        problems.append("printed a traceback")
    if not case.sim and list((tmp / "build").rglob(".built")):
        problems.append("built a model")
    if (tmp / "pwned").exists():
        problems.append("the crafted file ran code")
    left = sorted(p.name for p in scratch.iterdir() if not p.name.startswith("pytest-of-"))   # pytest keeps its own
    if left:
        problems.append(f"left {', '.join(left[:3])}{' ...' if len(left) > 3 else ''} in its temporary folder")
    return r.returncode, line.replace(str(tmp) + "/", ""), problems


def main(argv_=None) -> int:
    ap = ArgumentParser(prog="python -m accel_tb.cli.badinput", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="", help="rows whose input or command contains this text")
    ap.add_argument("--no-sim", action="store_true", help="leave out the rows that simulate")
    ap.add_argument("--table", action="store_true",
                    help="print the table of the rows (docs/bad_input.md holds it) and exit")
    ap.add_argument("--write", action="store_true", help="write the table of the rows into docs/bad_input.md and exit")
    args = ap.parse_args(argv_)
    if args.table:
        print("\n".join(doc_table()))
        return 0
    if args.write:
        write_doc_table()
        print(f"wrote the table of {len(CASES)} rows into {DOC.relative_to(ROOT)}")
        return 0
    cases = [c for c in CASES if args.only.lower() in (c.what + c.command).lower() and not (args.no_sim and c.sim)]
    ok = bad = 0
    with tempfile.TemporaryDirectory(prefix="accel-badinput-") as root:
        for n, case in enumerate(cases):
            code, line, problems = run_case(case, Path(root) / f"case{n}")
            print(f"{code}  {case.shown}\n   {line}")
            for p in problems:
                print(f"   DIFFERS: {p}")
            ok, bad = ok + (not problems), bad + bool(problems)
    print(f"{ok} passed, {bad} failed")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
