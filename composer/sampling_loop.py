"""The token-by-token loop of free sampling: step the network, mask, draw, keep the books.

Everything per token that does not need a tensor stays in Python: the grammar's state
(:mod:`composer.grammar`, whose masks are built once per state key), each row's frame count and
whether it is done, the streams themselves. The tensors per token are the network's step
(:class:`composer.stepping.Stepper`), the condition when a frame changes, and the draw
(:func:`composer.decoding.draw`), with one transfer of the drawn ids to Python.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from composer.conditioning import StepConditions
from composer.decoding import Decoding, draw
from composer.encoding import END, FRAME_END, START, parse_note_token
from composer.grammar import FrameGrammar
from composer.stepping import Stepper
from composer.vocabulary import Vocabulary


class SamplingLoop:
    def __init__(
        self,
        vocabulary: Vocabulary,
        rules: FrameGrammar | None,
        conditions: StepConditions | None,
        temperature: float,
        decoding: Decoding,
        generator: torch.Generator,
        phases: list[int] | None = None,
    ) -> None:
        self.rules, self.conditions, self.phases = rules, conditions, phases
        self.temperature, self.decoding, self.generator = temperature, decoding, generator
        self.start, self.end = vocabulary.id(START), vocabulary.id(END)
        self.frame_end = vocabulary.id(FRAME_END)
        # [V] bool: the tokens that hold a voice's note from the frame before.
        parsed = [parse_note_token(t) for t in vocabulary.tokens]
        self.tied = torch.tensor([bool(p and p[1]) for p in parsed], device=generator.device)

    def run(
        self,
        stepper: Stepper,
        n: int,
        min_frames: int,
        max_frames: int,
        on_end: Callable[[int, list[int]], bool] | None = None,
    ) -> list[list[int]]:
        """``n`` rows of ids from START until every row has drawn END or passed ``max_frames``
        (rows go on drawing until the last is done, as a batch does).

        ``on_end(row, ids)`` hears of each row the moment it ends (rows ending on one step in
        row order); when it returns True the loop stops there, the rows still going left
        unfinished. Stopping draws nothing differently: the rows heard are token for token those
        of a run to the end."""
        rules = self.rules
        # Enough tokens for max_frames + 1 frames of (.) S A T B |||, then the stream is cut.
        max_tokens = (max_frames + 1) * 6 + 1
        current = torch.full((n, 1), self.start, dtype=torch.long, device=self.tied.device)
        streams = [[self.start] for _ in range(n)]
        frames = [0] * n  # the |||s so far: the frame the next token belongs to
        done = [False] * n
        state = rules.start(n, self.phases) if rules is not None else None
        for _ in range(max_tokens):
            condition = None if self.conditions is None else self.conditions.at(frames)
            logits = stepper.step(current, condition)  # [n, V]
            masks = rules.masks(state, min_frames) if rules is not None else None
            current = draw(
                logits,
                masks,
                temperature=self.temperature,
                decoding=self.decoding,
                end=self.end,
                tied=self.tied,
                generator=self.generator,
            )  # [n, 1]
            chosen = current[:, 0].tolist()
            if rules is not None:
                rules.advance(state, chosen)
            ended = []
            for row, token in enumerate(chosen):
                streams[row].append(token)
                frames[row] += token == self.frame_end
                if not done[row] and (token == self.end or frames[row] > max_frames):
                    done[row] = True
                    ended.append(row)
            if on_end is not None and any(on_end(row, streams[row]) for row in ended):
                break
            if all(done):
                break
        return streams
