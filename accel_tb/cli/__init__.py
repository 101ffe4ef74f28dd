"""Console entry points and what they share: parse, validate the user's input before any build (one line
naming the file or option, exit 2), call the library, exit 0 pass / 1 a check failed.

    run          accel-run, accel-replay, accel-byoc (python -m accel_tb.cli.run)
    byoc, replay python -m accel_tb.cli.byoc = accel-byoc, python -m accel_tb.cli.replay = accel-replay
    byoc_init    accel-byoc init: a first config for a team's core from its ports
    network      accel-network (python -m accel_tb.cli.network)
    inputs       the validation of every option and file
    badinput     the bad-input table (docs/bad_input.md, its tests)
"""
