"""The environment lock of a run: every installed distribution and its version, Python,
the platform, and torch with the CUDA version it was built for; hashed, so two records
compare with one string and a mismatch names the packages that moved.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
from dataclasses import asdict, dataclass
from importlib import metadata


@dataclass(frozen=True, kw_only=True)
class EnvironmentLock:
    """What the code ran on."""

    python: str
    platform: str
    distributions: tuple[str, ...]
    """``name==version`` of every installed distribution, sorted by normalised name."""
    torch: str | None
    cuda: str | None
    """The CUDA version torch was built for (None: a CPU build, or no torch)."""

    @property
    def sha256(self) -> str:
        """Hash of everything above, in canonical JSON."""
        text = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def installed_distributions() -> tuple[str, ...]:
    """``name==version`` of every distribution importlib.metadata finds, sorted, once each
    (the first found on ``sys.path`` wins, as for imports)."""
    seen: dict[str, str] = {}
    for dist in metadata.distributions():
        name = (dist.metadata["Name"] or "").strip()
        key = name.lower().replace("_", "-").replace(".", "-")
        if name and key not in seen:
            seen[key] = f"{name}=={dist.version}"
    return tuple(seen[key] for key in sorted(seen))


def _torch_versions() -> tuple[str | None, str | None]:
    try:
        version = metadata.version("torch")
    except metadata.PackageNotFoundError:
        return None, None
    import torch  # installed: ask the build which CUDA it targets

    return version, torch.version.cuda


def environment_lock() -> EnvironmentLock:
    """The lock of the running interpreter."""
    torch_version, cuda = _torch_versions()
    return EnvironmentLock(python=sys.version.split()[0], platform=platform.platform(),
                           distributions=installed_distributions(), torch=torch_version,
                           cuda=cuda)


def moved_distributions(old: tuple[str, ...] | list[str], new: tuple[str, ...] | list[str],
                        ) -> list[str]:
    """``numpy 1.26.4 -> 2.0.0``, ``+ rich 13.0``, ``- six 1.16`` for each that moved."""
    def table(items: tuple[str, ...] | list[str]) -> dict[str, str]:
        return dict(item.split("==", 1) for item in items if "==" in item)

    before, after = table(old), table(new)
    out = [f"{n} {before[n]} -> {after[n]}" for n in sorted(before.keys() & after.keys())
           if before[n] != after[n]]
    out += [f"+ {n} {after[n]}" for n in sorted(after.keys() - before.keys())]
    out += [f"- {n} {before[n]}" for n in sorted(before.keys() - after.keys())]
    return out
