"""The cocotb test modules the pytest wrappers in tb/ and the commands run (COCOTB_TEST_MODULES).

    layer_tests  one conv layer on a core: checkpoint layers, replays, random layers, streams, negatives
    network      the whole VGG16 on the simulated core (a shard of layers or images per simulation)
"""
