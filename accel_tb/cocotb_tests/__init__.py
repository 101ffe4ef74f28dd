"""The cocotb test modules the pytest wrappers in tb/ and the commands run (COCOTB_TEST_MODULES).

    layer_tests  one conv layer on a core: checkpoint layers, replays, random layers, streams, negatives
    network      the whole VGG16 on the simulated core (a shard of layers or images per simulation)
"""
import logging
import sys

_handle_error = logging.Handler.handleError


def _quiet_when_the_reader_left(self, record):
    """A log line written to a pipe whose reader went away (`accel-replay DIR | head`): cocotb's handlers printed a
    'Logging error' traceback for every line after it (hundreds); the command ends with 141 (its guard). Other
    logging errors are printed as ever."""
    if isinstance(sys.exc_info()[1], BrokenPipeError):
        return
    _handle_error(self, record)


def _no_traceback_for_findings(record: logging.LogRecord) -> bool:
    """cocotb logs a failed test with its exception's traceback: for a run's findings (accel_tb.env.checker's
    CheckFailed, said in the summary above it) the message alone."""
    if record.exc_info and getattr(record.exc_info[1], "said_in_summary", False):
        record.msg = f"{record.msg}: %s"
        record.args = (*(record.args or ()), " ".join(str(record.exc_info[1]).split()))
        record.exc_info, record.exc_text = None, None
    return True


def quiet_broken_pipes() -> None:
    """A simulator's first entry point (runner.entry_points): the handler patched before cocotb logs its own
    start-up lines (the random seed, the packages it looks for), which printed up to four 'Logging error'
    tracebacks when the reader had gone before any module of ours was imported. Importing this package patches
    it; the function is what the simulator's Python start-up (pygpi) calls."""
    logging.Handler.handleError = _quiet_when_the_reader_left
    regression = logging.getLogger("cocotb.regression")
    if _no_traceback_for_findings not in regression.filters:
        regression.addFilter(_no_traceback_for_findings)


quiet_broken_pipes()

