"""Sphinx configuration for the causalinfer documentation.

Build:  make docs   (or: sphinx-build -W --keep-going -b html docs docs/_build/html)

Why Sphinx: the docstrings are written in numpydoc, which Sphinx reads natively (with cross-links from the types
named in Parameters/Returns to the documented classes); warnings can be made errors (-W), so a broken reference,
a malformed docstring or a guide whose code fails stops the build; myst-nb executes the guides' code cells and
renders the example notebooks with their stored outputs; sphinx-gallery runs the gallery scripts and keeps their
plots.
"""

from __future__ import annotations

import importlib
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

import causalinfer  # noqa: E402

project = "causalinfer"
author = "causalinfer developers"
copyright = "causalinfer developers"
release = causalinfer.__version__
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "myst_nb",
    "sphinx_gallery.gen_gallery",
]

# --- API reference: one page per public name, grouped by module, generated from each module's __all__ ------------
MODULES = {
    "causalinfer": "Top level: Dataset, results, bundled data, errors",
    "causalinfer.data": "Dataset, bundled data, sources",
    "causalinfer.results": "The Result family",
    "causalinfer.stats": "Statistical inference: estimates, tests, regression, resampling, power",
    "causalinfer.effects": "Effect results, refutation and sensitivity shared by causal and designs",
    "causalinfer.designs": "Research designs: IV, DiD, RDD, synthetic control, heterogeneous effects",
    "causalinfer.causal": "Causal inference under unconfoundedness: identification, estimators, diagnostics",
    "causalinfer.experiments": "Online experiments (A/B tests): metrics, variance reduction, sequential looks",
    "causalinfer.predict": "Predictive inference: scoring jobs, conformal intervals, evaluation, drift",
    "causalinfer.report": "Self-contained HTML reports",
}


def _public(module_name: str) -> list[str]:
    module = importlib.import_module(module_name)
    names = [n for n in getattr(module, "__all__", []) if not n.startswith("_")]
    if module_name == "causalinfer":  # subpackages have pages of their own
        names = [n for n in names if not hasattr(getattr(module, n), "__path__")]
    return sorted(names, key=str.lower)


def api_pages() -> dict[str, str]:
    """Each public dotted name -> the dotted name whose page documents it.

    An object exported by several modules (``causalinfer.Result`` is also ``causalinfer.results.Result``) gets one
    page, under the first module of :data:`MODULES` that exports it; the others link to it.
    """
    pages: dict[str, str] = {}
    first: dict[object, str] = {}
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        for name in _public(module_name):
            obj = getattr(module, name)
            key: object = id(obj) if callable(obj) or isinstance(obj, type) else f"{module_name}.{name}"
            pages[f"{module_name}.{name}"] = first.setdefault(key, f"{module_name}.{name}")
    return pages


def _write_api_pages() -> None:
    out = HERE / "api"
    out.mkdir(exist_ok=True)
    pages = api_pages()
    toc = ["API reference", "=============", "", "Every public name, grouped by module.", "", ".. toctree::", "   :maxdepth: 1", ""]
    for module_name, title in MODULES.items():
        slug = module_name.replace(".", "_")
        toc.append(f"   {slug}")
        lines = [f"``{module_name}``", "=" * (len(module_name) + 4), "", title + ".", "", f".. currentmodule:: {module_name}", ""]
        own = [n for n in _public(module_name) if pages[f"{module_name}.{n}"] == f"{module_name}.{n}"]
        shared = [n for n in _public(module_name) if n not in own]
        if own:
            lines += [".. autosummary::", "   :toctree: generated", "   :nosignatures:", ""]
            lines += [f"   {name}" for name in own] + [""]
        if shared:
            lines += ["Also exported here (documented where first listed):", ""]
            lines += [f"- ``{name}``: :py:obj:`{pages[f'{module_name}.{name}']}`" for name in shared]
        (out / f"{slug}.rst").write_text("\n".join(lines) + "\n")
    (out / "index.rst").write_text("\n".join(toc) + "\n")


def _copy_notebooks() -> None:
    """The example notebooks are rendered with the outputs stored in them (the test suite executes them)."""
    target = HERE / "notebooks"
    target.mkdir(exist_ok=True)
    names = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        shutil.copyfile(path, target / path.name)
        names.append(path.stem)
    lines = ["Example notebooks", "=================", "", "Executed top to bottom by the test suite; shown here with their outputs.", ""]
    lines += [".. toctree::", "   :maxdepth: 1", ""] + [f"   {n}" for n in names]
    (target / "index.rst").write_text("\n".join(lines) + "\n")


_write_api_pages()
_copy_notebooks()

autosummary_generate = True
autodoc_default_options = {
    "members": True,
    "show-inheritance": True,
    # scikit-learn's metadata-routing helpers appear on every estimator; they are scikit-learn's to document.
    "exclude-members": "set_fit_request, set_predict_request, set_score_request, set_partial_fit_request, score",
}
templates_path = ["_templates"]
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_xref_param_type = True
numpydoc_xref_ignore = {"optional", "default", "of", "or", "and", "the", "a", "an", "shape", "array-like", "callable"}
numpydoc_xref_aliases = {
    "Dataset": "causalinfer.Dataset",
    "Result": "causalinfer.Result",
    "ResultSet": "causalinfer.ResultSet",
    "TableResult": "causalinfer.TableResult",
    "Diagnostic": "causalinfer.Diagnostic",
    "EffectResult": "causalinfer.effects.EffectResult",
    "DataFrame": "pandas.DataFrame",
    "Series": "pandas.Series",
    # numpydoc's defaults point these at the numpy and Python docs through intersphinx, which the offline build
    # does not load: plain names instead.
    "array_like": "array_like",
    "array-like": "array-like",
    "sequence": "sequence",
    "iterable": "iterable",
    "mapping": "mapping",
    "bool": "bool",
    "scalar": "scalar",
    "dict-like": "dict-like",
    "file-like": "file-like",
}
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}

# --- guides (MyST notebooks whose code cells run at build time) and notebooks (stored outputs) --------------------
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
nb_execution_mode = "auto"  # guides have no stored outputs, so they run; the notebooks keep theirs
nb_execution_raise_on_error = True
nb_execution_timeout = 300
nb_execution_excludepatterns = ["notebooks/*"]
myst_enable_extensions = ["dollarmath", "colon_fence"]
suppress_warnings = ["mystnb.unknown_mime_type"]

# --- gallery: short scripts executed at build time, with their plots ----------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": str(HERE / "examples"),
    "gallery_dirs": "gallery",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "matplotlib_animations": False,
    "reference_url": {},
    "write_computation_times": False,
}

exclude_patterns = ["_build", "**.ipynb_checkpoints", "jupyter_execute", "gallery/*.ipynb", "examples/*"]
html_theme = "alabaster"
html_title = f"causalinfer {release}"
html_theme_options = {"description": "Predictive, statistical and causal inference with one Dataset and one Result family"}
