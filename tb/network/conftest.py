"""The network tests run the model their own runs build: a profile-guided model that a user's long run left in
build/ would otherwise be taken by these short runs too (core_ports.profile_guided), so the -O2 path they test
would go untested in that tree. ACCEL_PGO set by the user (`make test ACCEL_PGO=1`) is kept. Every run here, of the
whole network or of a few layers, takes the -O2 build of the network's core (ACCEL_QUICK_COMPILE=0): one model for
the folder, compiled once, where the runs of a few layers took a quick build of their own (tests/test_build_options
checks which build a run picks by itself). The user's ACCEL_QUICK_COMPILE is kept too."""
import os

import pytest


@pytest.fixture(autouse=True)
def _models_of_their_own(monkeypatch):
    if "ACCEL_PGO" not in os.environ:
        monkeypatch.setenv("ACCEL_PGO", "0")
    if "ACCEL_QUICK_COMPILE" not in os.environ:
        monkeypatch.setenv("ACCEL_QUICK_COMPILE", "0")
