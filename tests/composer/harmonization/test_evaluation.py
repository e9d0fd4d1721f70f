"""composer.harmonization.evaluation: the arithmetic of the error rates and the table per mask."""

from __future__ import annotations

import math

import pytest
import torch

from composer.encoding import (
    BLANK,
    REST,
    note_token,
)
from composer.harmonization.evaluation import errors, evaluate, ratio_interval
from composer.harmonization.masks import mask_tokens
from composer.harmonization.search import masked_log_prob
from tests.composer.tiny import short


def test_errors_count_tokens_and_frames():
    s, a, t, b = (note_token(p, False) for p in (72, 67, 64, 48))

    def stream(*frames: list[str]) -> list[str]:
        return ["START", *[x for frame in frames for x in (*frame, "|||")], "END"]

    bach = stream([s, a, t, b], [s, a, t, b], [s, a, t, b])
    masked = stream(*[[s, BLANK, BLANK, b]] * 3)
    filled = stream([s, a, t, b], [s, a, note_token(65, False), b], [s, REST, REST, b])
    assert errors(bach, masked, filled) == (3, 6, 2, 3)


def test_evaluate_reports_every_mask(chorales, vocabulary, tiny_model):
    subset = {"a": short(chorales[0]), "b": short(chorales[1])}
    table = evaluate(tiny_model, vocabulary, subset, ("S", "ATB"), "beam", 2, progress=False)
    assert list(table) == ["S", "ATB"]
    for row in table.values():
        assert 0 <= row["token_error_rate"] <= 1 and 0 <= row["frame_error_rate"] <= 1
        assert row["frame_error_rate"] >= row["token_error_rate"] - 1e-9
        assert row["mean_logprob"] < 0 and row["frames"] == 48
    assert table["S"]["masked_tokens"] == 48 and table["ATB"]["masked_tokens"] == 144


def test_masked_log_prob_sums_only_the_blanked_slots(chorales, vocabulary, tiny_model):
    tokens = short(chorales[0])
    masked = mask_tokens(tokens, "T")
    ids = torch.tensor(vocabulary.encode(tokens))
    with torch.no_grad():
        tiny_model.eval()
        logits, _ = tiny_model(ids[None, :-1])  # [1, n-1, V]
        per_token = torch.log_softmax(logits[0], -1).gather(1, ids[1:, None])[:, 0]
    slots = [i - 1 for i, token in enumerate(masked) if token == BLANK]
    expected = float(per_token[slots].double().sum())
    assert masked_log_prob(tiny_model, vocabulary, tokens, masked) == pytest.approx(expected)
    # Blanking more voices adds their slots' (negative) log-probabilities.
    both = masked_log_prob(tiny_model, vocabulary, tokens, mask_tokens(tokens, "AT"))
    assert both < masked_log_prob(tiny_model, vocabulary, tokens, masked) < 0


def test_ratio_interval_resamples_chorales():
    # Every chorale at the same rate: every resample gives that rate.
    assert ratio_interval([1, 2, 3], [10, 20, 30], 200) == [0.1, 0.1]
    wrong, masked = [0, 5, 9, 1, 7, 3], [10, 10, 10, 10, 10, 10]
    low, high = ratio_interval(wrong, masked, 2000)
    assert low < sum(wrong) / sum(masked) < high
    assert 0 <= low and high <= 0.9
    # Ten times the chorales at the same rates: a narrower interval.
    low10, high10 = ratio_interval(wrong * 10, masked * 10, 2000)
    assert high10 - low10 < (high - low) / 2


def test_evaluate_adds_intervals_and_masked_nats(chorales, vocabulary, tiny_model):
    subset = {str(i): short(chorales[i]) for i in range(3)}
    table = evaluate(tiny_model, vocabulary, subset, ("B",), "greedy", progress=False,
                     bootstrap=300)  # fmt: skip
    row = table["B"]
    assert row["masked_nats"] > 0 and math.isfinite(row["masked_nats"])
    for name in ("token_error_rate", "frame_error_rate", "masked_nats"):
        low, high = row["intervals"][name]
        assert low <= row[name] <= high
    assert (
        "intervals"
        not in evaluate(tiny_model, vocabulary, subset, ("B",), "greedy", progress=False)["B"]
    )
