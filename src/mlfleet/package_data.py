"""Data files shipped inside the package (catalog tables, sources, recorded validations)."""

from __future__ import annotations

from importlib import resources
from typing import Any


def package_yaml(package: str, *parts: str) -> Any:
    """The parsed YAML file ``parts`` under ``package``'s folder (read with
    :mod:`importlib.resources`, so it works from a wheel or a zip). Callers cache."""
    import yaml

    text = resources.files(package).joinpath(*parts).read_text(encoding="utf-8")
    return yaml.safe_load(text)
