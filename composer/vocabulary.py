"""The frozen token <-> id table of the encoding (:mod:`composer.encoding`).

Ids come from the committed ``composer/data/vocabulary.json`` (written once by ``prepare``), never
from the order data happens to arrive in, so checkpoints and the corpus agree on them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from composer.encoding import (
    DATA_DIR,
    REST,
    SPECIAL_TOKENS,
    EncodingError,
    is_voice_token,
    note_token,
    parse_note_token,
)

VOCABULARY_PATH = DATA_DIR / "vocabulary.json"


class Vocabulary:
    """A frozen token <-> id table. Ids come from the committed JSON, never from data order."""

    def __init__(self, tokens: Sequence[str]) -> None:
        if len(set(tokens)) != len(tokens):
            raise ValueError("vocabulary tokens must be distinct")
        self.tokens = list(tokens)
        self.ids = {t: i for i, t in enumerate(self.tokens)}

    @classmethod
    def build(cls, observed: Iterable[str]) -> Vocabulary:
        """Specials, ``REST``, then each pitch from the lowest to the highest seen, untied, tied."""
        midis = [p[0] for t in set(observed) if (p := parse_note_token(t)) is not None]
        if not midis:
            raise ValueError("no note tokens to build a vocabulary from")
        notes = [
            note_token(m, tied) for m in range(min(midis), max(midis) + 1) for tied in (False, True)
        ]
        return cls([*SPECIAL_TOKENS, REST, *notes])

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: str) -> bool:
        return token in self.ids

    def encode(self, tokens: Iterable[str]) -> list[int]:
        ids = []
        for i, token in enumerate(tokens):
            if token not in self.ids:
                raise EncodingError(f"token {i} ({token!r}) is not in the vocabulary")
            ids.append(self.ids[token])
        return ids

    def decode(self, ids: Iterable[int]) -> list[str]:
        try:
            return [self.tokens[i] for i in ids]
        except IndexError as error:
            raise EncodingError(f"id outside the vocabulary of {len(self)} tokens") from error

    def id(self, token: str) -> int:
        return self.ids[token]

    @property
    def note_ids(self) -> list[int]:
        """Ids of voice tokens (notes and REST): what may fill a BLANK."""
        return [i for i, t in enumerate(self.tokens) if is_voice_token(t)]

    def to_json(self) -> str:
        return json.dumps({"tokens": self.tokens}, indent=1) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Vocabulary:
        return cls(json.loads(text)["tokens"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.tokens == other.tokens


def load_vocabulary(path: Path = VOCABULARY_PATH) -> Vocabulary:
    """The committed vocabulary (``composer/data/vocabulary.json``)."""
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: run `python -m composer prepare`")
    return Vocabulary.from_json(path.read_text())
