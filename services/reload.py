"""The app factory ``uvicorn --reload`` imports by name (``polystore serve``)."""

from __future__ import annotations

import os

from fastapi import FastAPI


def app() -> FastAPI:
    from polystore import load_topology
    from services.app import create_app
    from services.config import ServiceConfig

    system_name, _, service = os.environ["POLYSTORE_SERVICE"].partition(".")
    return create_app(ServiceConfig.from_env(load_topology().system(system_name), service))
