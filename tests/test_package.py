"""Package-level contract: light import, exception hierarchy, public names, command line, setup commands."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import causalinfer as ci
from causalinfer import exceptions as exc
from causalinfer.cli import main

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("scipy", "statsmodels", "sklearn", "dowhy", "matplotlib", "dask", "numba", "sqlalchemy", "pyarrow")


def test_import_is_light():
    code = f"import sys, causalinfer; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "", f"import causalinfer loaded heavy modules: {out}"


def test_dataset_loading_stays_light():
    # pandas itself loads pyarrow for string columns, so pyarrow is not counted here
    heavy = tuple(m for m in HEAVY if m != "pyarrow")
    code = (
        f"import sys, causalinfer as ci; ci.load_dataset('lalonde').describe(); print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_public_names_resolve():
    for name in ci.__all__:
        assert getattr(ci, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        ci.nope


@pytest.mark.parametrize(
    ("cls", "bases"),
    [
        (exc.DataError, (exc.CausalInferError, ValueError)),
        (exc.RoleError, (exc.DataError, ValueError)),
        (exc.ArgumentError, (exc.CausalInferError, ValueError)),
        (exc.ArgumentTypeError, (exc.CausalInferError, TypeError)),
        (exc.ConvergenceError, (exc.CausalInferError, RuntimeError)),
        (exc.IdentificationError, (exc.CausalInferError, ValueError)),
        (exc.SourceError, (exc.CausalInferError, OSError)),
        (exc.DependencyError, (exc.CausalInferError, ImportError)),
        (exc.AssumptionWarning, (exc.CausalInferWarning, UserWarning)),
        (exc.DataWarning, (exc.CausalInferWarning, UserWarning)),
    ],
)
def test_exception_hierarchy(cls, bases):
    for base in bases:
        assert issubclass(cls, base)


def test_optional_dependency_message():
    from causalinfer._optional import import_optional

    with pytest.raises(exc.DependencyError, match=r'install it with: pip install "causalinfer\[plot\]"'):
        import_optional("not_a_real_module_xyz", extra="plot", purpose="plotting")


def test_cli_datasets(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "lalonde" in out
    assert "nhefs" in out


def test_cli_without_command_shows_help(capsys):
    assert main([]) == 2
    assert "usage: causalinfer" in capsys.readouterr().out


def test_readme_opens_with_the_two_commands_and_ci_runs_the_test_one():
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```", 2)[1]
    lines = [ln.split("#")[0].strip() for ln in block.splitlines()[1:] if ln.strip()]
    assert lines == ["make demo", "make test"]
    ci_script = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci_script
