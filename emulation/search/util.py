"""Small helpers shared by the HTTP handlers."""

from __future__ import annotations

import base64
import os


def new_id() -> str:
    """A 20-character URL-safe id, the shape OpenSearch's auto-generated ids have."""
    return base64.urlsafe_b64encode(os.urandom(15)).decode()
