"""Host-side driver model and cocotb verification components for the accelerator core.

Pure-Python modules (no simulator needed): layout (word and command encodings), mapper (layer -> memory
images, commands and expected values), scoreboard (keyed checker). cocotb modules: testbench, runner.
"""
