"""cocotb verification library of the accelerator: build/run, valid/ready ports, keyed scoreboards, the
layer checker, the core-adapter API (and the adapter of this project's own core), and the commands.

The simulator-side modules (ports, env, adapters, the cocotb test modules) import cocotb; runner, inputs and
the checker's expectation building do not need a simulator.
"""

__version__ = "0.2.0"
