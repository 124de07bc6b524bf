"""The causal subpackage loads lazily and exports what it documents."""

from __future__ import annotations

import subprocess
import sys

import causalinfer as ci


def test_lazy_import():
    code = "import sys, causalinfer; assert 'causalinfer.causal' not in sys.modules; causalinfer.causal; assert 'dowhy' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_public_names():
    for name in ci.causal.__all__:
        assert getattr(ci.causal, name).__doc__, name
    assert "causal" in ci.__all__
