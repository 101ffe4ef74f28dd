"""`python -m accel_tb.cli.replay` = the accel-replay command (for environments without the console scripts)."""
import sys

from accel_tb.cli.run import main_replay

if __name__ == "__main__":
    sys.exit(main_replay())
