"""The content digest of a dataset's file: what makes a run, a resume or a search's study
depend on the rows, not only on the file's name."""

from __future__ import annotations

import hashlib
from typing import Any, Optional

_FILE_DIGESTS: dict[tuple, str] = {}  # (path, mtime, size) -> sha256: one read per file and process


def data_digest(dataset: Any) -> Optional[str]:
    """The sha256 of the user's file behind `dataset=table` (a run's config_hash, a search's
    study key, a table's name in reports); None for every
    other source, and for a file that cannot be read (loading it then fails
    with the one-line error that names it)."""
    from collections.abc import Mapping

    def read(key: str) -> Any:  # a typed dataset schema, or a plain mapping (a search's job config)
        return dataset.get(key) if isinstance(dataset, Mapping) else getattr(dataset, key, None)

    if read("name") != "table" or not read("path"):
        return None
    from src.data.tables import resolve_path

    path = resolve_path(str(read("path")))
    try:
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        if key not in _FILE_DIGESTS:
            digest = hashlib.sha256()
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    digest.update(block)
            _FILE_DIGESTS[key] = digest.hexdigest()
    except OSError:
        return None
    return _FILE_DIGESTS[key]
