"""cocotb verification library of the accelerator, in subpackages by job (each one's docstring lists its
modules). A module imports only from its own part or the parts listed before it (tests/test_imports.py):

    design/        rtl/ -> runnable: block inventory, core names and constants, simulator runner, yowasp tools
    vip/           reusable cocotb components: valid/ready ports with pause generators, scoreboard, sim helpers
    adapter        the core-adapter API a team's core implements (public: team adapters import it)
    helpers        what adapters of course-style cores need: tick, registered inputs, lane packing (public)
    env/           the layer checker, the environment, this project's core adapter, the course-skeleton adapter
    quality/       make mutate, coverage, codecov, formal, synth
    network/       the whole network sharded over Dask, the two-process scaling probe
    cocotb_tests/  the cocotb test modules tb/ and the commands run
    cli/           console entry points (accel-run, accel-replay, accel-byoc, accel-network), input validation

design/ and the checker's expectation building need no simulator; vip/, the adapters and cocotb_tests/ import
cocotb.
"""

__version__ = "0.2.0"
