"""The environment around a core: the layer checker, the environment that runs a layer through any adapter,
and the adapters this project ships (its own core, the course skeleton configured by a file).

    checker          what a core must produce for one layer, keyed in the layer's coordinates
    environment      Environment.check: build the job, check it through the adapter, summary and report
    own_core         the adapter of rtl/core.v (same API as any team's core)
    host_io          its whole-network top's writes and event log inside the simulator (one wake-up per batch)
    skeleton         the course-skeleton adapter (the course testbench sequence, facts from a config)
    skeleton_config  that config file: read, judged before any build (docs/byoc_config.md)

The adapter API itself is accel_tb.adapter and accel_tb.helpers (the modules team adapters import).
"""
