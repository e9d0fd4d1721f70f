"""Harmonization: fill the blank voices of a chorale under fixed ones (SPEC §5).

The input is a token stream in the encoding (``START``, frames, ``END``) in which the voice tokens
to fill are ``BLANK`` (see :func:`composer.harmonization.masks.mask_tokens`); everything else (fixed
notes, ``(.)``, ``|||``) is kept exactly. :func:`harmonize` returns the completed stream and its
log-probability. The model is a language model (BachBot's way: it sees only what came before) or a
:class:`composer.harmonization.reader.Harmonizer`, the language model times a reader of the fixed
voices on both sides of each frame; a length-aware language model is told the piece's (known)
length.

Scoring. ``log_prob`` is the model's log-probability of the *whole* resulting stream: the sum of
``log p(token_t | tokens_<t)`` over every token after ``START``, fixed ones included, each under
the full softmax over the vocabulary (never renormalised over the allowed tokens). Greedy, beam
and Bach's own stream (:func:`stream_log_prob`) are so scored on one scale, and a constraint can
never make a stream look likelier than the model thinks it is.

Choosing. At a ``BLANK`` only voice tokens (notes and ``REST``) may be chosen: every other
token's logit is −inf (BachBot set them to 0, which let them win whenever the notes scored below
0). ``greedy`` takes the argmax at each blank, left to right, as BachBot did. ``beam`` keeps the
``width`` best partial streams by cumulative log-probability, so a choice can be revised when a
later fixed note makes it unlikely. All beams advance together: each run of fixed tokens between
two blanks is one LSTM call on a [k, m] batch (single steps through ``torch.lstm_cell``, see
:func:`_stepper`), and the beams' hidden states are reordered at each selection.

Beam ≥ greedy. Beam search can drop the greedy path, so ``beam`` also follows it, as one more
row of the same batch that never competes for a beam slot, and returns the better of the two
(ties go to the beam). Every result is rescored in one pass over the finished stream, the figure
reported, so a beam result is never below the greedy result of the same input; the one loophole
would be two candidates tied to within float rounding at a blank, which the batched greedy row
could break differently from a lone greedy run.

Constraints (on by default): :mod:`composer.harmonization.rules`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from composer.conditioning import stream_length_features
from composer.encoding import (
    BLANK,
    FRAME_END,
    PAD,
)
from composer.harmonization.masks import HarmonizationError, frame_layout
from composer.harmonization.reader import Harmonizer, frame_batch
from composer.harmonization.rules import Rules
from composer.model import ChoraleLSTM, Hidden
from composer.vocabulary import Vocabulary

METHODS = ("greedy", "beam")


@dataclass(frozen=True)
class Harmonization:
    tokens: list[str]
    log_prob: float  # natural log, summed over every token after START

    @property
    def log_prob_per_token(self) -> float:
        return self.log_prob / max(1, len(self.tokens) - 1)


# --- search ------------------------------------------------------------------------------------

Step = Callable[[torch.Tensor, Hidden | None, int], tuple[torch.Tensor, Hidden]]


def _stepper(
    model: ChoraleLSTM, condition: torch.Tensor | None = None, bias: torch.Tensor | None = None
) -> Step:
    """``step(ids [R, m], hidden, start)``: the model on the stream's positions start..start+m-1.

    ``condition`` [n, C] holds the features of every position of the stream (the length
    features), the same for every beam; ``bias`` [n, V] is added to the logits of each position
    (the harmonizer's reader, see composer.harmonization.reader). Short inputs run through
    ``torch.lstm_cell``: the same weights and maths as ``ChoraleLSTM.forward`` in eval mode (a
    test checks they agree), but several times faster for one token on the CPU, where
    ``nn.LSTM`` pays a large fixed cost per call. Long inputs, or an unexpected layer shape, go
    through the model itself.
    """

    def features(rows: int, start: int, length: int) -> torch.Tensor | None:
        if condition is None:
            return None
        return condition[start : start + length].expand(rows, -1, -1)  # [R, m, C]

    def whole(ids: torch.Tensor, hidden: Hidden | None, start: int) -> tuple[torch.Tensor, Hidden]:
        return model(ids, hidden, features(ids.size(0), start, ids.size(1)))

    if bias is not None:
        plain = _stepper(model, condition)

        def biased(
            ids: torch.Tensor, hidden: Hidden | None, start: int
        ) -> tuple[torch.Tensor, Hidden]:
            logits, hidden = plain(ids, hidden, start)
            return logits + bias[start : start + ids.size(1)], hidden

        return biased
    layers = list(model.layers)
    if not all(
        isinstance(m, nn.LSTM) and m.num_layers == 1 and m.bias and not m.bidirectional
        for m in layers
    ) or any(getattr(m, "proj_size", 0) for m in layers):
        return whole
    weights = [(m.weight_ih_l0, m.weight_hh_l0, m.bias_ih_l0, m.bias_hh_l0) for m in layers]
    weights[0] = (model.first_layer_input_weight(), *weights[0][1:])  # condition's included

    def step(ids: torch.Tensor, hidden: Hidden | None, start: int) -> tuple[torch.Tensor, Hidden]:
        if hidden is None or ids.size(1) > 4:
            return whole(ids, hidden, start)
        x = model.embed(ids, features(ids.size(0), start, ids.size(1)))  # [R, m, E + C]
        h, c = list(hidden[0].unbind(0)), list(hidden[1].unbind(0))  # L x [R, H]
        outputs = []
        for t in range(ids.size(1)):
            out = x[:, t]  # [R, E + C]
            for i, (w, norm) in enumerate(zip(weights, model.norms, strict=True)):
                h[i], c[i] = torch.lstm_cell(out, (h[i], c[i]), *w)
                out = norm(h[i])  # dropout is the identity in eval mode
            outputs.append(out)
        return model.head(torch.stack(outputs, dim=1)), (torch.stack(h), torch.stack(c))

    return step


def _search(
    step: Step, template: torch.Tensor, rules: Rules, blank_id: int, width: int, guard: bool
) -> list[torch.Tensor]:
    """Beam search of ``width`` (1 is greedy) over ``template`` [n] ids.

    Returns the best path's ids [n]; with ``guard``, also the greedy path, followed in the same
    batch as one more row (the last) that never competes for a beam slot.
    """
    n = template.numel()
    blanks = (template == blank_id).nonzero().flatten().tolist()
    chosen = template[None].repeat(1 + guard, 1)  # [R, n]: beams (+ guard), blanks filled in
    scores = torch.zeros(chosen.size(0), dtype=torch.float64, device=template.device)  # [R]
    hidden = None
    start = 0
    for stop in [*blanks, n - 1]:
        # Feed positions start..stop-1 (the last chosen blank, then fixed tokens): the logits
        # predict positions start+1..stop. [R, m] -> [R, m, V]
        logits, hidden = step(chosen[:, start:stop], hidden, start)
        log_probs = torch.log_softmax(logits, dim=-1)
        fixed = template[start + 1 : stop + (stop == n - 1)]  # known targets, END included
        if fixed.numel():
            targets = fixed[None, :, None].expand(chosen.size(0), -1, 1)
            picked = log_probs[:, : fixed.numel()].gather(2, targets)  # [R, m', 1]
            scores = scores + picked.double().sum(dim=(1, 2))
        if stop == n - 1:
            break
        masked = log_probs[:, -1].masked_fill(~rules.allowed(chosen, stop), float("-inf"))
        vocab_size = masked.size(1)
        beams = chosen.size(0) - guard
        total = (scores[:beams, None] + masked[:beams].double()).flatten()  # [beams * V]
        best, flat = total.topk(min(width, total.numel()))
        keep = torch.isfinite(best)  # fewer allowed candidates than beams
        best, flat = best[keep], flat[keep]
        parents, tokens = flat // vocab_size, flat % vocab_size
        if guard:
            token = masked[-1].argmax()
            parents = torch.cat([parents, parents.new_tensor([beams])])
            tokens = torch.cat([tokens, token[None]])
            best = torch.cat([best, scores[-1:] + masked[-1, token].double()])
        chosen = chosen[parents]
        chosen[:, stop] = tokens
        hidden = (hidden[0][:, parents], hidden[1][:, parents])  # each [L, R, H]
        scores = best
        start = stop
    paths = [chosen[int(scores[: chosen.size(0) - guard].argmax())]]
    return [*paths, chosen[-1]] if guard else paths


def _log_prob(
    model: ChoraleLSTM,
    ids: torch.Tensor,
    condition: torch.Tensor | None,
    bias: torch.Tensor | None = None,
) -> float:
    """Log-probability of the ids [n] after the first, in one pass (the one scale we report)."""
    return float(_token_log_probs(model, ids, condition, bias).double().sum())


def _token_log_probs(
    model: ChoraleLSTM,
    ids: torch.Tensor,
    condition: torch.Tensor | None,
    bias: torch.Tensor | None = None,
) -> torch.Tensor:
    """Teacher-forced log-probability of each id [n] after the first: [n-1]."""
    features = None if condition is None else condition[None, :-1]  # [1, n-1, C]
    logits, _ = model(ids[None, :-1], None, features)  # [1, n-1, V]
    if bias is not None:
        logits = logits + bias[None, :-1]
    log_probs = torch.log_softmax(logits[0], dim=-1)  # [n-1, V]
    return log_probs.gather(1, ids[1:, None])[:, 0]


def harmonize(
    model: ChoraleLSTM | Harmonizer,
    vocab: Vocabulary,
    masked_tokens: Sequence[str],
    method: str = "greedy",
    beam_width: int = 5,
    constraints: bool = True,
    voice_leading: bool = True,
) -> Harmonization:
    """Fill every ``BLANK`` of ``masked_tokens``; see the module doc for scoring and choices."""
    if method not in METHODS:
        raise HarmonizationError(f"unknown method {method!r}: use one of {', '.join(METHODS)}")
    if beam_width < 1:
        raise HarmonizationError(f"beam width must be at least 1, got {beam_width}")
    decoder = model.decoder if isinstance(model, Harmonizer) else model
    if decoder.config.vocab_size != len(vocab):
        raise HarmonizationError(
            f"the model has {decoder.config.vocab_size} outputs, the vocabulary {len(vocab)} tokens"
        )
    layout = frame_layout(masked_tokens)
    slots = [masked_tokens[p] for frame in layout for p in frame]
    if BLANK not in slots:
        raise HarmonizationError("no voice is blank: mask at least one voice (mask_tokens)")
    if all(t == BLANK for t in slots):
        raise HarmonizationError("every voice is blank: keep at least one voice fixed")
    device = next(model.parameters()).device
    rules = Rules(vocab, masked_tokens, layout, constraints, device, voice_leading)
    template = torch.tensor(vocab.encode(masked_tokens), device=device)
    width = beam_width if method == "beam" else 1
    with _decoding(model):
        condition, bias = _inputs(model, vocab, template, layout)
        # Beam search can drop the greedy path: follow it alongside (guard) and keep the better.
        # Both are rescored in one pass each, as greedy's own result is, so that beam >= greedy
        # holds exactly whenever the guard row retraces greedy's path.
        paths = _search(
            _stepper(decoder, condition, bias), template, rules, vocab.id(BLANK), width, width > 1
        )
        if len(paths) == 2 and torch.equal(paths[0], paths[1]):
            paths = paths[:1]  # the beam's best is the greedy path: one rescoring will do
        scored = [
            (_log_prob(decoder, ids, condition, bias), -i, ids) for i, ids in enumerate(paths)
        ]
        log_prob, _, ids = max(scored, key=lambda s: s[:2])
    return Harmonization(vocab.decode(ids.tolist()), log_prob)


def stream_log_prob(
    model: ChoraleLSTM | Harmonizer,
    vocab: Vocabulary,
    tokens: Sequence[str],
    masked_tokens: Sequence[str] | None = None,
) -> float:
    """Log-probability of a complete stream (every token after the first), as harmonize scores.

    A harmonizer scores it as the filling of ``masked_tokens`` (required for one).
    """
    ids = torch.tensor(vocab.encode(tokens), device=next(model.parameters()).device)
    decoder = model.decoder if isinstance(model, Harmonizer) else model
    if isinstance(model, Harmonizer) and masked_tokens is None:
        raise HarmonizationError("a harmonizer scores a stream against its masked input")
    with _decoding(model):
        masked = tokens if masked_tokens is None else masked_tokens
        template = torch.tensor(vocab.encode(masked), device=ids.device)
        condition, bias = _inputs(model, vocab, template, frame_layout(masked))
        return _log_prob(decoder, ids, condition, bias)


def masked_log_prob(
    model: ChoraleLSTM | Harmonizer,
    vocab: Vocabulary,
    tokens: Sequence[str],
    masked_tokens: Sequence[str],
) -> float:
    """Teacher-forced log-probability of Bach's tokens in the blanked slots of ``masked_tokens``
    only, each given Bach's own stream before it: the model's quality apart from the search."""
    ids = torch.tensor(vocab.encode(tokens), device=next(model.parameters()).device)
    decoder = model.decoder if isinstance(model, Harmonizer) else model
    with _decoding(model):
        template = torch.tensor(vocab.encode(masked_tokens), device=ids.device)
        condition, bias = _inputs(model, vocab, template, frame_layout(masked_tokens))
        per_token = _token_log_probs(decoder, ids, condition, bias)  # [n-1]: ids[1:]
        blank = template[1:] == vocab.id(BLANK)  # [n-1]
        return float(per_token[blank].double().sum())


def _inputs(
    model: ChoraleLSTM | Harmonizer,
    vocab: Vocabulary,
    template: torch.Tensor,
    layout: list[list[int]],
) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """What the decoder gets beside the masked stream ``template`` [n]: (features [n, C] or None,
    bias [n, V] or None).

    The length-aware language model's features: how far through the (known) length of the piece
    each position is. The harmonizer's bias: its reader's weighted log-probabilities for each
    blank, from the fixed voices on both sides.
    """
    frame_end = vocab.id(FRAME_END)
    if isinstance(model, Harmonizer):
        frames = frame_batch([template.tolist()], [layout], vocab, template.device)
        return None, model.bias(template[None], frames, [layout], vocab.id(BLANK))[0]
    if model.config.condition_dim:
        return stream_length_features(template[None], frame_end, vocab.id(PAD))[0], None
    return None, None


@contextmanager
def _decoding(model: ChoraleLSTM) -> Iterator[None]:
    """Eval mode, no autograd, and one CPU thread, each restored afterwards.

    One thread because decoding runs thousands of tiny steps ([k, 512] x [512, 1024]): a second
    thread gains nothing, and when another process keeps a core busy, OpenMP's threads wait on
    each other at every step (measured: 1.5 s became 25 s for a 16-bar melody, beam 5).
    """
    was_training, threads = model.training, torch.get_num_threads()
    model.eval()
    torch.set_num_threads(1)
    try:
        with torch.inference_mode():
            yield
    finally:
        torch.set_num_threads(threads)
        model.train(was_training)
