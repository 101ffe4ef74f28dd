"""The network tests run the model their own runs build: a profile-guided model that a user's long run left in
build/ would otherwise be taken by these short runs too (core_ports.profile_guided), so the -O2 path they test
would go untested in that tree. ACCEL_PGO set by the user (`make test ACCEL_PGO=1`) is kept."""
import os

import pytest


@pytest.fixture(autouse=True)
def _models_of_their_own(monkeypatch):
    if "ACCEL_PGO" not in os.environ:
        monkeypatch.setenv("ACCEL_PGO", "0")
