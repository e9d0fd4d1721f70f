"""The judge's verdict: classifiers on the note features, cross-validated so that no piece is
judged by a model that saw it (folds grouped by piece, equal numbers of each side).

Three judges look at the same features in the same folds: a linear one (logistic regression,
whose weights read as tells), a small neural one (one hidden layer of 32) and a random forest.
The verdict is the best of them, so a setting counts as hard to tell from Bach only when no judge
tells it; accuracy near 50% means the notes do not give the network away.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.stats import binomtest
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from composer.encoding import Chorale
from composer.judge.features import matrix


@dataclass(frozen=True)
class Verdict:
    accuracy: float  # the best judge's
    interval: tuple[float, float]  # 95% Clopper-Pearson
    n: int
    tells: list[str]  # the linear judge's largest weights, in words: what gives the network away
    judge: str = "linear"  # which judge was best
    judges: dict[str, float] = field(default_factory=dict)  # every judge's accuracy

    @property
    def right(self) -> int:
        return round(self.accuracy * self.n)

    def as_dict(self) -> dict:
        return {
            "accuracy": round(self.accuracy, 4),
            "interval": [round(x, 4) for x in self.interval],
            "n": self.n,
            "right": self.right,
            "judge": self.judge,
            "judges": {name: round(a, 4) for name, a in self.judges.items()},
            "tells": self.tells,
        }


def _linear() -> object:
    return make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=2000))


JUDGES = {
    "linear": _linear,
    "neural": lambda: make_pipeline(
        StandardScaler(), MLPClassifier((32,), alpha=1.0, max_iter=3000, random_state=0)
    ),
    "forest": lambda: RandomForestClassifier(300, min_samples_leaf=2, random_state=0),
}


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
    if paired and len(bach) != len(network):
        raise ValueError("paired excerpts: as many network excerpts as Bach ones")
    x, names = matrix([*bach, *network])
    y = np.array([0] * len(bach) + [1] * len(network))
    pairs = np.concatenate([np.arange(len(bach)), np.arange(len(network))])
    groups = pairs if paired else np.arange(len(y))
    splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    splits = list(splitter.split(x, y, groups))
    right = {name: 0 for name in JUDGES}
    for train, test in splits:
        for name, make in JUDGES.items():
            model = make().fit(x[train], y[train])
            right[name] += int((model.predict(x[test]) == y[test]).sum())
    best = max(right, key=lambda name: right[name])
    ci = binomtest(right[best], len(y)).proportion_ci(confidence_level=0.95)
    weights = _linear().fit(x, y)[-1].coef_[0]
    order = np.argsort(-np.abs(weights))[:tells]
    words = [f"{'more' if weights[i] > 0 else 'fewer'} {names[i]} than Bach" for i in order]
    accuracies = {name: count / len(y) for name, count in right.items()}
    return Verdict(accuracies[best], (ci.low, ci.high), len(y), words, best, accuracies)
