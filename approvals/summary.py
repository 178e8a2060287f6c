"""The one-line summary of a request in the inbox: the few params that matter.

Which params matter is a property of the kind of action (a recipient and a subject for
mail, an amount for finance): a small map by the action type's namespace, then names
that mean the same thing anywhere. Kept here rather than as a field of the action type
so that the inbox needs no policy change (and no schema change) to read well; an
unknown namespace falls back to the well-known names, then to the first short values."""

from __future__ import annotations

import json
from typing import Any

SUMMARY_PARAMS: dict[str, tuple[str, ...]] = {
    "mail": ("to", "cc", "subject"),
    "drive": ("path", "file_id", "with"),
    "finance": ("amount", "currency", "account", "record_id", "vendor"),
    "crm": ("account_id", "opportunity_id", "stage", "fields"),
    "ticket": ("ticket_id", "title", "resolution", "into"),
    "shell": ("command",),
    "file": ("file_path", "path"),
    "git": ("branch", "message", "ref"),
}
WELL_KNOWN = (
    "to",
    "recipient",
    "with",
    "subject",
    "title",
    "amount",
    "currency",
    "account_id",
    "id",
    "path",
    "command",
)
MAX_ITEMS = 3
MAX_VALUE = 60


def params_summary(action: str, params: Any) -> str:
    """E.g. "to: buyer@customer.example · subject: Renewal" (at most three values, each
    shortened with an ellipsis; the request page shows them whole)."""
    if not isinstance(params, dict) or not params:
        return ""
    namespace = action.split(".", 1)[0]
    names = [n for n in SUMMARY_PARAMS.get(namespace, ()) + WELL_KNOWN if n in params]
    if not names:
        names = [k for k, v in params.items() if not isinstance(v, dict | list)]
    picked = list(dict.fromkeys(names))[:MAX_ITEMS]
    return " · ".join(f"{name}: {_short(params[name])}" for name in picked)


def _short(value: Any) -> str:
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        text = ", ".join(map(str, value))
    else:
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = " ".join(text.split())
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"
