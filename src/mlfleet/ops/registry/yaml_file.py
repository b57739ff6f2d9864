"""Read a YAML file a user named; an unreadable or malformed one is one RegistryInputError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from mlfleet.ops.registry.errors import RegistryInputError


def read_yaml(what: str, path: Path) -> Any:
    """The parsed document of ``path``; ``what`` names the argument in the message."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise RegistryInputError(f"{what}(={str(path)!r}) cannot be read: {exc}") from None
    except yaml.YAMLError as exc:
        raise RegistryInputError(f"{what}(={str(path)!r}) is not valid YAML: "
                                 f"{str(exc).splitlines()[0]}") from None
