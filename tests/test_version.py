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


def test_the_package_list_names_every_package():
    """pyproject.toml's packages are every folder with an __init__.py under the three top packages (a
    subpackage left out would be missing from a non-editable install, which the tests from the tree never see)."""
    listed = set(project()["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for top in ("golden_py", "accel_host", "accel_tb")
               for p in (ROOT / top).rglob("__init__.py")}
    assert listed == on_disk, f"pyproject.toml packages: missing {sorted(on_disk - listed)}, extra {sorted(listed - on_disk)}"

