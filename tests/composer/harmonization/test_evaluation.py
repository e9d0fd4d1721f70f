"""composer.harmonization.evaluation: the arithmetic of the error rates and the table per mask."""

from __future__ import annotations

from composer.encoding import (
    BLANK,
    REST,
    note_token,
)
from composer.harmonization.evaluation import errors, evaluate
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
