"""`make compare`'s first step: check DATA and TARGET before the sweep starts, so that a
wrong path or column is one line on stderr (exit 2), not 84 failed runs.

    python -m src.reports.compare_check path/to/table.csv column [sep] [decimal]

Reads the table as experiment=compare's jobs will (same config, same loader and split)
and prints its task and the training sizes the sweep will use.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional, Sequence

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"
USAGE = "usage: make compare DATA=path/to/table.csv TARGET=column [SEP=';'] [DECIMAL=',']"


def _quoted(value: str) -> str:
    """A Hydra override value in single quotes: spaces, commas and ';' stay part of it."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def training_sizes(data: str, target: str, sep: str = "", decimal: str = "") -> str:
    """What the sweep will train on, as one line; a UserError when the table or target is unusable."""
    from hydra import compose, initialize_config_dir

    from src.config import register_configs
    from src.data import load_dataset, make_split

    register_configs()
    overrides = ["experiment=compare", "dataset=table", f"dataset.path={_quoted(data)}"]
    overrides += [f"dataset.target={_quoted(target)}"]
    overrides += [f"dataset.sep={_quoted(sep)}"] if sep else []
    overrides += [f"dataset.decimal={_quoted(decimal)}"] if decimal else []
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=overrides, return_hydra_config=True)
    dataset = load_dataset(cfg.dataset)
    fractions = [float(f) for f in str(cfg.hydra.sweeper.params["dataset.train_size"]).split(",")]
    split = cfg.dataset
    sizes = [
        len(
            make_split(
                dataset, 0, split.test_size, split.val_size, train_size=f, cv_folds=split.cv_folds,
                select_size=split.select_size,
            ).train
        )
        for f in fractions
    ]  # fmt: skip
    return (
        f"{data}: {dataset.n_rows} rows, target '{target}' ({dataset.task.value}); "
        f"training sizes {', '.join(map(str, sizes))}"
    )


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not 2 <= len(args) <= 4 or not all(a.strip() for a in args[:2]):
        print(f"error: {USAGE}", file=sys.stderr)
        return 2
    from src.errors import one_line

    try:
        print(training_sizes(*args))
    except Exception as exc:  # an unreadable table, a missing column, a value Hydra cannot parse: all input
        print(f"error: {one_line(exc)} ({USAGE})", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
