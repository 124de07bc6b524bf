"""Bundled real data sets: CSV files with a data card each (TOML front matter + Markdown prose)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from .. import _validation as vp
from .._validation import check_choice
from ..exceptions import SourceError
from ._dataset import Dataset

__all__ = ["DataCard", "data_card", "list_datasets", "load_dataset"]


@dataclass(frozen=True)
class DataCard:
    """What a bundled data set is, where it came from, and what a user can reproduce with it."""

    name: str
    title: str
    file: str
    rows: int
    source: str
    licence: str
    citation: str
    roles: dict[str, Any]
    columns: dict[str, str]
    known_results: tuple[dict[str, Any], ...]
    text: str = field(repr=False, default="")

    def __str__(self) -> str:
        lines = [self.title, "", f"Source : {self.source}", f"Licence: {self.licence}", f"Rows   : {self.rows}", "", "Columns"]
        width = max(len(c) for c in self.columns)
        lines += [f"  {c.ljust(width)}  {d}" for c, d in self.columns.items()]
        if self.known_results:
            lines += ["", "Known results"]
            lines += [f"  {k['quantity']}: {k['value']} ({k['reference']})" for k in self.known_results]
        return "\n".join(lines)


def _data_dir() -> Path:
    """Where the CSVs and cards live: inside the installed wheel, or the repository's datasets/ folder."""
    packaged = resources.files("causalinfer") / "_datasets"
    if packaged.is_dir():
        return Path(str(packaged))
    repo = Path(__file__).resolve().parents[2] / "datasets"
    if repo.is_dir():
        return repo
    raise SourceError("the bundled data sets are missing from this installation; reinstall causalinfer")


@cache
def _cards() -> dict[str, DataCard]:
    cards = {}
    for path in sorted(_data_dir().glob("*.md")):
        text = path.read_text(encoding="utf-8")
        if not text.startswith("+++"):
            continue
        _, front, body = text.split("+++", 2)
        meta = tomllib.loads(front)
        cards[meta["name"]] = DataCard(
            name=meta["name"],
            title=meta["title"],
            file=meta["file"],
            rows=int(meta["rows"]),
            source=meta["source"],
            licence=meta["licence"],
            citation=meta.get("citation", ""),
            roles=dict(meta.get("roles", {})),
            columns=dict(meta.get("columns", {})),
            known_results=tuple(meta.get("known_results", ())),
            text=body.strip(),
        )
    return cards


@vp.validate_params({})
def list_datasets() -> list[str]:
    """Names of the bundled data sets, for :func:`load_dataset`."""
    return sorted(_cards())


@vp.validate_params(
    {
        "name": vp.String("the name of a bundled data set (see list_datasets())"),
    }
)
def data_card(name: str) -> DataCard:
    """The data card of bundled data set ``name``: source, licence, columns, default roles, known results."""
    cards = _cards()
    check_choice(name, "name", sorted(cards))
    return cards[name]


@vp.validate_params(
    {
        "name": vp.String("the name of a bundled data set (see list_datasets())"),
        "frame_only": "boolean",
        "roles": vp.NoCheck("role keywords, checked against the columns by Dataset"),
    }
)
def load_dataset(name: str, *, frame_only: bool = False, **roles: Any) -> Any:
    """Load a bundled data set as a :class:`Dataset` with the default roles from its data card.

    Parameters
    ----------
    name : str
        One of :func:`list_datasets` (``"lalonde"``, ``"lalonde_cps"``, ``"nhefs"``, ...).
    frame_only : bool
        Return the plain DataFrame instead of a Dataset.
    **roles
        Role keywords that replace the card's defaults (``covariates=[...]``; pass ``None`` to clear one).

    Examples
    --------
    >>> import causalinfer as ci
    >>> ds = ci.load_dataset("lalonde")
    >>> ds.outcome, ds.treatment, ds.n
    ('re78', 'treat', 445)
    """
    card = data_card(name)
    frame = _read(card.file)
    if frame_only:
        return frame.copy()
    spec: dict[str, Any] = {**card.roles, "name": card.name}
    spec.update(roles)
    spec = {k: v for k, v in spec.items() if v is not None}
    return Dataset(frame, **spec)


@cache
def _read_cached(file: str) -> pd.DataFrame:
    return pd.read_csv(_data_dir() / file)


def _read(file: str) -> pd.DataFrame:
    return _read_cached(file).copy()
