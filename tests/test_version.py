"""The version has one source, lab/__init__.py, which the installed package's metadata reads."""

import tomllib
from importlib.metadata import version
from pathlib import Path

import lab


def test_the_package_version_has_one_source():
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())["project"]
    assert "version" not in project and "version" in project["dynamic"]
    assert version("lab") == lab.__version__
