"""Free composition: seeded determinism, batched sampling, rejection and replacement."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from composer.model import ChoraleLSTM, ModelConfig
from composer.sample import compose_with_report, rejection_reason, sample_each, sample_tokens
from composer.vocabulary import load_vocabulary

VOCABULARY = load_vocabulary()


def one_frame(s: int = 72, tied: bool = False) -> list[str]:
    return [f"({p}, {tied})" for p in (s, s - 5, s - 12, s - 24)] + ["|||"]


def chorale(frames: int) -> list[str]:
    return [
        "START",
        *one_frame(),
        *[t for _ in range(frames - 1) for t in one_frame(tied=True)],
        "END",
    ]


class ScriptedModel(nn.Module):
    """Row ``i`` plays script ``i % len(scripts)`` token by token (near one-hot logits)."""

    def __init__(self, scripts: list[list[str]]) -> None:
        super().__init__()
        self.scripts = [VOCABULARY.encode(s) for s in scripts]
        self.anchor = nn.Parameter(torch.zeros(1))  # gives the module a device

    def forward(self, ids, hidden=None, condition=None):
        step = 0 if hidden is None else int(hidden[0][0, 0, 0])
        logits = torch.full((ids.size(0), 1, len(VOCABULARY)), -50.0)
        for row in range(ids.size(0)):
            script = self.scripts[row % len(self.scripts)]
            logits[row, 0, script[min(step + 1, len(script) - 1)]] = 50.0
        counter = torch.full((1, 1, 1), float(step + 1))
        return logits, (counter, counter)


def test_the_same_seed_gives_the_same_chorales_and_another_seed_others():
    torch.manual_seed(0)
    model = ChoraleLSTM(ModelConfig(len(VOCABULARY), 8, 16, 1)).eval()
    first = sample_tokens(model, VOCABULARY, 3, temperature=1.0, seed=7, max_frames=5)
    again = sample_tokens(model, VOCABULARY, 3, temperature=1.0, seed=7, max_frames=5)
    other = sample_tokens(model, VOCABULARY, 3, temperature=1.0, seed=8, max_frames=5)
    assert first == again
    assert first != other
    assert all(s[0] == "START" for s in first)
    assert all(len(s) <= (5 + 1) * 6 + 2 for s in first)


def test_invalid_pieces_are_rejected_with_a_reason():
    assert rejection_reason(chorale(120)) is None
    assert rejection_reason(chorale(120)[:-1]) == "no END within the frame limit"
    assert rejection_reason(chorale(50)).startswith("length 50 frames outside 100-400")
    malformed = ["START", *one_frame()[:3], "|||", *chorale(120)[1:]]
    assert rejection_reason(malformed).startswith("malformed: frame 0 has 3 voice tokens")
    silent_bass = ["START"] + [t for _ in range(120) for t in ["(72, False)"] * 3 + ["REST", "|||"]]
    assert rejection_reason(silent_bass + ["END"]) == "a voice never sings"


def test_rejected_pieces_are_replaced_and_counted():
    model = ScriptedModel([chorale(120), chorale(120)[:300]])  # odd rows never reach END
    report = compose_with_report(model, VOCABULARY, 2, temperature=1.0, seed=1, max_frames=130)
    assert len(report.pieces) == 2
    assert all(p == chorale(120) for p in report.pieces)
    assert report.first_batch_valid == 1
    assert report.rejected == 1 and report.drawn == 3


def test_an_untrained_model_that_never_finishes_is_reported():
    model = ScriptedModel([chorale(120)[:300]])
    with pytest.raises(RuntimeError, match="only 0 of 2 valid chorales"):
        compose_with_report(model, VOCABULARY, 2, max_frames=130, max_rounds=2)


def test_each_stream_is_handed_over_as_it_ends_and_sampling_stops_when_told():
    scripts = [chorale(130), chorale(100), chorale(115), chorale(100)]
    model = ScriptedModel(scripts)
    heard: list[list[str]] = []

    def take(tokens: list[str]) -> bool:
        heard.append(tokens)
        return len(heard) == 3  # enough: the longest is never waited for

    handed = sample_each(model, VOCABULARY, 4, take, temperature=1.0, seed=1, max_frames=140)
    # In the order they end, two ending together in row order; each as sample_tokens gives it.
    assert handed == 3 and heard == [scripts[1], scripts[3], scripts[2]]
    whole = sample_tokens(ScriptedModel(scripts), VOCABULARY, 4, temperature=1.0, seed=1,
                          max_frames=140)  # fmt: skip
    assert heard == [whole[1], whole[3], whole[2]]
    # Told nothing is enough, it hears every stream, one that never ends too (unvalidated).
    everything: list[list[str]] = []
    never_ends = chorale(120)[:300]
    model = ScriptedModel([chorale(100), never_ends])
    assert sample_each(model, VOCABULARY, 2, lambda t: everything.append(t) or False,
                       temperature=1.0, seed=1, max_frames=130) == 2  # fmt: skip
    assert everything[0] == chorale(100) and rejection_reason(everything[1]) is not None


def test_the_sample_command_writes_musicxml_midi_and_tokens(tmp_path, capsys):
    import json

    from composer.__main__ import main

    assert (
        main(["sample", "--n", "2", "--seed", "4", "--threads", "1", "--out", str(tmp_path)]) == 0
    )
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["written"] == 2 and summary["drawn"] == 2 + summary["rejected"]
    for index in range(2):
        stem = tmp_path / f"chorale_4_{index:03d}"
        assert stem.with_suffix(".musicxml").stat().st_size > 0
        assert stem.with_suffix(".mid").read_bytes()[:4] == b"MThd"
        tokens = stem.with_suffix(".tokens").read_text().split("\n")
        assert tokens[0] == "START" and tokens[-2] == "END"
