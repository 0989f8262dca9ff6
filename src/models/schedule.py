"""Learning-rate schedules over optimizer steps, as factors of the base rate.

`lr_factor(step, total, kind, warmup_fraction)` is the multiplier for the
step-th update (0-based) of `total`; the training loop sets each parameter
group's rate to base lr x lr_decay**epoch x this factor before every update,
so the fast update path (src/models/direct_step.py, which reads the group's
current rate) follows it too.
"""

from __future__ import annotations

import math

SCHEDULES = ("constant", "cosine", "one_cycle")
# torch.optim.lr_scheduler.OneCycleLR's defaults: start at lr/25, end at lr/(25 * 1e4).
ONE_CYCLE_DIV, ONE_CYCLE_FINAL_DIV = 25.0, 1e4


def lr_factor(step: int, total: int, kind: str, warmup_fraction: float) -> float:
    """constant: 1. cosine: linear warm-up to 1 over `warmup_fraction` of the
    steps, then a cosine down to 0 at the last step. one_cycle: a cosine from
    1/25 up to 1 over `warmup_fraction` of the steps, then a cosine down to 1/25e4."""
    if kind == "constant":
        return 1.0
    progress = min(step, total) / max(total, 1)
    if kind == "cosine":
        warmup = max(1, round(warmup_fraction * total)) if warmup_fraction > 0 else 0
        if step < warmup:
            return (step + 1) / warmup
        after = (step - warmup) / max(1, total - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * min(1.0, after)))
    if kind == "one_cycle":
        start, end = 1.0 / ONE_CYCLE_DIV, 1.0 / (ONE_CYCLE_DIV * ONE_CYCLE_FINAL_DIV)
        if progress < warmup_fraction:
            rise = progress / warmup_fraction
            return start + (1.0 - start) * 0.5 * (1.0 - math.cos(math.pi * rise))
        fall = (progress - warmup_fraction) / max(1e-12, 1.0 - warmup_fraction)
        return end + (1.0 - end) * 0.5 * (1.0 + math.cos(math.pi * min(1.0, fall)))
    raise ValueError(f"unknown schedule '{kind}'; schedules: {', '.join(SCHEDULES)}")
