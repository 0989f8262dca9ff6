"""Passwords inside URIs (`postgresql+psycopg://user:pw@host/db`): found and masked.

A tracking URI is recorded with every run (the `tracking.uri` param, the
`config.yaml` artifact) and named in error lines, so any password in any URI
is replaced by `***` before it is written or printed. A leaf module: plain
strings, no imports of the project.
"""

from __future__ import annotations

import re
from typing import Any

# scheme://user:password@ -- the password is what lies between the first ':' after
# the user and the last '@' before the host (a password may itself hold '@' or ':').
_CREDENTIALS = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@'\"]*:)(?P<password>[^\s/'\"]*)@")
MASK = "***"


def mask_secrets(text: str) -> str:
    """`text` with the password of every URI in it replaced by ***."""
    return _CREDENTIALS.sub(lambda m: f"{m.group('head')}{MASK}@", text)


def has_password(text: str) -> bool:
    return any(m.group("password") not in ("", MASK) for m in _CREDENTIALS.finditer(text))


def masked(value: Any) -> Any:
    """A plain config (dicts, lists, scalars) with every string's URI passwords masked."""
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(masked(v) for v in value)
    return mask_secrets(value) if isinstance(value, str) else value
