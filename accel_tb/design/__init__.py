"""From rtl/ to something that runs: the block inventory, the core's names and constants, the simulator runner
and the Yosys/nextpnr wheels. No cocotb import: commands use it before any simulation starts.

    blocks      the one inventory of rtl/'s modules (sources, test folder, tool parameters)
    core_ports  the core's top-level names and the RTL constants the testbench reads
    runner      build a simulator once per configuration (locked for parallel workers), run a cocotb module
    runtime_store  Verilator's runtime library compiled once by `make setup`, read by every cold build
    portdesc    a top module's ports and parameters from the elaborated design (Verilator JSON, Yosys or Icarus)
    yosys       run a yowasp wheel (Yosys, nextpnr) in a folder
    interrupt   Ctrl-C and SIGTERM on a command: stop every process it started, one line, status 130
    digest      one digest of a tree of files (the farm's code and inputs, a mutation run's RTL)
"""
