"""The frame grammar the sampler obeys: even an untrained model writes well-formed chorales; the
masks it keeps per state key are the rule computed afresh; the optional metre rules hold."""

from __future__ import annotations

import random

import pytest
import torch

from composer import metre
from composer.decoding import Decoding
from composer.encoding import parse_note_token, split_frames, tokens_to_chorale
from composer.grammar import FrameGrammar, RowState
from composer.model import ChoraleLSTM, ModelConfig
from composer.sample import sample_tokens
from composer.vocabulary import load_vocabulary
from composer.voice_leading import parallel_free

VOCABULARY = load_vocabulary()


def random_model() -> ChoraleLSTM:
    torch.manual_seed(0)
    return ChoraleLSTM(ModelConfig(len(VOCABULARY), 8, 16, 1)).eval()


def test_an_untrained_model_under_the_grammar_writes_well_formed_frames():
    streams = sample_tokens(
        random_model(), VOCABULARY, 6, temperature=1.0, seed=3, max_frames=30, min_frames=5
    )
    for tokens in streams:
        frames = split_frames(tokens)  # raises on any malformed frame
        assert len(frames) >= 5  # END is held back until min_frames
        previous = [None] * 4
        for _, voices in frames:
            for v, token in enumerate(voices):
                parsed = parse_note_token(token)
                if parsed and parsed[1]:
                    assert parsed[0] == previous[v], "a tie must continue the same pitch"
            previous = [p[0] if (p := parse_note_token(t)) else None for t in voices]
        assert not {"PAD", "START", "BLANK"} & set(tokens[1:])


def test_without_the_grammar_the_same_model_breaks_frames():
    streams = sample_tokens(
        random_model(), VOCABULARY, 6, temperature=1.0, seed=3, max_frames=30, grammar=False
    )
    broken = 0
    for tokens in streams:
        try:
            split_frames(tokens)
        except ValueError:
            broken += 1
    assert broken > 0


def reference_allowed(grammar: FrameGrammar, row: RowState, min_frames: int) -> torch.Tensor:
    """[V]: the grammar's rule as the batched sampler computed it before issue 22, per row."""
    slot = torch.tensor([row.slot])
    previous, current = torch.tensor([row.previous]), torch.tensor([row.current])
    at_frame_start, frame_full = (slot == 0)[:, None], (slot == 4)[:, None]
    held = previous.gather(1, slot.clamp(max=3)[:, None])  # [1, 1]
    tie_ok = ~grammar.tied[None, :] | (grammar.pitch[None, :] == held)
    voice_ok = grammar.voice[None, :] & ~frame_full & tie_ok
    if grammar.voice_leading:
        voice_ok &= parallel_free(grammar.pitch, held[:, 0], previous, current)
    opening = at_frame_start & ~torch.tensor([[row.fermata]])
    end_ok = grammar.is_end[None, :] & opening & (row.frames >= min_frames)
    fermata_ok = grammar.is_fermata[None, :] & opening
    if row.phase is not None:  # the metre rules: as Bach writes, at the row's bar phase
        bar_position = (row.phase + row.frames) % 16
        if bar_position == 0:  # a downbeat: no note is held over the bar line
            voice_ok &= ~grammar.tied[None, :]
        if bar_position % 8 != 0 and not row.fermata_before:  # a fermata begins on beat 1 or 3
            fermata_ok &= False
    frame_end_ok = grammar.is_frame_end[None, :] & frame_full
    return ((voice_ok | end_ok | fermata_ok | frame_end_ok) & ~grammar.never[None, :])[0]


def random_rows(rng: random.Random, count: int) -> list[RowState]:
    """Rows in states a stream can reach, with pitches close enough to make many perfect
    intervals (and rests) so that the voice-leading pairs come up often."""
    pitches = [-1, 48, 55, 60, 62, 67, 69, 72, 74, 79]
    rows = []
    for _ in range(count):
        slot = rng.randint(0, 4)
        current = [rng.choice(pitches) if v < slot else -1 for v in range(4)]
        previous = [rng.choice(pitches) for _ in range(4)]
        phase = rng.choice([None, 0, 4, 8, 12])
        rows.append(
            RowState(slot, rng.random() < 0.3, rng.randint(0, 6), previous, current, phase,
                     rng.random() < 0.3)
        )  # fmt: skip
    return rows


@pytest.mark.parametrize("voice_leading", [True, False])
def test_the_kept_masks_are_the_rule_computed_afresh(voice_leading):
    grammar = FrameGrammar(VOCABULARY, torch.device("cpu"), voice_leading)
    rows = random_rows(random.Random(0), 400)
    masks = grammar.masks(rows, min_frames=3)  # one batch of 400 rows
    for index, row in enumerate(rows):
        allowed = reference_allowed(grammar, row, 3)
        assert torch.equal(~masks.forbidden[index], allowed), row
        # A row's tie index names its one allowed tied token, or a token never allowed.
        tie = int(masks.tie_index[index]) if masks.tie_index is not None else grammar.pad
        assert allowed[tie] == bool((allowed & grammar.tied).any())
        assert int((allowed & grammar.tied).sum()) <= 1
    assert masks.end_possible == any(
        bool(reference_allowed(grammar, r, 3)[grammar.end]) for r in rows
    )
    # Alone, a row gets the same mask (the kept one, as a view).
    alone = grammar.masks(rows[:1], min_frames=3)
    assert torch.equal(alone.forbidden[0], masks.forbidden[0])


def test_rows_advance_through_a_frame():
    grammar = FrameGrammar(VOCABULARY, torch.device("cpu"))
    (row,) = grammar.start(1)
    tokens = ["(.)", "(72, False)", "(67, False)", "REST", "(48, False)", "|||", "(72, True)"]
    for token in tokens:
        grammar.advance([row], [VOCABULARY.id(token)])
    # The frame before lay under a fermata, which a fermata in this one may go on.
    assert row == RowState(1, False, 1, [72, 67, -1, 48], [72, -1, -1, -1], None, True)


def test_the_metre_rules_keep_fermatas_on_strong_beats_and_notes_inside_the_bar():
    model = random_model()  # an untrained model puts fermatas and ties anywhere
    phases = [0, 12, 8, 4, 12, 0]
    options = {"temperature": 1.0, "seed": 5, "min_frames": 40, "max_frames": 60}
    ruled = sample_tokens(
        model, VOCABULARY, 6, phases=phases, decoding=Decoding(metre_rules=True), **options
    )
    loose = sample_tokens(model, VOCABULARY, 6, phases=phases, **options)

    def counts(streams):
        held = off_beat = 0
        for tokens, phase in zip(streams, phases, strict=True):
            chorale = tokens_to_chorale(tokens)
            held += metre.ties_over_bar_lines(chorale, phase)[0]
            starts = metre.fermata_starts(chorale)
            off_beat += sum((phase + start) % 8 != 0 for start in starts)
        return held, off_beat

    assert counts(ruled) == (0, 0)
    held, off_beat = counts(loose)
    assert held > 0 and off_beat > 0  # without the rules the same model breaks both
    record = Decoding(metre_rules=True).record(0.8)["rules"]
    assert record["ties_over_bar_line"] == "forbidden" and "parallel_fifths" in record
