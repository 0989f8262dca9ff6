"""seeds=[...]: K seeds trained together, K MLflow runs equal to the single runs."""

import pytest

from src.errors import ConfigError
from src.job.runner import run
from src.job.seeds import run_seeds
from tests.conftest import make_spec, run_cli, runs_of

ARGS = ("dataset=digits", "model.hidden_sizes=[32]", "trainer.max_epochs=4", "optimizer.batch_size=64")


TIMERS = ("fit_time_s", "predict_time_s", "fit_time_shared_s")  # wall-clock: differ by nature


def test_each_seed_gets_the_run_a_single_run_with_that_seed_gets(mlflow_client):
    together = run_seeds(make_spec(*ARGS, "seeds=[0,1,2]"))
    assert [r.run_name for r in together] == ["mlp-digits-n1294-s0", "mlp-digits-n1294-s1", "mlp-digits-n1294-s2"]
    records = {r.info.run_id: r for r in runs_of(mlflow_client)}
    assert len(records) == 3 and all(r.info.status == "FINISHED" for r in records.values())

    def history(run_id, name):
        return [(m.step, m.value) for m in sorted(mlflow_client.get_metric_history(run_id, name), key=lambda m: m.step)]

    for seed, result in zip([0, 1, 2], together):
        single = run(make_spec(*ARGS, f"seed={seed}"))
        # The final scores are identical: the replicas predict exactly as the single runs; the
        # probability scores (log loss, Brier) agree to float32 rounding of the probabilities.
        final = {k: v for k, v in result.metrics.items() if k not in TIMERS}
        reference = {k: v for k, v in single.metrics.items() if k not in TIMERS}
        assert final == pytest.approx(reference, rel=1e-7, abs=1e-8)
        exact = [k for k in final if not k.endswith(("_log_loss", "_brier", "_roc_auc"))]
        assert {k: final[k] for k in exact} == {k: reference[k] for k in exact}
        together_record, single_record = mlflow_client.get_run(result.run_id), mlflow_client.get_run(single.run_id)
        logged = set(single_record.data.metrics) - set(TIMERS)
        assert logged == set(together_record.data.metrics) - set(TIMERS)
        assert {"train_loss", "val_loss", "val_accuracy", "train_epoch_accuracy"} <= logged
        # Every epoch of every curve: the losses differ by float rounding only (measured: <= 5e-7).
        for name in logged:
            ours, reference = history(result.run_id, name), history(single.run_id, name)
            assert [step for step, _ in ours] == [step for step, _ in reference], name
            assert [value for _, value in ours] == pytest.approx([value for _, value in reference], rel=0, abs=1e-6), (
                name
            )
        assert together_record.data.params["split_digest"] == single_record.data.params["split_digest"]
        assert together_record.data.tags["trained_together"] == "3"


def test_seeds_refuse_what_they_cannot_match(tracking_uri):
    with pytest.raises(ConfigError, match="batch_norm"):
        run_seeds(make_spec(*ARGS, "model.batch_norm=true", "seeds=[0,1]"))
    with pytest.raises(ConfigError, match="checkpoint_every_n_epochs"):
        run_seeds(make_spec(*ARGS, "trainer.checkpoint_every_n_epochs=1", "seeds=[0,1]"))
    with pytest.raises(ConfigError, match="repeats a seed"):
        run_seeds(make_spec("dataset=digits", "model=svm", "seeds=[0,0]"))


def test_one_diverging_replica_fails_only_its_own_run(mlflow_client, monkeypatch):
    import torch

    from src.job.seeds import SeedsFailed
    from src.models import stacked

    original_init, original_close = stacked.StackedEpochLoop.__init__, stacked.StackedEpochLoop._close_epoch

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.replica_seeds = list(args[6] if len(args) > 6 else kwargs["seeds"])

    def close_epoch(self, epoch_loss):
        if self.current_epoch == 2 and 1 in self.replica_seeds:  # seed 1's loss becomes nan at epoch 2
            epoch_loss = epoch_loss.clone()
            epoch_loss[self.replica_seeds.index(1)] = torch.nan
        return original_close(self, epoch_loss)

    monkeypatch.setattr(stacked.StackedEpochLoop, "__init__", init)
    monkeypatch.setattr(stacked.StackedEpochLoop, "_close_epoch", close_epoch)
    with pytest.raises(SeedsFailed, match="1 of 3 seeds diverged") as info:
        run_seeds(make_spec(*ARGS, "seeds=[0,1,2]"))
    assert [r.run_name for r in info.value.finished_results] == ["mlp-digits-n1294-s0", "mlp-digits-n1294-s2"]
    records = {r.data.tags["seed"]: r for r in runs_of(mlflow_client)}
    assert {seed: r.info.status for seed, r in records.items()} == {"0": "FINISHED", "1": "FAILED", "2": "FINISHED"}
    assert records["1"].data.tags["status_reason"] == "diverged" and records["1"].data.metrics["diverged_epoch"] == 2
    for seed in ("0", "2"):  # the survivors are the single runs with their seeds, all epochs trained
        assert "test_accuracy" in records[seed].data.metrics and records[seed].data.tags["epochs_trained"] == "4"
        single = run(make_spec(*ARGS, f"seed={seed}"))
        assert records[seed].data.metrics["test_accuracy"] == pytest.approx(single.metrics["test_accuracy"])
    steps = sorted(m.step for m in mlflow_client.get_metric_history(records["1"].info.run_id, "train_loss"))
    assert steps == [0, 1]  # the diverged replica keeps the epochs before it


def test_mlp_plus_repeats_train_together_and_each_is_its_single_run(mlflow_client):
    """R = 3 repeats x K = 4 members (dropout, periodic embeddings, restore-best
    by validation accuracy) as one model: each repeat's run is its seed's single run."""
    plus = ("dataset=wine", "model=mlp_plus", "model.hidden_sizes=[32]", "trainer.max_epochs=3")
    together = run_seeds(make_spec(*plus, "seeds=[0,1,2]"))
    for seed, result in zip([0, 1, 2], together):
        single = run(make_spec(*plus, f"seed={seed}"))
        final = {k: v for k, v in result.metrics.items() if k not in TIMERS}
        assert final == pytest.approx({k: v for k, v in single.metrics.items() if k not in TIMERS}, rel=0, abs=1e-6)
        ours, reference = mlflow_client.get_run(result.run_id).data, mlflow_client.get_run(single.run_id).data
        for tag in ("best_epoch", "epochs_trained"):
            assert ours.tags[tag] == reference.tags[tag], tag
        assert ours.params["n_params"] == reference.params["n_params"]
        assert ours.params["split_digest"] == reference.params["split_digest"]
        assert ours.tags["trained_together"] == "3"
        losses = [
            m.value for m in sorted(mlflow_client.get_metric_history(result.run_id, "train_loss"), key=lambda m: m.step)
        ]
        expected = [
            m.value for m in sorted(mlflow_client.get_metric_history(single.run_id, "train_loss"), key=lambda m: m.step)
        ]
        assert losses == pytest.approx(expected, rel=0, abs=1e-6)  # dropout's masks too are the single run's


# ------------------------------------------------------------------ every other model family
CLASSICAL = ("dataset=wine",)


@pytest.mark.parametrize("model", ["random_forest", "dummy"])
def test_a_classical_models_seeds_are_the_single_runs_with_those_seeds(mlflow_client, model):
    together = run_seeds(make_spec(*CLASSICAL, f"model={model}", "seeds=[0,1,2]"))
    assert [r.run_name for r in together] == [f"{model}-wine-n128-s{seed}" for seed in (0, 1, 2)]
    for seed, result in zip([0, 1, 2], together):
        single = run(make_spec(*CLASSICAL, f"model={model}", f"seed={seed}"))
        final = {k: v for k, v in result.metrics.items() if k not in TIMERS}
        assert final == {k: v for k, v in single.metrics.items() if k not in TIMERS}
        ours, reference = mlflow_client.get_run(result.run_id).data, mlflow_client.get_run(single.run_id).data
        assert ours.params == reference.params  # the same split (split_digest), the same settings
        assert ours.tags["seed"] == str(seed) and ours.tags["model_family"] == reference.tags["model_family"]
    # Different seeds, different splits: the repeats are repeats, not copies.
    digests = {mlflow_client.get_run(r.run_id).data.params["split_digest"] for r in together}
    assert len(digests) == 3


def test_a_classical_seed_that_fails_fails_only_its_own_run(mlflow_client, monkeypatch):
    from src.job import runner
    from src.job.seeds import SeedsFailed

    prepare = runner.prepare_data

    def prepare_or_fail(cfg, tracked):
        if cfg.seed == 1:
            raise RuntimeError("the data of seed 1 is broken")
        return prepare(cfg, tracked)

    monkeypatch.setattr(runner, "prepare_data", prepare_or_fail)
    with pytest.raises(SeedsFailed, match="1 of 3 seeds failed .*seed 1: .*broken") as info:
        run_seeds(make_spec(*CLASSICAL, "model=dummy", "seeds=[0,1,2]"))
    assert [r.run_name for r in info.value.finished_results] == ["dummy-wine-n128-s0", "dummy-wine-n128-s2"]
    statuses = {r.data.tags["seed"]: r.info.status for r in runs_of(mlflow_client)}
    assert statuses == {"0": "FINISHED", "1": "FAILED", "2": "FINISHED"}


def test_inside_a_sweep_every_seeds_run_is_a_child_in_the_summary(mlflow_client, tmp_path):
    proc = run_cli(
        "-m",
        "dataset=wine",
        "model=dummy,mlp",
        "trainer.max_epochs=2",
        "seeds=[0,1]",
        f"hydra.sweep.dir={tmp_path / 'multirun'}",
    )
    assert proc.returncode == 0, proc.stderr
    runs = runs_of(mlflow_client)
    parent = next(r for r in runs if r.data.tags.get("sweep") == "true")
    children = [r for r in runs if r.data.tags.get("mlflow.parentRunId") == parent.info.run_id]
    assert sorted((c.data.tags["model"], c.data.tags["seed"]) for c in children) == [
        ("dummy", "0"),
        ("dummy", "1"),
        ("mlp", "0"),
        ("mlp", "1"),
    ]
    assert all(c.info.status == "FINISHED" for c in children)
    assert len({c.info.run_name for c in children}) == 4  # a job's seeds keep distinct names
    assert parent.data.metrics["n_jobs"] == 4
    summary = mlflow_client.download_artifacts(parent.info.run_id, "summary.csv")
    import pandas as pd

    assert sorted(pd.read_csv(summary)["run"].tolist()) == sorted(c.info.run_name for c in children)
