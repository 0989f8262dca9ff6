"""Where MLflow's UI should open: the runs table, with the columns that matter.

MLflow 3's UI opens an experiment in its GenAI mode (traces, token usage);
the runs are under "Model training", and their table shows no metric until
columns are picked. So every experiment this project creates carries:
- `mlflow.experimentKind = custom_model_development`, the kind the UI's
  "Model training" mode stands for;
- a description (`mlflow.note.content`) that says what its runs are;
- a saved view of the runs table (the UI's "share view" state, an experiment
  tag `mlflow.sharedViewState.<key>`) with the main metrics, timings and
  training size as columns.

`python -m src.tracking.ui` (what `make ui` runs first) adds them to an
experiment that lacks them and prints the URL that opens that view:
`http://<host>:<port>/#/experiments/<id>/runs?workflowType=machine_learning&viewStateShareKey=<key>`.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, Optional

from src.tracking.links import runs_url
from src.tracking.record import experiment_tags


def tag_experiment(client: Any, experiment_id: str, existing: Optional[dict[str, str]] = None) -> None:
    """Give the experiment the tags it lacks (a user's own description or kind is kept)."""
    for key, value in experiment_tags().items():
        if key not in (existing or {}):
            client.set_experiment_tag(experiment_id, key, value)


def main(argv: Optional[list[str]] = None) -> int:
    from src.errors import UserError
    from src.tracking.mlflow_run import client_for, resolve_tracking_uri

    parser = argparse.ArgumentParser(description="Print the URL of the runs table in MLflow's UI.")
    parser.add_argument("--tracking-uri", default=None, help="default: as for training")
    parser.add_argument("--experiment", default="mlvsdl")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="5000")
    args = parser.parse_args(argv)
    base = f"http://{args.host}:{args.port}"
    try:
        client = client_for(resolve_tracking_uri(args.tracking_uri), create=False)
        experiment = client.get_experiment_by_name(args.experiment)
    except UserError as exc:  # no store yet
        print(f"MLflow UI: {base}  ({exc}; `make run` records runs)")
        return 0
    if experiment is None:
        print(f"MLflow UI: {base}  (no experiment '{args.experiment}' yet)")
        return 0
    tag_experiment(client, experiment.experiment_id, experiment.tags)
    print(f"MLflow UI, the runs of '{args.experiment}': {runs_url(base, experiment.experiment_id)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
