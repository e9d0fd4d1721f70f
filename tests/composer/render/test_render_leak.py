"""The leak check: rendered real and generated chorales must not give their source away.

Three real chorales (through the corpus recipe) and three composed by the shipped checkpoint
(``stand_ins.model_samples``, temperature 0.8) are cut pairwise to the same frames and rendered
by the one path. Then, looking only at the files: same container, codec, rate, channels and
bitrate; no tags or encoder headers; loudness on target by ffmpeg's own meter; equal durations
for equal frames; opaque names.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from composer.render import audio, excerpt
from tests.composer.render import clip_probe, stand_ins

PAIRS = 3
PAIR_FRAMES = 64  # 8 s of music per clip: enough for the loudness meter, quick to render


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> list[tuple[Path, Path, int]]:
    """(real clip, generated clip, frames) for each pair."""
    out = tmp_path_factory.mktemp("clips")
    real = stand_ins.real_chorales(PAIRS)
    generated = stand_ins.model_samples(PAIRS)
    rendered = []
    for real_score, generated_score in zip(real, generated, strict=True):
        a, b, frames = excerpt.excerpt_pair(
            excerpt.read_chorale(real_score), excerpt.read_chorale(generated_score), PAIR_FRAMES
        )
        rendered.append((audio.render_mp3(a, out), audio.render_mp3(b, out), frames))
    return rendered


@pytest.fixture(scope="module")
def probes(clips) -> dict[Path, dict]:
    return {path: clip_probe.probe(path) for a, b, _ in clips for path in (a, b)}


def test_it_cut_real_and_generated_clips_of_each_pair_to_the_same_frames(clips):
    assert all(0 < frames <= PAIR_FRAMES for _, _, frames in clips)


@pytest.mark.parametrize("field", clip_probe.FIXED_FIELDS)
def test_every_clip_has_the_same_format(probes, field):
    assert len({str(info[field]) for info in probes.values()}) == 1, field


def test_the_format_is_the_documented_one(probes):
    info = next(iter(probes.values()))
    assert info["format_name"] == "mp3" and info["codec_name"] == "mp3"
    assert info["sample_rate"] == "44100" and info["channels"] == 2
    assert info["bit_rate"] == "128000"
    assert info["streams"] == 1


def test_no_clip_carries_tags_or_encoder_headers(probes):
    for path, info in probes.items():
        assert info["tags"] == {}, path
        assert clip_probe.header_markers(path) == [], path


def test_every_clip_is_at_the_loudness_target(probes):
    for path in probes:
        assert clip_probe.measure_loudness(path) == pytest.approx(
            audio.LOUDNESS_TARGET_LUFS, abs=0.5
        ), path


def test_clips_cut_to_the_same_frames_last_the_same_time(clips, probes):
    for real, generated, frames in clips:
        assert abs(probes[real]["duration"] - probes[generated]["duration"]) <= 0.05
        expected = frames * audio.SECONDS_PER_FRAME + audio.TAIL_S
        assert probes[real]["duration"] == pytest.approx(expected, abs=0.1)  # + MP3 padding


def test_clip_names_are_opaque(clips):
    for real, generated, _ in clips:
        for path in (real, generated):
            assert re.fullmatch(r"[0-9a-f]{32}\.mp3", path.name)


def test_the_leak_report_finds_nothing(probes):
    assert clip_probe.leak_report(list(probes)) == []


def test_rendering_is_deterministic(tmp_path):
    score = stand_ins.generated_stand_in(7, phrases=2)
    first = audio.render_mp3(score, tmp_path / "a.mp3").read_bytes()
    assert audio.render_mp3(score, tmp_path / "b.mp3").read_bytes() == first


def test_the_leak_report_would_see_a_tagged_file(clips, tmp_path):
    """Not a vacuous check: ffmpeg's defaults (ID3 tag, encoder name, Xing frame) are caught."""
    real, _, _ = clips[0]
    tagged = tmp_path / "tagged.mp3"
    subprocess.run(
        [audio.FFMPEG, "-v", "error", "-i", str(real), "-c", "copy", "-metadata", "title=BWV 66.6",
         str(tagged)],
        check=True,
    )  # fmt: skip
    problems = clip_probe.leak_report([real, tagged])
    assert any("tags" in p and "BWV 66.6" in p for p in problems)
    assert any("header markers" in p for p in problems)
