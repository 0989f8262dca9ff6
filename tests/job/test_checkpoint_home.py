"""A deep run keeps its checkpoints beside its own store: a fresh run on a test's (or another
user's) store never deletes the checkpoints under the checkout's checkpoints/."""

from src.job.resume import checkpoint_dir
from src.job.runner import run
from src.tracking.mlflow_run import PROJECT_ROOT
from tests.conftest import make_spec


def test_a_fresh_deep_run_leaves_the_checkouts_checkpoints_alone(tracking_uri, tmp_path):
    cfg = make_spec("dataset=workshop_circles", "trainer.max_epochs=2", "model.hidden_sizes=[8]")
    digest = cfg.config_hash
    mine = PROJECT_ROOT / "checkpoints" / digest
    existed = mine.exists()
    mine.mkdir(parents=True, exist_ok=True)
    sentinel = mine / "last.ckpt"
    kept = sentinel.exists()
    if not kept:
        sentinel.write_bytes(b"a user's checkpoint")
    try:
        assert checkpoint_dir(cfg, digest) == (tmp_path / "checkpoints" / digest).resolve()
        run(cfg)
        assert sentinel.exists(), "a fresh run deleted a checkpoint under the checkout's checkpoints/"
    finally:
        if not kept:
            sentinel.unlink(missing_ok=True)
        if not existed:
            mine.rmdir()
