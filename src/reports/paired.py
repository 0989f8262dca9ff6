"""Paired comparisons of two models over cross-validated repeats: pure statistics.

The J paired differences d_j (one per repeat: a test fold, or a redrawn split) come
from models trained on overlapping rows, so they are positively correlated and the
plain t interval, with variance s²/J, is too narrow. Nadeau & Bengio's corrected
resampled t-test (Machine Learning 52, 2003, p. 239-281; for repeated k-fold
cross-validation Bouckaert & Frank, PAKDD 2004) widens it:

    se = sqrt((1/J + n_test/n_rest) * s²),   t = d̄ / se,   J - 1 degrees of freedom,

with n_test the rows of one test set and n_rest the rows outside it, from which every
training set is drawn (for k folds n_test/n_rest = 1/(k-1)). The correction does not
shrink with J: more repeats of the same design cannot make the interval narrower than
t * s * sqrt(n_test/n_rest).

The verdict reads the 95% interval [d̄ - t.975 se, d̄ + t.975 se] (d > 0: deep better):
- `equivalent`: the whole interval lies inside ±margin, the stated equivalence margin.
  That is Schuirmann's two one-sided tests (TOST) at α = 0.025 each, the same interval
  the table shows; it is checked first, so a real but smaller-than-margin gap reads
  `equivalent`;
- `deep` / `classical`: the interval excludes 0 (the corrected t-test's p < 0.05);
- `inconclusive`: the interval contains 0 and reaches beyond ±margin: these repeats
  cannot tell, which is not the same as "equal";
- `n/a`: fewer than 2 pairs, or all pairs equal, so no spread to build an interval from
  (identical differences must not read as p = 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

DEEP, CLASSICAL, EQUIVALENT, INCONCLUSIVE, UNDECIDED = "deep", "classical", "equivalent", "inconclusive", "n/a"
VERDICTS = (DEEP, CLASSICAL, EQUIVALENT, INCONCLUSIVE, UNDECIDED)
CONFIDENCE = 0.95
POWER = 0.80  # min_detectable: the gap these repeats would detect this often
MAX_PAIRS = 1000  # pairs_needed looks no further


@dataclass(frozen=True)
class Paired:
    n_pairs: int
    mean_diff: float
    ci_low: float
    ci_high: float
    p_value: float
    se: float  # the corrected standard error of the mean difference
    min_detectable: float  # the smallest |gap| found at 80% power by a test at 5% with this spread
    verdict: str
    why: str
    pairs_needed: Optional[int] = None  # inconclusive: how many pairs would decide, at this spread and mean


def _t(q: float, df: int) -> float:
    from scipy import stats

    return float(stats.t.ppf(q, df))


def corrected_se(sd: float, n_pairs: int, test_ratio: float) -> float:
    """Nadeau-Bengio's standard error of the mean of n_pairs differences with sample sd."""
    return math.sqrt((1.0 / n_pairs + test_ratio) * sd * sd)


def compare(differences: np.ndarray, test_ratio: float, margin: float) -> Paired:
    """The corrected interval, p-value, power and verdict of paired differences (> 0: deep better).

    `test_ratio` is n_test / n_rest (0 for the plain paired t-test), `margin` the equivalence
    margin in the metric's units."""
    from scipy import stats

    diff = np.asarray(differences, dtype=float)
    n = len(diff)
    mean = float(diff.mean()) if n else math.nan
    nan = math.nan
    if n < 2:
        return Paired(n, mean, nan, nan, nan, nan, nan, UNDECIDED, "fewer than 2 paired repeats: no interval")
    sd = float(diff.std(ddof=1))
    if sd == 0:
        return Paired(
            n, mean, nan, nan, nan, 0.0, nan, UNDECIDED,
            f"all {n} paired differences are equal ({mean:+.4g}): no spread to build an interval from",
        )  # fmt: skip
    se = corrected_se(sd, n, test_ratio)
    t_crit = _t(0.5 + CONFIDENCE / 2, n - 1)
    low, high = mean - t_crit * se, mean + t_crit * se
    p = float(2 * stats.t.sf(abs(mean) / se, n - 1))
    detectable = (t_crit + _t(POWER, n - 1)) * se
    verdict, why = verdict_of(low, high, margin)
    needed = pairs_needed(mean, sd, test_ratio, margin) if verdict == INCONCLUSIVE else None
    return Paired(n, mean, low, high, p, se, detectable, verdict, why, needed)


def verdict_of(low: float, high: float, margin: float) -> tuple[str, str]:
    """The verdict of a 95% interval [low, high] of deep - classical, and why."""
    if math.isnan(low) or math.isnan(high):
        return UNDECIDED, "no interval"
    if -margin <= low and high <= margin:
        return EQUIVALENT, "interval inside ±margin"
    if low > 0:
        return DEEP, "interval above 0" + (", beyond the margin" if high > margin else "")
    if high < 0:
        return CLASSICAL, "interval below 0" + (", beyond the margin" if low < -margin else "")
    return INCONCLUSIVE, "interval holds 0 and reaches past the margin"


def pairs_needed(mean: float, sd: float, test_ratio: float, margin: float) -> Optional[int]:
    """The fewest pairs whose interval, at this mean and spread, would leave 0 or fit inside
    ±margin; None where no number up to MAX_PAIRS would (the overlap correction's floor)."""
    for n in range(2, MAX_PAIRS + 1):
        half = _t(0.5 + CONFIDENCE / 2, n - 1) * corrected_se(sd, n, test_ratio)
        if abs(mean) > half or abs(mean) + half <= margin:
            return n
    return None


def holm(p_values: list[float]) -> list[float]:
    """Holm's step-down adjustment of p-values (statsmodels); NaN stays NaN."""
    from statsmodels.stats.multitest import multipletests

    values = np.asarray(p_values, dtype=float)
    adjusted = np.full(len(values), np.nan)
    known = ~np.isnan(values)
    if known.any():
        adjusted[known] = multipletests(values[known], method="holm")[1]
    return adjusted.tolist()


def adjusted_verdict(stats: Paired, p_adjusted: float, margin: float, alpha: float = 0.05) -> str:
    """A per-pair verdict under a multiplicity-adjusted p: equivalence by the interval as
    above, a side only where the adjusted p is below alpha."""
    if stats.verdict in (UNDECIDED, EQUIVALENT):
        return stats.verdict
    if not math.isnan(p_adjusted) and p_adjusted < alpha:
        return DEEP if stats.mean_diff > 0 else CLASSICAL
    return INCONCLUSIVE
