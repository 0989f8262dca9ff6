"""Links into MLflow's UI: the runs table's saved view, a run's page, a report run's
description. Every one carries `workflowType=machine_learning`, because MLflow 3's UI
otherwise opens its GenAI view. A leaf of src/tracking (the run logger prints these links;
src/tracking/ui.py tags experiments and prints the table's link)."""

from __future__ import annotations

from typing import Optional

from src.tracking.record import VIEW_KEY

# Every link to an experiment or a run carries it: MLflow 3's UI otherwise opens its GenAI view.
MODEL_TRAINING = "workflowType=machine_learning"
DEFAULT_UI = "http://127.0.0.1:5000"  # where `make ui` serves (HOST, PORT)


def runs_url(base: str, experiment_id: str) -> str:
    return f"{base.rstrip('/')}/#/experiments/{experiment_id}/runs?{MODEL_TRAINING}&viewStateShareKey={VIEW_KEY}"


def run_route(experiment_id: str, run_id: str, artifact: Optional[str] = None) -> str:
    """The UI's route to a run, in Model training mode; with `artifact`, its Artifacts tab
    with that file open (an HTML file is shown as a page there)."""
    tab = f"/artifacts/{artifact}" if artifact else ""
    return f"#/experiments/{experiment_id}/runs/{run_id}{tab}?{MODEL_TRAINING}"


def run_url(base: str, experiment_id: str, run_id: str, artifact: Optional[str] = None) -> str:
    return f"{base.rstrip('/')}/{run_route(experiment_id, run_id, artifact)}"


def ui_base(tracking_uri: str) -> str:
    """Where the UI of a store is: a tracking server's own URL, else where `make ui` serves it."""
    if tracking_uri.startswith(("http://", "https://")):
        from urllib.parse import urlsplit, urlunsplit

        parts = urlsplit(tracking_uri)  # without any user:password@
        netloc = f"{parts.hostname}:{parts.port}" if parts.port else (parts.hostname or "")
        return urlunsplit((parts.scheme, netloc, parts.path, "", "")).rstrip("/")
    return DEFAULT_UI


def report_note(name: str, experiment_id: str, run_id: str, html: str, markdown: str) -> str:
    """The report run's description (Markdown, shown on its Overview page): links relative
    to the UI's own address, so that they work wherever it is served -- one that opens
    report.html in the run's Artifacts tab, one that downloads it (the server sends
    artifacts as attachments), and the run's page."""
    return (
        f"Report `{name}`: [open {html}]({run_route(experiment_id, run_id, html)}) "
        f"(the Artifacts tab shows the page, figures included) or "
        f"[download {html}](get-artifact?path={html}&run_uuid={run_id}) to open it in the browser; "
        f"`{markdown}` and the figures are beside it in the [Artifacts tab]({run_route(experiment_id, run_id, markdown)})."
    )
