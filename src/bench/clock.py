"""Seconds spent writing to MLflow, measured from outside the run logger.

`MlflowClock` wraps the writing methods of `TrackedRun` in the measuring
process and adds up their wall time; a write made inside another (`finish`
flushes) is counted once. The in-process loop installs it around `run(cfg)`;
for a whole `python -m src.train` process the benchmark runs

    python -m src.bench.clock <timings.json> src.train <overrides...>

which installs the same wrappers and then runs the module exactly as
`python -m` would (`runpy`, as `__main__`), writing the seconds as JSON when
the process exits. The production code knows nothing of it.
"""

from __future__ import annotations

import functools
import json
import time
from pathlib import Path
from typing import Any, Callable

# TrackedRun's methods that talk to the store.
WRITES = ("start", "reopen", "flush", "log_inputs", "log_artifacts", "finish")


class MlflowClock:
    """Adds up the wall time of TrackedRun's writes while installed."""

    def __init__(self, timer: Callable[[], float] = time.perf_counter):
        self.seconds = 0.0
        self._timer = timer
        self._inside = False
        self._originals: dict[str, Any] = {}

    def install(self) -> MlflowClock:
        from src.tracking.mlflow_run import TrackedRun

        for name in WRITES:
            self._originals[name] = TrackedRun.__dict__[name]
            setattr(TrackedRun, name, self._timed(self._originals[name]))
        return self

    def uninstall(self) -> None:
        from src.tracking.mlflow_run import TrackedRun

        for name, original in self._originals.items():
            setattr(TrackedRun, name, original)
        self._originals.clear()

    def __enter__(self) -> MlflowClock:
        return self.install()

    def __exit__(self, *exc: Any) -> None:
        self.uninstall()

    def _timed(self, attribute: Any) -> Any:
        is_classmethod = isinstance(attribute, classmethod)
        method = attribute.__func__ if is_classmethod else attribute

        @functools.wraps(method)
        def timed(*args: Any, **kwargs: Any) -> Any:
            if self._inside:  # inside another write (finish -> flush): counted there
                return method(*args, **kwargs)
            self._inside = True
            started = self._timer()
            try:
                return method(*args, **kwargs)
            finally:
                self.seconds += self._timer() - started
                self._inside = False

        return classmethod(timed) if is_classmethod else timed


def read_clock_file(path: Path) -> float:
    return float(json.loads(Path(path).read_text())["mlflow_s"])


def main(argv: list[str]) -> None:
    """`python -m src.bench.clock OUT MODULE [ARGS...]`: run MODULE as `python -m`
    would, and write its MLflow seconds to OUT as JSON at exit."""
    # src.train pauses the collector before its imports (src/startup.py); so do
    # these few lines, so that the measured process starts up as the plain one.
    from src.startup import pause_collector

    pause_collector()
    import atexit
    import runpy
    import sys

    out, module, *args = argv
    clock = MlflowClock().install()
    atexit.register(lambda: Path(out).write_text(json.dumps({"mlflow_s": clock.seconds})))
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
