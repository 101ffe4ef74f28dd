"""Evidence of the tests' strength, the design's cost and the regression's time, one `make` target each:
mutation testing with its solver, functional coverage, Verilator code coverage, formal proofs, synthesis, the
regression's time per test.

    mutation, mutant, mutation_equiv   make mutate: mutants of rtl/, the test ladder, the solver's verdict
    coverage, coverage_runs            make coverage: the coverage model sampled by the tests, its runs merged
    codecov                            make codecov: line/branch/toggle/expression coverage of rtl/
    formal                             make formal: the core's invariants and the FIFOs' properties (SBY)
    synth                              make synth: LUTs, flip-flops, DSPs, BRAMs and fmax (Yosys, nextpnr)
    test_times                         make test-times: the regression's wall time and its slowest tests
"""
