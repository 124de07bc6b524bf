"""Import optional dependencies on first use, with an install hint when they are missing."""

from __future__ import annotations

import importlib
from types import ModuleType

from .exceptions import DependencyError


def import_optional(name: str, *, extra: str | None = None, purpose: str | None = None) -> ModuleType:
    """Import module ``name`` or raise :class:`DependencyError` saying how to install it.

    Parameters
    ----------
    name : str
        Module to import, e.g. ``"matplotlib.pyplot"``.
    extra : str, optional
        The causalinfer extra that installs it, e.g. ``"plot"``.
    purpose : str, optional
        What the module is needed for, used in the message.
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        top = name.split(".")[0]
        hint = f'pip install "causalinfer[{extra}]"' if extra else f"pip install {top}"
        why = f" for {purpose}" if purpose else ""
        raise DependencyError(f"the optional dependency {top!r} is needed{why} but is not installed; install it with: {hint}") from exc
