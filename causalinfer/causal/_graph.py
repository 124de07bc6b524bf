"""Causal graphs: parsing, validation, and identification of the effect (via DoWhy)."""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .. import _validation as vp
from .._validation import show
from ..data import as_dataset
from ..exceptions import ArgumentTypeError, IdentificationError, RoleError
from ..results import Diagnostic, Provenance, Result

_DOT_EDGE = re.compile(r'("[^"]+"|[A-Za-z_][\w.]*)\s*->\s*')
_NAME = r'("[^"]+"|[A-Za-z_][\w.]*)'


def _parse_dot(text: str) -> Any:
    import networkx as nx

    body = text.strip()
    m = re.match(r"^\s*(strict\s+)?digraph\s*[\w\"]*\s*\{(.*)\}\s*$", body, flags=re.S)
    if m is None:
        raise ArgumentTypeError("`graph` looks like DOT but is not a `digraph { ... }`; only directed graphs are causal graphs")
    g = nx.DiGraph()
    for stmt in re.split(r"[;\n]", m.group(2)):
        stmt = re.sub(r"\[.*?\]", "", stmt).strip()  # drop attributes
        if not stmt or stmt.startswith(("//", "#", "graph", "node", "edge", "rankdir")):
            continue
        if "--" in stmt:
            raise ArgumentTypeError(f"`graph` has an undirected edge ({stmt!r}); use -> for every edge of a causal graph")
        parts = [p.strip().strip('"') for p in stmt.split("->")]
        if any(not re.fullmatch(r"[^{}\s][^{}]*", p) for p in parts):
            raise ArgumentTypeError(
                f"`graph`: cannot read the DOT statement {stmt!r}; write one edge or chain per statement, like a -> b -> c"
            )
        if len(parts) == 1:
            g.add_node(parts[0])
        for u, v in itertools.pairwise(parts):
            g.add_edge(u, v)
    return g


def to_digraph(graph: Any) -> Any:
    """A networkx DiGraph from DOT or GML text, a DiGraph, or a sequence of (cause, effect) pairs."""
    import networkx as nx

    if graph is None:
        raise ArgumentTypeError("no `graph` given: pass DOT or GML text, a networkx DiGraph or a list of (cause, effect) edges")
    if isinstance(graph, nx.DiGraph):
        return graph.copy()
    if isinstance(graph, nx.Graph):
        raise ArgumentTypeError("`graph` is an undirected networkx Graph; a causal graph must be a DiGraph")
    if isinstance(graph, str):
        text = graph.strip()
        if text.startswith("graph") and "[" in text.split("\n", 1)[0] + "[":
            try:
                g = nx.parse_gml(text, label="label")
            except Exception as exc:  # networkx raises several types for bad GML
                raise ArgumentTypeError(f"`graph`: could not read the GML text ({exc})") from None
            if not g.is_directed():
                raise ArgumentTypeError("`graph` (GML) is undirected; add `directed 1` to the graph block")
            return nx.DiGraph(g)
        return _parse_dot(text)
    if isinstance(graph, Sequence):
        g = nx.DiGraph()
        for e in graph:
            if not (isinstance(e, Sequence) and not isinstance(e, str) and len(e) == 2):
                raise ArgumentTypeError(f"`graph` as an edge list must hold (cause, effect) pairs; got the item {show(e)}")
            g.add_edge(str(e[0]), str(e[1]))
        return g
    raise ArgumentTypeError(f"`graph` must be DOT or GML text, a networkx DiGraph or a list of edges; got {show(graph)}")


def validate_graph(g: Any, columns: Sequence[str], treatment: str, outcome: str, unobserved: Sequence[str] = ()) -> None:
    """Acyclic; every node a column or declared unobserved; treatment and outcome in the graph."""
    import networkx as nx

    if not nx.is_directed_acyclic_graph(g):
        cycle = nx.find_cycle(g)
        path = " -> ".join(str(u) for u, _ in cycle) + f" -> {cycle[0][0]}"
        raise IdentificationError(f"`graph` has a cycle ({path}); a causal graph must be acyclic")
    cols = set(columns)
    unknown = sorted(str(v) for v in g.nodes if v not in cols and v not in set(unobserved))
    if unknown:
        raise RoleError(
            f"`graph` has node(s) {unknown} that are not columns of the data; rename them to match columns or declare them "
            "in `unobserved=[...]`"
        )
    for role, name in (("treatment", treatment), ("outcome", outcome)):
        if name not in g.nodes:
            raise RoleError(f"the {role} {name!r} is not a node of `graph`")
        if name in set(unobserved):
            raise RoleError(f"the {role} {name!r} cannot be unobserved")


def _dowhy_identifier() -> tuple[Any, Any]:
    """DoWhy's identifier, imported without letting it replace the interpreter's display hook.

    Importing DoWhy initialises sympy's pretty printing, which swaps ``sys.displayhook`` for the whole session
    (strings then print without quotes); the hook is put back.
    """
    import sys

    from .._progress import quiet_import

    hook = sys.displayhook
    try:
        auto = quiet_import("dowhy.causal_identifier.auto_identifier")
    finally:
        sys.displayhook = hook
    return auto.EstimandType, auto.identify_effect_auto


@dataclass(frozen=True, kw_only=True, eq=False, repr=False)
class IdentificationResult(Result):
    """How (and whether) a causal effect is identified from a graph.

    ``strategy`` is ``"backdoor"``, ``"frontdoor"``, ``"iv"`` or ``"none"``; ``adjustment_set``,
    ``frontdoor_set`` and ``instruments`` list the variables each strategy uses; ``assumptions`` states in plain
    language what must hold; ``estimand`` describes the identified quantity.
    """

    strategy: str = "none"
    adjustment_set: tuple[str, ...] = ()
    frontdoor_set: tuple[str, ...] = ()
    instruments: tuple[str, ...] = ()
    assumptions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        for f in ("adjustment_set", "frontdoor_set", "instruments", "assumptions"):
            object.__setattr__(self, f, tuple(getattr(self, f)))

    def __repr__(self) -> str:
        return f"IdentificationResult(strategy={self.strategy!r}, adjustment_set={list(self.adjustment_set)})"


@vp.validate_params(
    {
        "data": "data",
        "graph": [None, vp.String("DOT or GML text"), vp.HasMethods("edges", "nodes"), vp.SequenceOf(vp.SequenceOf("string", length=2))],
        "treatment": [None, "column"],
        "outcome": [None, "column"],
        "unobserved": "columns",
    }
)
def identify_effect(
    data: Any,
    *,
    graph: Any = None,
    treatment: str | None = None,
    outcome: str | None = None,
    unobserved: Sequence[str] = (),
) -> IdentificationResult:
    """Identify the effect of the treatment on the outcome from a causal graph (backdoor, front-door or IV).

    Parameters
    ----------
    data : Dataset or DataFrame
        The data; the graph's nodes must be its columns (or declared ``unobserved``).
    graph : str, networkx.DiGraph or sequence of (str, str), optional
        DOT (``"digraph { z -> d; z -> y; d -> y }"``) or GML text, a DiGraph, or an edge list. Default: the
        Dataset's ``graph`` role.
    treatment, outcome : str, optional
        Override the Dataset's roles.
    unobserved : sequence of str
        Nodes of the graph that are not measured (latent confounders).

    Returns
    -------
    IdentificationResult
        ``strategy``, ``adjustment_set`` / ``frontdoor_set`` / ``instruments``, ``assumptions`` and a plain-language
        ``estimand``. Raises :class:`~causalinfer.exceptions.IdentificationError` when no strategy applies.

    Notes
    -----
    Identification uses DoWhy's ``identify_effect_auto`` (default backdoor search, then front-door and
    instrumental variables) on the validated graph; observed nodes are the graph's nodes minus ``unobserved``.

    Examples
    --------
    >>> import pandas as pd
    >>> import causalinfer as ci
    >>> df = pd.DataFrame({"z": [0, 1, 0, 1], "d": [0, 1, 1, 0], "y": [1.0, 2.0, 3.0, 2.5]})
    >>> r = ci.causal.identify_effect(df, graph="digraph { z -> d; z -> y; d -> y }", treatment="d", outcome="y")
    >>> r.strategy, r.adjustment_set
    ('backdoor', ('z',))
    """
    ds = as_dataset(data, treatment=treatment, outcome=outcome)
    if ds.treatment is None or ds.outcome is None:
        raise RoleError("identification needs a treatment and an outcome: pass treatment='...' and outcome='...'")
    g = to_digraph(graph if graph is not None else ds.graph)
    unobserved = tuple(unobserved)
    validate_graph(g, ds.columns, ds.treatment, ds.outcome, unobserved)
    import logging

    EstimandType, identify_effect_auto = _dowhy_identifier()

    observed = [str(v) for v in g.nodes if v not in set(unobserved)]
    logging.getLogger("dowhy").setLevel(logging.ERROR)
    ident = identify_effect_auto(g, [ds.treatment], [ds.outcome], observed, EstimandType.NONPARAMETRIC_ATE)
    t, y = ds.treatment, ds.outcome
    if getattr(ident, "no_directed_path", False):
        raise IdentificationError(
            f"the graph has no directed path from {t!r} to {y!r}: its causal effect is zero by assumption, nothing to estimate"
        )
    backdoor = ident.get_backdoor_variables() if ident.backdoor_variables else None
    frontdoor = list(ident.get_frontdoor_variables() or [])
    ivs = list(ident.get_instrumental_variables() or [])
    est = ident.estimands or {}
    fp = ds.fingerprint()
    if backdoor is not None and est.get("backdoor") is not None:
        adj = tuple(sorted(str(v) for v in backdoor))
        listed = ", ".join(adj) if adj else "nothing (no confounding paths)"
        assumptions: tuple[str, ...] = (
            f"no unmeasured confounding given {{{', '.join(adj)}}}: every back-door path from {t} to {y} is blocked by the adjustment set",
            f"positivity: every combination of {', '.join(adj) or 'the covariates'} has both treated and untreated units",
            "consistency and no interference between units",
            "the graph is correct: no missing edges among the variables it contains",
        )
        return IdentificationResult(
            method="Identification by back-door adjustment (DoWhy)",
            estimand=f"E[{y} | do({t})] = sum over {listed} of E[{y} | {t}, adjustment set] P(adjustment set): adjust for {listed}",
            strategy="backdoor",
            adjustment_set=adj,
            frontdoor_set=tuple(frontdoor),
            instruments=tuple(ivs),
            assumptions=assumptions,
            diagnostics=tuple(Diagnostic("assumption", "ok", None, a) for a in assumptions),
            provenance=Provenance.current(data_fingerprint=fp),
        )
    if frontdoor and est.get("frontdoor") is not None:
        assumptions = (
            f"{', '.join(frontdoor)} intercept every directed path from {t} to {y}",
            f"no unblocked back-door path from {t} to {', '.join(frontdoor)}",
            f"every back-door path from {', '.join(frontdoor)} to {y} is blocked by {t}",
        )
        return IdentificationResult(
            method="Identification by the front-door criterion (DoWhy)",
            estimand=f"effect of {t} on {y} through the mediator(s) {', '.join(frontdoor)} (front-door formula)",
            strategy="frontdoor",
            frontdoor_set=tuple(frontdoor),
            instruments=tuple(ivs),
            assumptions=assumptions,
            diagnostics=tuple(Diagnostic("assumption", "ok", None, a) for a in assumptions),
            provenance=Provenance.current(data_fingerprint=fp),
        )
    if ivs and est.get("iv") is not None:
        assumptions = (
            f"relevance: {', '.join(ivs)} affect {t}",
            f"exclusion: {', '.join(ivs)} affect {y} only through {t}",
            f"independence: {', '.join(ivs)} share no unmeasured cause with {y}",
        )
        return IdentificationResult(
            method="Identification by instrumental variables (DoWhy)",
            estimand=f"effect of {t} on {y} identified by the instrument(s) {', '.join(ivs)} (a local effect under monotonicity)",
            strategy="iv",
            instruments=tuple(ivs),
            assumptions=assumptions,
            diagnostics=tuple(Diagnostic("assumption", "ok", None, a) for a in assumptions),
            provenance=Provenance.current(data_fingerprint=fp),
        )
    raise IdentificationError(
        f"the effect of {t!r} on {y!r} is not identified by this graph: an unobserved node ({', '.join(unobserved) or 'none declared'}) "
        "opens a back-door path that no observed set blocks, and there is no valid front-door set or instrument. "
        "Measure a confounder, add an instrument, or run a sensitivity analysis"
    )
