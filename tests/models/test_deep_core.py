"""The shared deep-training pieces: K replicas' losses and accuracy equal K single nets'."""

import pytest
import torch

from src.models.deep_core import count_correct, loss_function, replica_losses, weighted_batch_sum

K, B = 3, 10


def _outputs_and_targets(loss: str):
    generator = torch.Generator().manual_seed(0)
    units = 4 if loss == "cross_entropy" else 1
    out = torch.randn(K, B, units, generator=generator)
    if loss == "cross_entropy":
        return out, torch.randint(0, units, (K, B), generator=generator)
    if loss == "bce":
        return out, torch.randint(0, 2, (K, B, 1), generator=generator).float()
    return out, torch.randn(K, B, 1, generator=generator)


@pytest.mark.parametrize("loss", ["mse", "mae", "huber", "bce", "cross_entropy"])
def test_replica_losses_are_each_replicas_own_mean_loss(loss):
    out, y = _outputs_and_targets(loss)
    fn = loss_function(loss, huber_delta=0.5)
    expected = torch.stack([fn(out[k], y[k]) for k in range(K)])
    torch.testing.assert_close(replica_losses(fn, loss, out, y), expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("loss", ["bce", "cross_entropy"])
def test_correct_counts_per_replica_equal_the_single_nets(loss):
    out, y = _outputs_and_targets(loss)
    per_replica = count_correct(out, y)
    assert per_replica.shape == (K,)
    assert per_replica.tolist() == [int(count_correct(out[k], y[k])) for k in range(K)]
    assert 0 < int(per_replica.sum()) < K * B


def test_the_short_last_batch_weighs_by_its_size():
    rows = torch.arange(10, dtype=torch.float32)  # batches of 4, 4 and 2 rows
    batch_means = torch.stack([rows[0:4].mean(), rows[4:8].mean(), rows[8:].mean()])
    assert float(weighted_batch_sum(batch_means, 4, 10) / 10) == pytest.approx(float(rows.mean()))
    per_replica = torch.stack([batch_means, 2 * batch_means], dim=1)  # (batches, K)
    torch.testing.assert_close(weighted_batch_sum(per_replica, 4, 10) / 10, torch.tensor([4.5, 9.0]))
