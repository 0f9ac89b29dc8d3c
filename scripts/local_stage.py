"""The local stage's settings, read from .chalice/config.json (one source for server and tools)."""

from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OVERRIDABLE = ("PUBLIC_BASE_URL", "TWILIO_AUTH_TOKEN", "EMAIL_RELAY_SECRET")


def local_environment() -> dict[str, str]:
    """The local stage's variables; the simulators' target can be overridden from the shell."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    stage = {
        **config.get("environment_variables", {}),
        **config["stages"]["local"]["environment_variables"],
    }
    return {**stage, **{k: os.environ[k] for k in OVERRIDABLE if os.environ.get(k)}}
