"""The public Heleket signature vectors (produced by a real PHP 8.2 runtime).

tests/data/heleket_vectors_public.json is a verbatim copy of shared/heleket/
vectors_public.json, kept in the repository so the suite needs nothing outside it.
"""

import json
from pathlib import Path
from typing import Any

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).parent / "data" / "heleket_vectors_public.json").read_text("utf-8")
)
REQUEST_CASES: list[dict[str, Any]] = VECTORS["request_cases"]
WEBHOOK_CASES: list[dict[str, Any]] = VECTORS["webhook_cases"]
