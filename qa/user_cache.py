"""Where qa keeps what it builds once per user and reuses in every process: the int8 model, the
vocabulary's lookup tables, the parsed dictionary, OCR results ($XDG_CACHE_HOME/qa, or ~/.cache/qa)."""

from __future__ import annotations

import os
from pathlib import Path


def user_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "qa"
