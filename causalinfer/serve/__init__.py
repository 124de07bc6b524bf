"""The live host: serve a saved model over HTTP with intervals, drift watch and every prediction logged once.

``create_app(model_path, profile=None, log=None)`` returns an ASGI app (starlette) speaking the Open Inference
Protocol (KServe v2) and a plain ``POST /predict`` for JSON records; ``causalinfer serve`` runs it under uvicorn.
Needs the ``serve`` extra (``pip install "causalinfer[serve]"``).
"""

from ._app import create_app
from ._errors import RequestError
from ._log import LOG_COLUMNS

__all__ = ["LOG_COLUMNS", "RequestError", "create_app"]
