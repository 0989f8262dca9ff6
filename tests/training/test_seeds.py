"""seeds=[...]: K seeds trained together, K MLflow runs equal to the single runs."""

import pytest

from src.errors import ConfigError
from src.training.runner import run
from src.training.seeds import run_seeds
from tests.conftest import make_config, runs_of

ARGS = ("dataset=digits", "model.hidden_sizes=[32]", "trainer.max_epochs=4", "optimizer.batch_size=64")


TIMERS = ("fit_time_s", "predict_time_s", "fit_time_shared_s")  # wall-clock: differ by nature


def test_each_seed_gets_the_run_a_single_run_with_that_seed_gets(mlflow_client):
    together = run_seeds(make_config(*ARGS, "seeds=[0,1,2]"))
    assert [r.run_name for r in together] == ["mlp-digits-s0", "mlp-digits-s1", "mlp-digits-s2"]
    records = {r.info.run_id: r for r in runs_of(mlflow_client)}
    assert len(records) == 3 and all(r.info.status == "FINISHED" for r in records.values())

    def history(run_id, name):
        return [(m.step, m.value) for m in sorted(mlflow_client.get_metric_history(run_id, name), key=lambda m: m.step)]

    for seed, result in zip([0, 1, 2], together):
        single = run(make_config(*ARGS, f"seed={seed}"))
        # The final scores are identical: the replicas predict exactly as the single runs.
        final = {k: v for k, v in result.metrics.items() if k not in TIMERS}
        assert final == {k: v for k, v in single.metrics.items() if k not in TIMERS}
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
    with pytest.raises(ConfigError, match="dropout"):
        run_seeds(make_config(*ARGS, "model.dropout=0.1", "seeds=[0,1]"))
    with pytest.raises(ConfigError, match="early_stopping"):
        run_seeds(make_config(*ARGS, "trainer.early_stopping_patience=3", "seeds=[0,1]"))
    with pytest.raises(ConfigError, match="not one"):
        run_seeds(make_config("dataset=digits", "model=svm", "seeds=[0,1]"))
