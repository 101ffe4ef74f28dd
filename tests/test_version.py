"""One version number: pyproject.toml's [project] version is the __version__ of every package it installs."""
from __future__ import annotations

import importlib

import pytest

from accel_tb.design.runner import ROOT

try:
    import tomllib
except ImportError:                     # Python 3.10
    tomllib = pytest.importorskip("tomli")


def project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_package_has_the_project_version():
    meta = project()
    version = meta["project"]["version"]
    packages = [p for p in meta["tool"]["setuptools"]["packages"] if "." not in p]
    assert packages, "pyproject.toml lists no packages"
    found = {p: getattr(importlib.import_module(p), "__version__", None) for p in packages}
    assert found == {p: version for p in packages}, f"pyproject.toml says {version}; the packages say {found}"
