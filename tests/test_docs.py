"""The documentation site builds, so it cannot rot.

One Sphinx build with warnings as errors: a malformed docstring, a reference to a name that does not exist, a
guide whose code cell raises or a gallery script that fails stops it. The built pages are then read back: every
relative link must point at a file of the site, and every public name has its reference page.
"""

from __future__ import annotations

import importlib
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

pytest.importorskip("sphinx")
pytest.importorskip("numpydoc")
pytest.importorskip("myst_nb")
pytest.importorskip("sphinx_gallery")


def _build(out: Path) -> Path:
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(DOCS), str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=1800,
        check=False,
    )
    assert proc.returncode == 0, f"the documentation build failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-8000:]}"
    return out


def _every_relative_link_resolves(site: Path) -> None:
    broken = []
    for page in site.rglob("*.html"):
        for href in re.findall(r'href="([^"]+)"', page.read_text(encoding="utf-8")):
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or not parts.path or href.startswith(("mailto:", "javascript:")):
                continue
            target = (page.parent / unquote(parts.path)).resolve()
            if not target.exists():
                broken.append(f"{page.relative_to(site)} -> {href}")
    assert not broken, "broken links:\n" + "\n".join(sorted(set(broken))[:50])


def _every_public_name_has_a_reference_page(site: Path) -> None:
    sys.path.insert(0, str(DOCS))
    try:
        conf = importlib.import_module("conf")
    finally:
        sys.path.remove(str(DOCS))
    missing = [name for name, page in conf.api_pages().items() if not (site / "api" / "generated" / f"{page}.html").exists()]
    assert not missing, f"public names without a reference page: {missing}"


def _guides_notebooks_and_gallery_are_in_the_site(site: Path) -> None:
    for guide in (DOCS / "guides").glob("*.md"):
        assert (site / "guides" / f"{guide.stem}.html").exists(), guide.name
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        assert (site / "notebooks" / f"{notebook.stem}.html").exists(), notebook.name
    for script in (DOCS / "examples").glob("plot_*.py"):
        page = site / "gallery" / f"{script.stem}.html"
        assert page.exists(), script.name
        assert "<img" in page.read_text(encoding="utf-8"), f"{script.name} produced no figure"


def test_the_site_builds_and_is_complete(tmp_path: Path) -> None:
    # One test (not three sharing a fixture) so that parallel workers never build the site twice; the suite's
    # conftest puts it first, so the longest build overlaps the rest of the run instead of ending it.
    site = _build(tmp_path / "site")
    _every_relative_link_resolves(site)
    _every_public_name_has_a_reference_page(site)
    _guides_notebooks_and_gallery_are_in_the_site(site)
