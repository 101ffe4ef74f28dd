"""Host library of the systolic CNN accelerator in rtl/: what a host program needs to drive the core.

- fields:  command / tag layouts, defined once (rtl/include/fields.vh is generated from them)
- config:  the core's parameters (CoreConfig), and configurations derived from a network's layers
- packing: lanes <-> memory words and result vectors
- mapping: a conv layer -> memory words, commands and observation keys, one Dataflow per module
- cycles:  the cycle model of each dataflow

Nothing here needs a simulator; the reference values come from golden_py.
"""

__version__ = "0.2.0"
