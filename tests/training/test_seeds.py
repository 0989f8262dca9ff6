"""seeds=[...]: K seeds trained together, K MLflow runs equal to the single runs."""

import pytest

from src.errors import ConfigError
from src.training.runner import run
from src.training.seeds import run_seeds
from tests.conftest import make_config, runs_of

ARGS = ("dataset=digits", "model.hidden_sizes=[32]", "trainer.max_epochs=4", "optimizer.batch_size=64")


def test_each_seed_gets_the_run_a_single_run_with_that_seed_gets(mlflow_client):
    together = run_seeds(make_config(*ARGS, "seeds=[0,1,2]"))
    assert [r.run_name for r in together] == ["mlp-digits-s0", "mlp-digits-s1", "mlp-digits-s2"]
    records = {r.info.run_id: r for r in runs_of(mlflow_client)}
    assert len(records) == 3 and all(r.info.status == "FINISHED" for r in records.values())
    for seed, result in zip([0, 1, 2], together):
        single = run(make_config(*ARGS, f"seed={seed}"))

        def first(run_id):
            return min(mlflow_client.get_metric_history(run_id, "train_loss"), key=lambda m: m.step)

        assert first(result.run_id).value == pytest.approx(first(single.run_id).value, abs=1e-4)
        assert result.metrics["test_accuracy"] == pytest.approx(single.metrics["test_accuracy"], abs=0.01)
        together_record = mlflow_client.get_run(result.run_id)
        assert (
            together_record.data.params["split_digest"]
            == mlflow_client.get_run(single.run_id).data.params["split_digest"]
        )
        assert together_record.data.tags["trained_together"] == "3"


def test_seeds_refuse_what_they_cannot_match(tracking_uri):
    with pytest.raises(ConfigError, match="dropout"):
        run_seeds(make_config(*ARGS, "model.dropout=0.1", "seeds=[0,1]"))
    with pytest.raises(ConfigError, match="early_stopping"):
        run_seeds(make_config(*ARGS, "trainer.early_stopping_patience=3", "seeds=[0,1]"))
    with pytest.raises(ConfigError, match="not one"):
        run_seeds(make_config("dataset=digits", "model=svm", "seeds=[0,1]"))
