"""The mixed model behind the headline: how often a typical listener picks Bach on a typical item.

Every participant answers several questions and every item is heard by many participants, so the
answers are not independent and the plain binomial interval of ``stats.cell`` is too narrow for
the population claim. This module fits a logistic model with random intercepts for participant
and for item,

    logit P(correct) = b0 + u_participant + v_item,   u ~ N(0, s_p^2),  v ~ N(0, s_i^2),

with statsmodels' ``BinomialBayesMixedGLM`` (variational Bayes, ``fit_vb``) and reports b0, the
accuracy it implies, and the two variance components.

The interval for b0 is NOT the variational posterior SD. Mean-field VB treats b0 as independent
of the random effects, so its SD only reflects binomial noise: on simulated data (200
participants x 5 answers, 40 items, s_p = s_i = 0.5; 200 replications,
``benchmarks/stats_speed.py --coverage 200``) it averaged 0.067 against an actual spread of the
estimate of 0.108, and its nominal 95% interval covered the truth 80% of the time. We therefore
take b0's SD from the Laplace approximation at the VB solution, with the variance components held
at their VB estimates: the Schur complement of the random-effects block of the joint precision
matrix, solved with scipy.sparse. That is what lme4 reports for a GLMM; in the same simulation it
averaged 0.105 and covered the truth 94% of the time. It ignores the uncertainty of the variance
components, so with very few items it is a little narrow. Both SDs are reported. The variance
components themselves are rough (mean-field VB, prior log-SD ~ N(0, 1)): with five answers per
participant a participant SD of 0 is estimated well above 0.

Designed to stay bounded: random-effect design matrices are built sparse (statsmodels'
``from_formula`` builds them dense, which does not fit in memory for tens of thousands of
participants), the optimizer is L-BFGS-B (BFGS keeps a dense k x k matrix) with an iteration cap,
and the interval's linear algebra eliminates the (diagonal) participant block first.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy import sparse
from scipy.sparse.linalg import splu
from scipy.special import expit, logit
from scipy.stats import norm
from statsmodels.genmod.bayes_mixed_glm import BinomialBayesMixedGLM

try:  # optional, see _one_blas_thread
    from threadpoolctl import threadpool_limits
except ImportError:  # pragma: no cover - depends on the environment
    threadpool_limits = None

# Below these the variance components are not estimable in any useful sense: say so instead.
MIN_PARTICIPANTS = 10
MIN_ITEMS = 3
MIN_ANSWERS = 30
# The VB optimizer's iteration cap, the bound on its time: fits converge in 50–200 iterations
# (3,605 answers: about 1 s; 100,000 answers: about 15 s), each linear in the number of answers.
MAX_ITERATIONS = 2000
# L-BFGS-B with its defaults (10 correction pairs, ftol 2.2e-9) stops early on this problem: on
# 20,000 simulated answers it quit at an ELBO 17 units short of the optimum, with the item SD at
# 0.19 instead of 0.28. 100 pairs and tight tolerances reach the optimum in fewer iterations.
OPTIMIZER_OPTIONS = {"maxcor": 100, "ftol": 1e-12, "gtol": 1e-6}
# Priors of BinomialBayesMixedGLM (its defaults): SD of the fixed intercept on the logit scale,
# and SD of the log of each random-effect SD. Weak against any real amount of data.
FE_PRIOR_SD = 2.0
VC_PRIOR_SD = 1.0
Z95 = float(norm.ppf(0.975))


def _one_blas_thread() -> contextlib.AbstractContextManager[object]:
    """Run the fit with one BLAS thread when threadpoolctl is installed.

    The ELBO's BLAS calls are matrix-vector products with one column: threads cannot speed
    them up, and on a busy machine OpenBLAS's threads slow them down badly (20,000 answers:
    23 s with the default threads on a loaded 2-core machine, 1.2 s with one).
    """
    if threadpool_limits is None:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def unfitted(
    status: str, note: str, n: int = 0, participants: int = 0, items: int = 0
) -> dict[str, Any]:
    """The model dict with no estimates: same keys as a fit, so readers need no special case."""
    return {
        "status": status,
        "note": note,
        "method": "BinomialBayesMixedGLM.fit_vb (statsmodels), random intercepts",
        "n": n,
        "participants": participants,
        "items": items,
        "intercept": None,
        "accuracy": None,
        "accuracy_marginal": None,
        "p_value": None,
        "variance_components": None,
    }


def _design(participants: np.ndarray, items: np.ndarray) -> tuple[sparse.csr_array, np.ndarray]:
    """One indicator column per participant, then one per item, as a sparse matrix."""
    n = len(participants)
    rows = np.arange(n)
    n_p, n_i = int(participants.max()) + 1, int(items.max()) + 1
    ones = np.ones(n)
    z_p = sparse.csr_array((ones, (rows, participants)), shape=(n, n_p))
    z_i = sparse.csr_array((ones, (rows, items)), shape=(n, n_i))
    ident = np.concatenate([np.zeros(n_p, dtype=int), np.ones(n_i, dtype=int)])
    return sparse.hstack([z_p, z_i], format="csr"), ident


def _intercept_sd(z: sparse.csr_array, n_p: int, result: Any) -> float:
    """b0's posterior SD with the random effects integrated out (Laplace, see module docstring).

    The joint precision of (b0, u, v) at the solution is [[1'W1 + 1/fe_p^2, b'], [b, A]] with
    b = Z'W1, A = Z'WZ + D^-1, W the binomial weights mu(1 - mu) and D the random-effect
    variances; b0's marginal precision is the Schur complement 1'W1 + 1/fe_p^2 - b'A^-1 b.
    A's participant block is diagonal (one participant per answer), so b'A^-1 b is computed by
    eliminating participants first, leaving a system the size of the number of items: a plain
    sparse LU of all of A took minutes at 100,000 answers.
    """
    mu = expit(result.fe_mean[0] + z @ result.vc_mean)
    w = mu * (1.0 - mu)
    var_p, var_i = np.exp(2.0 * result.vcp_mean)
    z_p, z_i = z[:, :n_p], z[:, n_p:]
    b_p, b_i = z_p.T @ w, z_i.T @ w
    a_p = b_p + 1.0 / var_p  # the diagonal of the participant block
    cross = (z_p.T @ sparse.diags_array(w) @ z_i).tocsr()  # participant x item
    scaled = sparse.diags_array(1.0 / a_p) @ cross
    reduced = (sparse.diags_array(b_i + 1.0 / var_i) - cross.T @ scaled).tocsc()
    rest = b_i - scaled.T @ b_p
    quadratic = b_p @ (b_p / a_p) + rest @ splu(reduced).solve(rest)
    precision = w.sum() + 1.0 / FE_PRIOR_SD**2 - quadratic
    return float(1.0 / np.sqrt(precision))


def _marginal_accuracy(b0: float, total_sd: float) -> float:
    """P(correct) averaged over participants and items: E[expit(b0 + e)], e ~ N(0, total_sd^2).

    expit(b0) is the accuracy of the median listener on the median item; averaged over the
    population it is pulled towards 0.5. Gauss–Hermite quadrature (numpy), 40 nodes.
    """
    nodes, weights = hermegauss(40)
    return float(np.sum(weights * expit(b0 + total_sd * nodes)) / np.sum(weights))


def fit_mixed_model(
    participant_ids: Sequence[object],
    item_ids: Sequence[object],
    correct: Sequence[bool],
    *,
    seed: int = 0,
) -> dict[str, Any]:
    """Fit correct ~ 1 + (1 | participant) + (1 | item) and report the implied accuracy.

    Returns a dict that is always JSON-ready and always has the same keys; ``status`` is "ok",
    "not_enough_data", "not_converged" or "failed", and ``note`` says why in words. On anything
    but "ok" the estimates are None: a non-converged fit should not become a headline.

    ``seed`` fixes the optimizer's random start, so the same answers give the same figures.
    """
    y = np.asarray(correct, dtype=float)
    n = len(y)
    if not (len(participant_ids) == len(item_ids) == n):
        raise ValueError("participant_ids, item_ids and correct must have the same length")
    if n == 0:
        return unfitted("not_enough_data", "No answers.", 0, 0, 0)
    _, participants = np.unique(np.asarray(participant_ids, dtype=str), return_inverse=True)
    _, items = np.unique(np.asarray(item_ids, dtype=str), return_inverse=True)
    n_p, n_i = int(participants.max()) + 1, int(items.max()) + 1
    shortage = _shortage(y, n_p, n_i)
    if shortage is not None:
        return unfitted("not_enough_data", shortage, n, n_p, n_i)
    z, ident = _design(participants, items)
    try:
        fitted = _fit(y, z, ident, n_p, n_i, seed)
    except (ValueError, ArithmeticError, np.linalg.LinAlgError, RuntimeError) as error:
        note = f"The mixed model could not be fitted: {error}"
        return unfitted("failed", note, n, n_p, n_i)
    if isinstance(fitted, str):
        return unfitted("not_converged", fitted, n, n_p, n_i)
    result, b0, sd = fitted
    if not np.isfinite(b0) or not np.isfinite(sd):
        return unfitted("failed", "The mixed model gave a non-finite estimate.", n, n_p, n_i)
    return _report(result, b0, sd, unfitted("ok", "", n, n_p, n_i))


def _shortage(y: np.ndarray, n_p: int, n_i: int) -> str | None:
    """Why there is not enough data for the model, or None."""
    short = []
    if n_p < MIN_PARTICIPANTS:
        short.append(f"{n_p} participants (need {MIN_PARTICIPANTS})")
    if n_i < MIN_ITEMS:
        short.append(f"{n_i} items (need {MIN_ITEMS})")
    if len(y) < MIN_ANSWERS:
        short.append(f"{len(y)} answers (need {MIN_ANSWERS})")
    if short:
        return "Not enough data for the mixed model: " + ", ".join(short) + "."
    if y.min() == y.max():
        return (
            "Not enough data for the mixed model: every answer is "
            + ("correct" if y[0] else "wrong")
            + ", so the intercept is not identified."
        )
    return None


def _fit(
    y: np.ndarray, z: sparse.csr_array, ident: np.ndarray, n_p: int, n_i: int, seed: int
) -> tuple[Any, float, float] | str:
    """The VB fit, its intercept b0 and b0's Laplace SD; or, when the optimizer did not
    converge, why (a non-converged fit should not become a headline)."""
    model = BinomialBayesMixedGLM(
        y,
        np.ones((len(y), 1)),
        z,
        ident,
        vcp_p=VC_PRIOR_SD,
        fe_p=FE_PRIOR_SD,
        fep_names=["Intercept"],
        vcp_names=["participant", "item"],
        vc_names=[f"p{k}" for k in range(n_p)] + [f"i{k}" for k in range(n_i)],
    )
    with warnings.catch_warnings(), _one_blas_thread():
        # Convergence is judged from the optimizer's own result below, not from a warning.
        warnings.simplefilter("ignore")
        result = model.fit_vb(
            mean=np.concatenate([[logit(y.mean())], [-1.0, -1.0], np.zeros(n_p + n_i)]),
            sd=np.concatenate([[0.1], [0.3, 0.3], np.full(n_p + n_i, 0.3)]),
            fit_method="L-BFGS-B",
            minim_opts={**OPTIMIZER_OPTIONS, "maxiter": MAX_ITERATIONS},
            rng=seed,
        )
        optimizer = result.optim_retvals
        if not optimizer.success:
            return f"The mixed model did not converge ({optimizer.message}); no estimate."
        return result, float(result.fe_mean[0]), _intercept_sd(z, n_p, result)


def _report(result: Any, b0: float, sd: float, out: dict[str, Any]) -> dict[str, Any]:
    """``out`` (an ``unfitted("ok", …)`` dict) with the fit's estimates filled in."""
    lo, hi = b0 - Z95 * sd, b0 + Z95 * sd
    component_sds = np.exp(result.vcp_mean)
    total_sd = float(np.sqrt(np.sum(component_sds**2)))
    components = {}
    for k, name in enumerate(["participant", "item"]):
        log_sd, log_sd_sd = float(result.vcp_mean[k]), float(result.vcp_sd[k])
        components[name] = {
            "sd": float(np.exp(log_sd)),
            "sd_interval": [
                float(np.exp(log_sd - Z95 * log_sd_sd)),
                float(np.exp(log_sd + Z95 * log_sd_sd)),
            ],
            "variance": float(np.exp(2 * log_sd)),
        }
    out.update(
        note=(
            "Accuracy of the median listener on the median item, logistic(intercept); the "
            "interval is the Laplace one with variance components fixed at their VB estimates."
        ),
        intercept={
            "estimate": b0,
            "sd": sd,
            "sd_vb": float(result.fe_sd[0]),
            "interval": [float(lo), float(hi)],
        },
        accuracy={"estimate": float(expit(b0)), "interval": [float(expit(lo)), float(expit(hi))]},
        accuracy_marginal={
            "estimate": _marginal_accuracy(b0, total_sd),
            "interval": [_marginal_accuracy(lo, total_sd), _marginal_accuracy(hi, total_sd)],
        },
        # One-sided, against b0 = 0 (accuracy 0.5), like the cells' binomial test.
        p_value=float(norm.sf(b0 / sd)),
        variance_components=components,
    )
    return out
