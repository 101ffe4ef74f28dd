"""`python -m accel_tb.cli.byoc` = the accel-byoc command (for environments without the console scripts)."""
import sys

from accel_tb.cli.run import main_byoc

if __name__ == "__main__":
    sys.exit(main_byoc())
