"""Seeded samples pinned: the shipped composers give, token for token, what they gave before the
sampler was made fast (issue 22). The streams in ``tests/fixtures/sampling_pins.json`` were written
by ``sample_tokens`` as it stood at commit 92d4a45 (one ``model(...)`` call a token, the grammar's
masks built per token); ``python tests/composer/test_sampling_pins.py`` writes them anew, which is
only right when a change is meant to alter what is drawn."""

from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # run as a script to rewrite the pins

from composer import checkpoint, paths  # noqa: E402
from composer.decoding import Decoding  # noqa: E402
from composer.sample import sample_tokens  # noqa: E402

PINS = ROOT / "tests" / "fixtures" / "sampling_pins.json"
SHORT = {"min_frames": 4, "max_frames": 24}  # a few frames a piece keeps the test fast

# name -> (checkpoint file, sample_tokens arguments, Decoding arguments)
CASES: dict[str, tuple[str, dict, dict]] = {
    # generate_batch's setting: the shipped composer, one piece, its length drawn with the seed.
    "composer_alone_drawn_length": (
        "bachbot_length.pt",
        {"n": 1, "seed": 7, "temperature": 0.8, "min_frames": 96, "max_frames": 140},
        {},
    ),
    "composer_alone": (
        "bachbot_length.pt",
        {"n": 1, "seed": 3, "temperature": 0.8, "lengths": [18], **SHORT},
        {},
    ),
    "composer_three": (
        "bachbot_length.pt",
        {"n": 3, "seed": 5, "temperature": 0.8, "lengths": [14, 18, 22], **SHORT},
        {},
    ),
    "composer_nucleus": (
        "bachbot_length.pt",
        {"n": 3, "seed": 11, "temperature": 0.9, "lengths": [16, 20, 24], **SHORT},
        {"top_p": 0.9},
    ),
    "composer_one_temperature": (
        "bachbot_length.pt",
        {"n": 2, "seed": 13, "temperature": 1.0, "lengths": [16, 22], **SHORT},
        {"hold_temperature": None},
    ),
    "composer_alone_one_temperature_nucleus": (
        "bachbot_length.pt",
        {"n": 1, "seed": 19, "temperature": 0.7, "lengths": [20], **SHORT},
        {"hold_temperature": None, "top_p": 0.8},
    ),
    "composer_without_voice_leading": (
        "bachbot_length.pt",
        {"n": 2, "seed": 17, "temperature": 0.8, "lengths": [16, 22], **SHORT},
        {"voice_leading": False},
    ),
    "composer_without_grammar": (
        "bachbot_length.pt",
        {"n": 2, "seed": 23, "temperature": 0.8, "lengths": [16, 22], "grammar": False, **SHORT},
        {},
    ),
    "composer_batch": (
        "bachbot_length.pt",
        {
            "n": 16,
            "seed": 29,
            "temperature": 0.8,
            "lengths": [12] * 16,
            "min_frames": 2,
            "max_frames": 16,
        },
        {},
    ),
    "language_model": (
        "bachbot.pt",
        {"n": 2, "seed": 31, "temperature": 0.8, **SHORT},
        {},
    ),
    "language_model_alone": (
        "bachbot.pt",
        {"n": 1, "seed": 37, "temperature": 0.8, **SHORT},
        {},
    ),
    "metre_composer": (
        "bachbot_metre.pt",
        {"n": 2, "seed": 41, "temperature": 0.8, "lengths": [15, 24], "phases": [0, 12], **SHORT},
        {},
    ),
}


@cache
def _model(name: str):
    model, vocabulary, _ = checkpoint.load(paths.CHECKPOINTS_DIR / name)
    return model, vocabulary


def draw_case(name: str) -> list[list[str]]:
    checkpoint_name, arguments, decoding = CASES[name]
    model, vocabulary = _model(checkpoint_name)
    return sample_tokens(model, vocabulary, decoding=Decoding(**decoding), **arguments)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    # Pinned on one thread, as the speed is measured; restored for the tests after these.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("name", sorted(CASES))
def test_it_draws_the_pinned_tokens(name):
    pinned = json.loads(PINS.read_text())[name]
    assert draw_case(name) == pinned


def test_the_pins_cover_both_endings():
    # Pieces that close with END and pieces cut at max_frames: both paths of the loop are pinned.
    streams = [s for pins in json.loads(PINS.read_text()).values() for s in pins]
    assert any(s[-1] == "END" for s in streams)
    assert any(s[-1] != "END" for s in streams)


if __name__ == "__main__":
    torch.set_num_threads(1)
    PINS.write_text(json.dumps({name: draw_case(name) for name in CASES}, indent=0) + "\n")
    print(f"wrote {PINS}")
