"""Token windows for training: nothing musical lives here except a transposition of ids.

Chorales are concatenated (each already wrapped in START ... END) into one stream, the stream is
cut into ``batch_size`` contiguous rows, and rows are read ``seq_len`` tokens at a time. The LSTM
state is carried from one window to the next of the same row (truncated backpropagation through
time), as in torch-rnn and pytorch/examples' word_language_model.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

import torch

from composer.encoding import note_token, parse_note_token
from composer.vocabulary import Vocabulary


def transposition_table(vocabulary: Vocabulary, semitones: int) -> list[int | None]:
    """id -> id of the token moved by ``semitones``; None where a note leaves the vocabulary."""
    table: list[int | None] = []
    for token in vocabulary.tokens:
        parsed = parse_note_token(token)
        moved = token if parsed is None else note_token(parsed[0] + semitones, parsed[1])
        table.append(vocabulary.id(moved) if moved in vocabulary else None)
    return table


def transpose_ids(ids: list[int], table: list[int | None]) -> list[int] | None:
    """The chorale moved by a :func:`transposition_table`, or None if a pitch would leave it."""
    moved = [table[i] for i in ids]
    return None if None in moved else moved


def batchify(stream: Sequence[int], batch_size: int) -> torch.Tensor:
    """[N] ids -> [batch_size, N // batch_size]: contiguous rows, the remainder dropped."""
    data = torch.tensor(stream, dtype=torch.long)
    length = len(data) // batch_size
    if length < 2:
        raise ValueError(f"{len(data)} tokens are too few for a batch of {batch_size} rows")
    return data[: length * batch_size].view(batch_size, length)


def windows(rows: torch.Tensor, seq_len: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """(input [B, T], target [B, T]) windows over the rows, target shifted by one token."""
    for start in range(0, rows.size(1) - 1, seq_len):
        end = min(start + seq_len, rows.size(1) - 1)
        yield rows[:, start:end], rows[:, start + 1 : end + 1]


def epoch_stream(
    chorales: Sequence[list[int]],
    vocabulary: Vocabulary,
    rng: random.Random,
    transpose: int = 0,
) -> list[int]:
    """One epoch's token stream: chorales shuffled, each moved by a random shift in ±transpose."""
    # One lookup table per shift, built once per epoch: the chorales are then moved by indexing.
    tables = {
        shift: transposition_table(vocabulary, shift) for shift in range(-transpose, transpose + 1)
    }
    order = list(range(len(chorales)))
    rng.shuffle(order)
    stream: list[int] = []
    for index in order:
        ids = chorales[index]
        if transpose:
            shifted = transpose_ids(ids, tables[rng.randint(-transpose, transpose)])
            ids = shifted if shifted is not None else ids
        stream.extend(ids)
    return stream
