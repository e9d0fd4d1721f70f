"""The judge's verdict: a linear classifier on the note features, cross-validated so that no
piece is judged by a model that saw it (folds grouped by piece, equal numbers of each side).

Accuracy near 50% means the notes do not give the network away; the largest standardised weights
say what does, in words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from composer.encoding import Chorale
from composer.judge.features import matrix


@dataclass(frozen=True)
class Verdict:
    accuracy: float
    interval: tuple[float, float]  # 95% Clopper-Pearson
    n: int
    tells: list[str]  # the largest weights, in words: what gives the network away

    def as_dict(self) -> dict:
        return {
            "accuracy": round(self.accuracy, 4),
            "interval": [round(x, 4) for x in self.interval],
            "n": self.n,
            "tells": self.tells,
        }


def _judge() -> object:
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=2000))


def judge(
    bach: list[Chorale],
    network: list[Chorale],
    *,
    folds: int = 5,
    seed: int = 0,
    tells: int = 5,
    paired: bool = False,
) -> Verdict:
    """Cross-validated accuracy at telling ``network`` excerpts from ``bach`` ones, its 95%
    interval, and the ``tells`` largest weights in words. Each excerpt is its own piece, or with
    ``paired`` (a harmonization re-writes the Bach excerpt beside it) each pair is one group, so
    no fold is judged by a model that saw the other half of its pair."""
    if len(bach) < folds or len(network) < folds:
        raise ValueError(f"the judge needs at least {folds} excerpts a side")
    x, names = matrix([*bach, *network])
    y = np.array([0] * len(bach) + [1] * len(network))
    if paired and len(bach) != len(network):
        raise ValueError("paired excerpts: as many network excerpts as Bach ones")
    pairs = np.concatenate([np.arange(len(bach)), np.arange(len(network))])
    groups = pairs if paired else np.arange(len(y))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    right = 0
    for train, test in splitter.split(x, y, groups):
        model = _judge().fit(x[train], y[train])
        right += int((model.predict(x[test]) == y[test]).sum())
    ci = binomtest(right, len(y)).proportion_ci(confidence_level=0.95)
    weights = _judge().fit(x, y)[-1].coef_[0]
    order = np.argsort(-np.abs(weights))[:tells]
    words = [f"{'more' if weights[i] > 0 else 'fewer'} {names[i]} than Bach" for i in order]
    return Verdict(right / len(y), (ci.low, ci.high), len(y), words)
