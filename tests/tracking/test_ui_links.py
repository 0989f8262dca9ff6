"""Links into MLflow's UI (src/tracking/links.py): every one opens the Model training view
(`workflowType=machine_learning`; MLflow 3 otherwise opens its GenAI view), and the report
run's description links its report.html."""

from types import SimpleNamespace

from src.tracking import links as ui
from src.tracking.mlflow_run import TrackedRun


def test_run_and_experiment_links_open_the_model_training_view():
    assert ui.runs_url("http://h:5000/", "3").startswith(
        "http://h:5000/#/experiments/3/runs?workflowType=machine_learning"
    )
    assert (
        ui.run_url("http://h:5000", "3", "abc")
        == "http://h:5000/#/experiments/3/runs/abc?workflowType=machine_learning"
    )
    assert ui.run_route("3", "abc", "report.html") == (
        "#/experiments/3/runs/abc/artifacts/report.html?workflowType=machine_learning"
    )


def test_the_ui_is_the_servers_own_address_or_where_make_ui_serves():
    assert ui.ui_base("sqlite:////tmp/mlflow.db") == "http://127.0.0.1:5000"
    assert ui.ui_base("http://user:secret@tracking.example:5001/") == "http://tracking.example:5001"
    assert ui.ui_base("https://tracking.example/mlflow") == "https://tracking.example/mlflow"


def test_the_report_runs_description_links_report_html_in_the_ui_and_as_a_download():
    note = ui.report_note("main", "3", "abc", "report.html", "report.md")
    assert "[open report.html](#/experiments/3/runs/abc/artifacts/report.html?workflowType=machine_learning)" in note
    assert "[download report.html](get-artifact?path=report.html&run_uuid=abc)" in note
    for target in note.split("](")[1:]:  # every link into the UI opens Model training
        link = target.split(")", 1)[0]
        assert link.startswith("get-artifact?") or "workflowType=machine_learning" in link, link


class _Client:
    def __init__(self, uri):
        self.tracking_uri = uri

    def set_terminated(self, run_id, status):
        pass

    def get_run(self, run_id):
        return SimpleNamespace(info=SimpleNamespace(run_name="mlp-digits-n512-s0"))


def test_a_run_on_a_server_prints_its_link_to_the_model_training_view(capsys):
    TrackedRun(_Client("http://127.0.0.1:5001"), "abc", "3").finish()
    assert capsys.readouterr().out.strip() == (
        "View run mlp-digits-n512-s0 at: http://127.0.0.1:5001/#/experiments/3/runs/abc?workflowType=machine_learning"
    )


def test_a_run_in_a_local_store_prints_no_link(capsys, tmp_path):
    TrackedRun(_Client(f"sqlite:///{tmp_path / 'mlflow.db'}"), "abc", "3").finish()
    assert capsys.readouterr().out == ""
