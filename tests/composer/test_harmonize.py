"""Harmonization: fixed voices kept, only voice tokens chosen, constraints, beam >= greedy, the
evaluation's arithmetic and both command lines."""

from __future__ import annotations

import json

import pytest
import torch

from composer import checkpoint
from composer.__main__ import main
from composer.encoding import (
    BLANK,
    FERMATA,
    REST,
    SPECIAL_TOKENS,
    VOICE_RANGES,
    VOICES,
    is_voice_token,
    note_token,
    parse_note_token,
    split_frames,
    tokens_to_chorale,
)
from composer.harmonization.evaluation import errors, evaluate
from composer.harmonization.masks import MASKS, HarmonizationError, frame_layout, mask_tokens
from composer.harmonization.search import _stepper, harmonize, stream_log_prob
from composer.model import ChoraleLSTM, ModelConfig
from composer.training.train import TrainConfig, train
from composer.vocabulary import load_vocabulary

TINY = dict(
    embedding_dim=8, hidden_size=32, num_layers=1, dropout=0.0, seq_len=32, batch_size=4, lr=1e-2
)


@pytest.fixture(scope="session")
def vocabulary():
    return load_vocabulary()


@pytest.fixture(scope="session")
def chorales(tiny_corpus, vocabulary) -> list[list[str]]:
    return [vocabulary.decode(ids) for ids in tiny_corpus]


@pytest.fixture(scope="session")
def tiny_model(tiny_corpus, tmp_path_factory):
    """A one-layer model trained for two epochs on four chorales (a few seconds)."""
    out = tmp_path_factory.mktemp("tiny_model")
    config = TrainConfig(**TINY, epochs=2, device="cpu")
    result = train(config, tiny_corpus[:4], tiny_corpus[4:], out, progress=False)
    model, _, _ = checkpoint.load(result.best_path)
    return model


def random_model(vocabulary, layers: int = 2, seed: int = 0) -> ChoraleLSTM:
    torch.manual_seed(seed)
    config = ModelConfig(len(vocabulary), embedding_dim=8, hidden_size=16, num_layers=layers)
    return ChoraleLSTM(config).eval()


def biased_model(vocabulary, tokens: list[str], bias: float = 50.0) -> ChoraleLSTM:
    """A random model that all but insists on ``tokens`` wherever it is asked."""
    model = random_model(vocabulary)
    with torch.no_grad():
        for token in tokens:
            model.head.bias[vocabulary.id(token)] += bias
    return model


def short(tokens: list[str], frames: int = 24) -> list[str]:
    """The first ``frames`` frames of a chorale, as a whole stream (keeps the tests quick)."""
    end = [i for i, t in enumerate(tokens) if t == "|||"][frames - 1]
    return [*tokens[: end + 1], "END"]


# --- masks -------------------------------------------------------------------------------------


def test_mask_tokens_blanks_exactly_the_named_voices(chorales):
    tokens = chorales[0]
    masked = mask_tokens(tokens, "AT")
    for (fermata, bach), (kept_fermata, slots) in zip(
        split_frames(tokens), _frames(masked), strict=True
    ):
        assert kept_fermata == fermata
        assert slots == [bach[0], BLANK, BLANK, bach[3]]


@pytest.mark.parametrize("voices", ["", "SATB", "BTAS", "X", "SS"])
def test_a_mask_of_every_voice_none_or_an_unknown_one_is_refused(chorales, voices):
    with pytest.raises(ValueError):
        mask_tokens(chorales[0], voices)


def test_harmonize_refuses_a_stream_with_no_blank_or_all_blank(chorales, vocabulary):
    model = random_model(vocabulary)
    tokens = short(chorales[0])
    with pytest.raises(HarmonizationError, match="no voice is blank"):
        harmonize(model, vocabulary, tokens)
    everything = [BLANK if is_voice_token(t) else t for t in tokens]
    with pytest.raises(HarmonizationError, match="every voice is blank"):
        harmonize(model, vocabulary, everything)
    with pytest.raises(HarmonizationError, match="unknown method"):
        harmonize(model, vocabulary, mask_tokens(tokens, "A"), method="sample")


@pytest.mark.parametrize(
    "tokens",
    [
        [BLANK, REST, REST, REST, "|||", "END"],  # no START
        ["START", BLANK, REST, REST, REST, "|||"],  # no END
        ["START", BLANK, REST, REST, "|||", "END"],  # three voices
        ["START", FERMATA, FERMATA, BLANK, REST, REST, REST, "|||", "END"],
        ["START", BLANK, REST, FERMATA, REST, REST, "|||", "END"],
        ["START", BLANK, REST, REST, REST, "END"],  # unfinished frame
    ],
)
def test_a_malformed_stream_is_refused(vocabulary, tokens):
    with pytest.raises(HarmonizationError):
        harmonize(random_model(vocabulary), vocabulary, tokens)


# --- what is kept and what is chosen ------------------------------------------------------------


@pytest.mark.parametrize("method", ["greedy", "beam"])
@pytest.mark.parametrize("mask", MASKS)
def test_fixed_tokens_frames_and_fermatas_never_change(
    chorales, vocabulary, tiny_model, mask, method
):
    tokens = short(chorales[0], 32)
    assert FERMATA in chorales[0]
    masked = mask_tokens(tokens, mask)
    result = harmonize(tiny_model, vocabulary, masked, method=method, beam_width=3)
    assert len(result.tokens) == len(masked)
    for given, filled in zip(masked, result.tokens, strict=True):
        if given == BLANK:
            assert is_voice_token(filled)
        else:
            assert filled == given
    tokens_to_chorale(result.tokens)  # decodes without repair
    # The reported figure is the model's log-probability of the whole stream.
    assert result.log_prob == pytest.approx(stream_log_prob(tiny_model, vocabulary, result.tokens))


def test_fermatas_of_a_whole_chorale_are_kept(chorales, vocabulary, tiny_model):
    masked = mask_tokens(chorales[1], "ATB")
    result = harmonize(tiny_model, vocabulary, masked, method="greedy")
    assert [f for f, _ in split_frames(result.tokens)] == [f for f, _ in split_frames(chorales[1])]


def test_beam_is_never_below_greedy(chorales, vocabulary, tiny_model):
    gains = []
    for tokens in chorales[:3]:
        for mask in ("S", "AT", "ATB"):
            masked = mask_tokens(short(tokens, 32), mask)
            greedy = harmonize(tiny_model, vocabulary, masked, method="greedy")
            beam = harmonize(tiny_model, vocabulary, masked, method="beam", beam_width=4)
            assert beam.log_prob >= greedy.log_prob
            gains.append(beam.log_prob - greedy.log_prob)
    assert max(gains) > 0  # the beam does find better streams, not only the greedy one


def test_special_tokens_are_never_chosen(chorales, vocabulary):
    # BachBot's bug: a special token's logit set to 0 still beats notes with negative logits.
    model = biased_model(vocabulary, list(SPECIAL_TOKENS))
    masked = mask_tokens(short(chorales[0]), "ATB")
    for constraints in (True, False):
        for method in ("greedy", "beam"):
            result = harmonize(model, vocabulary, masked, method, 3, constraints)
            chosen = [t for t, m in zip(result.tokens, masked, strict=True) if m == BLANK]
            assert all(is_voice_token(t) for t in chosen)


def test_the_stepper_computes_what_the_model_computes(vocabulary):
    model = random_model(vocabulary, layers=3)
    ids = torch.randint(0, len(vocabulary), (3, 9))
    expected, (h, c) = model(ids)
    step = _stepper(model)
    with torch.no_grad():
        _, hidden = step(ids[:, :5], None, 0)
        logits, (h2, c2) = step(ids[:, 5:], hidden, 5)
    assert torch.allclose(logits, expected[:, 5:], atol=1e-5)
    assert torch.allclose(h2, h, atol=1e-5) and torch.allclose(c2, c, atol=1e-5)


# --- constraints -------------------------------------------------------------------------------


def _frames(tokens: list[str]) -> list[tuple[bool, list[str]]]:
    """Frames ``(under_fermata, [S, A, T, B])`` of a stream that may hold BLANK."""
    return [
        (tokens[slots[0] - 1] == FERMATA, [tokens[p] for p in slots])
        for slots in frame_layout(tokens)
    ]


def _check_constraints(masked: list[str], filled: list[str]) -> None:
    previous: list[str] | None = None
    for (_, given), (_, chosen) in zip(_frames(masked), _frames(filled), strict=True):
        pitches = [parse_note_token(t) for t in chosen]
        for v, token in enumerate(given):
            if token != BLANK:
                continue
            if chosen[v] == REST:
                assert REST in given, "a filled voice rests only where a fixed voice rests"
                continue
            midi, tied = pitches[v]
            low, high = VOICE_RANGES[VOICES[v]]
            assert low <= midi <= high
            above = [p[0] for p in pitches[:v] if p]
            assert all(midi <= p for p in above)
            fixed_below = [parse_note_token(t) for t in given[v + 1 :] if t != BLANK]
            assert all(midi >= p[0] for p in fixed_below if p)
            if tied:
                assert previous is not None and parse_note_token(previous[v])[0] == midi
        previous = chosen


@pytest.mark.parametrize("mask", MASKS)
def test_constraints_hold_even_against_a_model_that_wants_otherwise(chorales, vocabulary, mask):
    # Far too high, tied out of nowhere, or silent: everything the rules forbid.
    wanted = [note_token(86, True), note_token(86, False), note_token(31, True), REST]
    model = biased_model(vocabulary, wanted, bias=8.0)
    masked = mask_tokens(short(chorales[2]), mask)
    for method in ("greedy", "beam"):
        _check_constraints(masked, harmonize(model, vocabulary, masked, method, 3).tokens)
    free = harmonize(model, vocabulary, masked, "greedy", constraints=False).tokens
    assert any(t in wanted for t, m in zip(free, masked, strict=True) if m == BLANK)


def test_a_voice_with_no_room_still_gets_a_note(vocabulary):
    # A soprano below the alto's whole range: the order rule is dropped, not the blank left.
    frame = [note_token(50, False), BLANK, BLANK, BLANK, "|||"]
    masked = ["START", *frame, *frame, "END"]
    result = harmonize(random_model(vocabulary), vocabulary, masked, "beam", 3)
    for _, voices in split_frames(result.tokens):
        assert all(parse_note_token(t) is not None for t in voices)


# --- evaluation --------------------------------------------------------------------------------


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


# --- command lines -----------------------------------------------------------------------------


@pytest.fixture
def tiny_checkpoint(tiny_model, vocabulary, tmp_path):
    path = tmp_path / "tiny.pt"
    checkpoint.save(path, tiny_model, vocabulary, {}, epoch=2, validation_loss=0.0)
    return path


def test_cli_eval_harmonization_prints_json(tiny_checkpoint, chorales, monkeypatch, capsys):
    from composer.cli import harmonize as cli_harmonize

    subset = {"x": short(chorales[0], 16)}
    monkeypatch.setattr(cli_harmonize, "validation_chorales", lambda limit: subset)
    argv = ["eval-harmonization", "--checkpoint", str(tiny_checkpoint), "--json"]
    assert main([*argv, "--method", "beam", "--beam-width", "2", "--masks", "B,AT"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert set(table) == {"B", "AT"}
    assert set(table["B"]) >= {"token_error_rate", "frame_error_rate", "mean_logprob"}


def test_cli_harmonize_writes_musicxml_and_midi(tiny_checkpoint, tmp_path, capsys):
    from music21 import converter

    for name in ("out.musicxml", "out.mid"):
        out = tmp_path / name
        argv = ["harmonize", "--melody", "fixtures/twinkle.txt", "--out", str(out)]
        assert main([*argv, "--checkpoint", str(tiny_checkpoint), "--beam-width", "2"]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert summary["key"] == "C major" and summary["frames"] == 192
        score = converter.parse(out)
        assert [p.partName for p in score.parts] == ["Soprano", "Alto", "Tenor", "Bass"]


def test_cli_harmonize_reports_a_bad_melody_without_a_traceback(tiny_checkpoint, tmp_path, capsys):
    melody = tmp_path / "bad.txt"
    melody.write_text("C5:0.5\n")
    argv = ["harmonize", "--melody", str(melody), "--out", str(tmp_path / "o.mid")]
    assert main([*argv, "--checkpoint", str(tiny_checkpoint)]) == 2
    assert "shorter than a beat" in capsys.readouterr().err
    argv = ["harmonize", "--melody", "fixtures/twinkle.txt", "--out", str(tmp_path / "o.pdf")]
    assert main([*argv, "--checkpoint", str(tiny_checkpoint)]) == 2
    assert "cannot write .pdf" in capsys.readouterr().err
