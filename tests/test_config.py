"""Every option of every config group composes into the typed schema and instantiates."""

import pytest
import torch

from src.config import option
from src.data import load_dataset
from src.data.catalogue import check_dataset_config
from src.errors import ConfigError
from src.models.activations import make_activation
from src.models.deep_core import loss_function, make_optimizer
from src.models.heads import LOSSES_FOR_TASK
from tests.conftest import CONF_DIR, make_config


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


def test_every_group_has_options():
    for group in ("dataset", "model", "activation", "loss", "optimizer", "trainer", "tracking", "experiment"):
        assert options(group), group


@pytest.mark.parametrize("name", options("dataset"))
def test_dataset_options_compose_and_load(name):
    cfg = make_config(f"dataset={name}")
    if name in ("table", "openml"):  # need the user's file / OpenML id: tests/data/test_tables.py, test_openml.py
        with pytest.raises(ConfigError, match="needs dataset"):
            check_dataset_config(cfg.dataset)
        return
    dataset = load_dataset(cfg.dataset)
    assert dataset.task == option(cfg.dataset.task)
    assert dataset.X.shape[0] == len(dataset.y) > 0


@pytest.mark.parametrize("name", options("activation"))
def test_activation_options_instantiate(name):
    cfg = make_config(f"activation={name}")
    out = make_activation(option(cfg.activation.name))(torch.linspace(-2, 2, 5))
    assert out.shape == (5,)


@pytest.mark.parametrize("name", options("loss"))
def test_loss_options_instantiate(name):
    cfg = make_config(f"loss={name}")
    loss = option(cfg.loss.name)
    if loss == "auto":
        return
    out = torch.zeros(4, 3 if loss == "cross_entropy" else 1)
    y = torch.tensor([0, 1, 2, 1]) if loss == "cross_entropy" else torch.ones(4, 1)
    assert torch.isfinite(loss_function(loss)(out, y))
    assert any(loss in fitting for fitting in LOSSES_FOR_TASK.values())


@pytest.mark.parametrize("name", options("optimizer"))
def test_optimizer_options_instantiate(name):
    cfg = make_config(f"optimizer={name}")
    optimizer = make_optimizer(torch.nn.Linear(2, 1).parameters(), cfg.optimizer)
    assert optimizer.param_groups[0]["lr"] == cfg.optimizer.lr


def test_batch_gd_uses_the_whole_training_set_and_sgd_one_example():
    assert make_config("optimizer=batch_gd").optimizer.batch_size is None
    assert make_config("optimizer=sgd").optimizer.batch_size == 1


@pytest.mark.parametrize("name", options("trainer"))
def test_trainer_options_instantiate_or_refuse_clearly(name):
    from src.models.deep import mlp_from_config
    from src.training.runner import validate

    cfg = make_config(f"trainer={name}")
    if cfg.trainer.accelerator == "gpu" and not torch.cuda.is_available():
        with pytest.raises(ConfigError, match="GPU"):
            validate(cfg)
        return
    validate(cfg)
    estimator = mlp_from_config(cfg, "binary", 2)
    trainer = estimator._trainer(has_val=False)
    assert trainer.max_epochs == cfg.trainer.max_epochs


@pytest.mark.parametrize("name", options("experiment"))
def test_experiments_compose(name):
    cfg = make_config(f"experiment={name}")
    assert cfg.dataset.name and cfg.model.name


def test_model_and_tracking_options_compose():
    for name in options("model"):
        # workshop_mlp is a preset of model=mlp (the workshop's hidden layers), not a model of its own
        assert make_config(f"model={name}").model.name == ("mlp" if name == "workshop_mlp" else name)
    for name in options("tracking"):
        assert make_config(f"tracking={name}").tracking.experiment
