"""Bad arguments to every public function, generated from the parameter declarations.

For every declared parameter of every public function (the walk of ``test_declared_params.py``), each value of
``BAD_VALUES`` that the declaration refuses is passed on its own, with valid values for the required arguments.
The call must raise a :class:`~causalinfer.exceptions.CausalInferError` of the right kind, before any work is
done: :class:`ArgumentTypeError` (a ``TypeError``) for a value of the wrong kind, :class:`ArgumentError` (a
``ValueError``) for a value of the right kind out of range or not among the options, and the message must name
the argument, echo the value and say what is expected. Options also get a near miss, which must be answered with
"did you mean". The expected kind comes from the declaration; the call itself is real.
"""

from __future__ import annotations

import inspect
import math
import os
import tempfile

import numpy as np
import pandas as pd
import pytest
from test_declared_params import FUNCTIONS

from causalinfer._validation import (
    AnyOf,
    ArrayLike,
    Column,
    Columns,
    DataLike,
    Frame,
    HasMethods,
    InstanceOf,
    Interval,
    IsCallable,
    NoCheck,
    Options,
    PathLike,
    SequenceOf,
    String,
    declaration_of,
    show,
)
from causalinfer.exceptions import ArgumentError, ArgumentTypeError, CausalInferError


class _Opaque:
    """An object of no use to any parameter."""

    def __repr__(self) -> str:
        return "<opaque>"


BAD_VALUES: list[tuple[str, object]] = [
    ("unknown-string", "no-such-option"),
    ("bool", True),
    ("negative-int", -1),
    ("nan", math.nan),
    ("object", _Opaque()),
    ("np-negative-int", np.int64(-3)),
    ("fraction", 2.5),
    ("inf", math.inf),
    ("huge-int", 10**40),
    ("none", None),
    ("list-of-ints", [1, 2]),
    ("dict", {"a": 1}),
]
# Each parameter gets this many of the values its declaration refuses (taken in turn from a starting point that
# moves from one parameter to the next, so that the suite as a whole feeds every kind of bad value everywhere
# without multiplying the cases), plus a near miss for string options.
PER_PARAMETER = 2


def _tiny_frame() -> pd.DataFrame:
    return pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [2.0, 1.0, 4.0, 3.0], "d": [0, 1, 0, 1]})


# Required parameters whose declaration leaves the check to the body.
VALID_UNCHECKED = {"bounds": (-1.0, 1.0)}


def _valid(constraints, name: str):
    """A value that passes ``constraints``, to fill a required argument that is not under test."""
    if name in VALID_UNCHECKED:
        return VALID_UNCHECKED[name]
    # Data before names: a sample given as a column name would need `data` too.
    constraints = sorted(constraints, key=lambda c: not isinstance(c, (ArrayLike, DataLike, Frame)))
    for c in constraints:
        if isinstance(c, (DataLike, Frame)):
            return _tiny_frame()
        if isinstance(c, ArrayLike):
            return [1.0, 2.0, 3.0, 4.0]
        if isinstance(c, (Column, Columns, String)):
            return "x"
        if isinstance(c, PathLike):
            # Never written: the bad argument under test is refused before the body runs.
            return os.path.join(tempfile.gettempdir(), "causalinfer-bad-input-suite", "model.skops")
        if isinstance(c, Interval):
            return int(c._lo) + 1 if c._lo != -math.inf else 1
        if isinstance(c, Options):
            return c.choices[0]
        if isinstance(c, IsCallable):
            return lambda *a, **k: 0.0
        if isinstance(c, (InstanceOf, HasMethods)):
            return _instance_for(c)
        if isinstance(c, AnyOf):
            return _valid(c.constraints, name)
        if isinstance(c, SequenceOf):
            return [_valid(c.element, name) for _ in range(c.length or max(c.min_length, 1))]
    raise AssertionError(f"no valid value known for `{name}` ({constraints})")


_INSTANCES: dict[str, object] = {}


def _instance_for(c):
    if isinstance(c, HasMethods):
        from sklearn.linear_model import LinearRegression

        return LinearRegression().fit(np.arange(8.0).reshape(-1, 1), np.arange(8.0))
    cls = c._resolve()
    if "result" not in _INSTANCES:
        import causalinfer as ci

        _INSTANCES["result"] = ci.stats.ttest([1.0, 2.0, 3.0, 5.0], [2.0, 4.0, 5.0, 7.0])
        _INSTANCES["regression"] = ci.stats.ols("y ~ x", data=_tiny_frame())
    for obj in _INSTANCES.values():
        if isinstance(obj, cls):
            return obj
    raise AssertionError(f"no instance of {cls} for the suite")


def _refused(constraints, value) -> bool:
    return not any(c.ok(value) for c in constraints)


def _expected_error(constraints, value) -> type:
    return ArgumentError if any(c.kind_ok(value) for c in constraints) else ArgumentTypeError


def _cases():
    cases = []
    turn = 0
    for qualname, func in FUNCTIONS:
        declaration = declaration_of(func)
        if declaration is None:
            continue
        params = declaration.signature.parameters
        for name, constraints in declaration.constraints.items():
            if name not in params or any(isinstance(c, NoCheck) for c in constraints):
                continue
            kind = params[name].kind
            refused = [(label, v) for label, v in BAD_VALUES if _refused(constraints, v)]
            start = turn % len(refused) if refused else 0
            turn += 1
            values = (refused[start:] + refused[:start])[:PER_PARAMETER]
            options = [c for c in constraints if isinstance(c, Options)]
            if options and not any(isinstance(c, (Column, Columns, String, PathLike)) for c in constraints):
                first = options[0].choices[0]
                values.append(("near-miss", first[:-1] if len(first) > 2 else first + "x"))
            for label, value in values:
                if kind is inspect.Parameter.VAR_KEYWORD:
                    continue
                cases.append(pytest.param(qualname, func, name, value, id=f"{qualname.removeprefix('causalinfer.')}-{name}-{label}"))
    return cases


CASES = _cases()


def _call(func, name, value):
    declaration = declaration_of(func)
    params = declaration.signature.parameters
    args, kwargs = [], {}
    if name not in params:  # a keyword the function does not have
        kwargs[name] = value
    for pname, param in params.items():
        if pname == name:
            if param.kind is inspect.Parameter.VAR_POSITIONAL or param.kind is inspect.Parameter.POSITIONAL_ONLY:
                args.append(value)
            else:
                kwargs[pname] = value
            continue
        required = param.default is inspect.Parameter.empty and param.kind in (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            inspect.Parameter.KEYWORD_ONLY,
        )
        if required:
            good = _valid(declaration.constraints[pname], pname)
            if param.kind is inspect.Parameter.KEYWORD_ONLY or name in kwargs:
                kwargs[pname] = good
            else:
                args.append(good)
    return func(*args, **kwargs)


def test_suite_is_large_and_covers_every_module():
    assert len(CASES) >= 300
    modules = {case.values[0].split(".")[1] for case in CASES}
    assert {"stats", "causal", "designs", "predict", "data", "experiments"} <= modules


@pytest.mark.parametrize(("qualname", "func", "name", "value"), CASES)
def test_bad_argument_is_refused_with_a_message_naming_it(qualname, func, name, value):
    declaration = declaration_of(func)
    expected = _expected_error(declaration.constraints[name], value)
    with pytest.raises(CausalInferError) as info:
        _call(func, name, value)
    err = info.value
    assert isinstance(err, expected), f"{qualname}({name}={show(value)}) raised {type(err).__name__}: {err}"
    assert isinstance(err, ValueError if expected is ArgumentError else TypeError)
    message = str(err)
    assert f"`{name}`" in message, message
    assert "must" in message and "got" in message, message
    if isinstance(value, str):
        assert repr(value) in message
        if any(isinstance(c, Options) for c in declaration.constraints[name]) and value != "no-such-option":
            assert "did you mean" in message, message
    elif isinstance(value, (int, float, np.integer)) and not isinstance(value, bool):
        assert show(value) in message, message
    assert "np.int64" not in message and "np.float64" not in message


@pytest.mark.parametrize(("qualname", "func"), FUNCTIONS, ids=[q for q, _ in FUNCTIONS])
def test_unknown_keyword_is_refused_with_a_hint(qualname, func):
    declaration = declaration_of(func)
    params = declaration.signature.parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        pytest.skip("takes **kwargs")
    keywords = [n for n, p in params.items() if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if not keywords:
        with pytest.raises(ArgumentTypeError, match="unexpected keyword argument `verbose`"):
            _call(func, "verbose", True)
        return
    misspelt = keywords[-1] + "s"
    with pytest.raises(ArgumentTypeError, match=f"unexpected keyword argument `{misspelt}`; did you mean `{keywords[-1]}`"):
        _call(func, misspelt, 0)
