"""Reference profile of a table: what "looks like the training data" means, stored once beside a model.

The stored summaries live in :mod:`._reference` (which the drift checks read); this module adds the two
methods that start a drift check, so the profile depends on the drift monitor and never the reverse.
"""

from __future__ import annotations

from typing import Any

from ._common import check_count
from ._drift import DriftMonitor
from ._reference import FeatureProfile, ProfileData, as_frame

__all__ = ["FeatureProfile", "Profile"]


class Profile(ProfileData):
    """A reference profile of a table, built once (from training data) and checked against new data.

    Build it with :meth:`Profile.build`; store it with :meth:`to_json` beside the model; check current data with
    :meth:`check` (one table) or :meth:`monitor` (chunk by chunk). See :func:`Profile.build` for what is kept.
    """

    __slots__ = ()

    # ------------------------------------------------------------------ checking
    def check(self, data: Any, **options: Any) -> Any:
        """Check current data against the profile; same options as :class:`~causalinfer.predict.DriftMonitor`.

        Returns a :class:`~causalinfer.predict.DriftResult`. Large tables are processed in chunks of
        ``chunk_size`` rows (default 250,000) so memory stays bounded.
        """
        chunk_size = check_count(options.pop("chunk_size", 250_000), "chunk_size", minimum=1)
        monitor = DriftMonitor(self, **options)
        frame = as_frame(data, name="data")
        for start in range(0, len(frame), chunk_size):
            monitor.update(frame.iloc[start : start + chunk_size], keep_history=False)
        return monitor.result()

    def monitor(self, **options: Any) -> Any:
        """A :class:`~causalinfer.predict.DriftMonitor` that accumulates current data chunk by chunk."""
        return DriftMonitor(self, **options)
