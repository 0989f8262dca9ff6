"""Errors the user can act on, and their one-line rendering.

Anything derived from `UserError` is a problem with the input (config, data,
environment): the command line prints its message on one line and exits
non-zero, without a traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix; its message is shown as is, on one line."""

    exit_code = 2


class ConfigError(UserError):
    """The composed configuration is inconsistent (e.g. bce on a multiclass task)."""


class DataError(UserError):
    """A dataset could not be loaded or does not suit the requested split."""


class DivergedError(Exception):
    """The training loss became NaN or infinite."""

    status_reason = "diverged"

    def __init__(self, epoch: int, loss: float):
        super().__init__(f"training diverged: the loss became {loss} at epoch {epoch}")
        self.epoch = epoch
        self.loss = loss


_NOISE_PREFIXES = (
    "To append to your config",
    "reference_type=",
    "object_type=",
    "Set the environment variable HYDRA_FULL_ERROR",
)


def one_line(exc: BaseException) -> str:
    """Collapse an exception (Hydra's multi-line ones included) into one line."""
    lines: list[str] = []
    options: list[str] = []
    skipping_search_path = False
    text = str(exc)
    cause = exc.__cause__
    if cause is not None and str(cause) and str(cause) not in text:
        text = f"{text}\n{cause}"
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(_NOISE_PREFIXES):
            continue
        if line.startswith("Config search path"):
            skipping_search_path = True
            continue
        if skipping_search_path and line.startswith("provider="):
            continue
        skipping_search_path = False
        if raw.startswith("\t"):  # Hydra lists available options one per tabbed line
            options.append(line)
            continue
        if line.startswith("full_key:"):
            line = f"({line})"
        lines.append(line.rstrip(":") if options == [] and line.endswith(":") else line)
    message = lines[0] if lines else type(exc).__name__
    for line in lines[1:]:
        message += (" " if message.endswith((".", ":", ";", ",")) or line.startswith("(") else "; ") + line
    if options:
        message = f"{message}: {', '.join(options)}"
    return message
