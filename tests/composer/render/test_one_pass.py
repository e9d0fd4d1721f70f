"""The one-pass MP3 (FluidSynth's and LAME's libraries in process) against the tools it replaces:
the same samples as the fluidsynth program, the same bytes as ffmpeg, the loudness on target by
ffmpeg's own decoder, and the same bytes whatever was rendered before, in any thread or process."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from composer.encoding import Chorale, score_to_tokens, tokens_to_chorale, transpose_chorale
from composer.pairing import window_chorale
from composer.render import audio, mp3, programs
from composer.render.loudness import integrated_loudness
from tests.composer.render import stand_ins

AIM = audio.LOUDNESS_TARGET_LUFS + audio.MP3_LOUDNESS_LOSS_DB


@pytest.fixture(scope="module")
def clips() -> list[Chorale]:
    """A real excerpt and a stand-in one, moved to other keys, of odd lengths (an odd number of
    frames puts the end half a sample off the grid)."""
    real = tokens_to_chorale(score_to_tokens(stand_ins.real_chorales(1)[0]))
    fake = tokens_to_chorale(score_to_tokens(stand_ins.generated_stand_in(5)))
    return [
        transpose_chorale(window_chorale(real, 16, 77), 3),
        transpose_chorale(window_chorale(fake, 0, 64), -4),
    ]


def tool_chain_mp3(chorale: Chorale, folder: Path) -> bytes:
    """What render_mp3 did before: the fluidsynth program, a WAV file, ffmpeg to MP3 and back."""
    midi = audio.write_midi(chorale, folder / "clip.mid")
    music_s = chorale.frames * audio.SECONDS_PER_FRAME
    finished = audio.finish_audio(programs.synthesize(midi), music_s, target_lufs=AIM)
    wav, out = folder / "clip.wav", folder / "clip.mp3"
    for _ in range(audio.MAX_LOUDNESS_PASSES):
        wavfile.write(wav, audio.SAMPLE_RATE, finished)
        programs.wav_to_mp3(wav, out)
        error = audio.LOUDNESS_TARGET_LUFS - integrated_loudness(
            programs.decode_mp3(out), audio.SAMPLE_RATE
        )
        if abs(error) <= audio.LOUDNESS_TOLERANCE_DB:
            return out.read_bytes()
        finished *= np.float32(10 ** (error / 20))
    raise AssertionError("the tool chain missed the loudness target")


def test_the_synthesizer_gives_the_programs_samples(clips, tmp_path):
    for chorale in clips:
        samples, music_s = audio.synthesize_chorale(chorale)
        cli = programs.synthesize(audio.write_midi(chorale, tmp_path / "clip.mid"))
        assert music_s == chorale.frames * audio.SECONDS_PER_FRAME
        assert samples.shape == (round((music_s + audio.TAIL_S) * audio.SAMPLE_RATE), 2)
        assert np.array_equal(samples, cli[: len(samples)])


def test_the_encoder_writes_ffmpegs_bytes(clips, tmp_path):
    finished = audio.finish_audio(*audio.synthesize_chorale(clips[0]), target_lufs=AIM)
    wavfile.write(tmp_path / "clip.wav", audio.SAMPLE_RATE, finished)
    by_ffmpeg = programs.wav_to_mp3(tmp_path / "clip.wav", tmp_path / "clip.mp3").read_bytes()
    assert mp3.encode(finished, audio.SAMPLE_RATE, audio.MP3_KBPS, audio.LAME_QUALITY) == by_ffmpeg


def test_the_one_pass_mp3_is_the_tool_chains_byte_for_byte(clips, tmp_path):
    for chorale in clips:
        rendered = audio.render_mp3(chorale, tmp_path / "one-pass.mp3").read_bytes()
        assert rendered == tool_chain_mp3(chorale, tmp_path)


def test_the_decoder_agrees_with_ffmpegs(clips, tmp_path):
    path = audio.render_mp3(clips[1], tmp_path / "clip.mp3")
    ours, theirs = mp3.decode(path.read_bytes()), programs.decode_mp3(path)
    assert ours.shape == theirs.shape
    assert integrated_loudness(ours, audio.SAMPLE_RATE) == pytest.approx(
        integrated_loudness(theirs, audio.SAMPLE_RATE), abs=0.001
    )
    assert np.abs(ours - theirs).max() < 1e-3  # 16-bit output against ffmpeg's float


def test_the_mp3_is_on_target_by_ffmpegs_meter(clips, tmp_path):
    for chorale in clips:
        samples = programs.decode_mp3(audio.render_mp3(chorale, tmp_path / "clip.mp3"))
        assert integrated_loudness(samples, audio.SAMPLE_RATE) == pytest.approx(
            audio.LOUDNESS_TARGET_LUFS, abs=audio.LOUDNESS_TOLERANCE_DB
        )


def test_a_clip_does_not_depend_on_what_was_rendered_before(clips, tmp_path):
    first = audio.render_mp3(clips[0], tmp_path / "a.mp3").read_bytes()
    audio.render_mp3(clips[1], tmp_path / "b.mp3")  # reverb, voices and samples in between
    assert audio.render_mp3(clips[0], tmp_path / "c.mp3").read_bytes() == first


def test_it_renders_the_same_in_another_thread(clips, tmp_path):
    here = audio.render_mp3(clips[0], tmp_path / "here.mp3").read_bytes()
    with ThreadPoolExecutor(2) as pool:
        targets = [tmp_path / "t1.mp3", tmp_path / "t2.mp3"]
        paths = pool.map(audio.render_mp3, clips[:1] * 2, targets)
        assert [path.read_bytes() for path in paths] == [here, here]


def _render_in_child(chorale: Chorale, path: Path) -> None:
    audio.render_mp3(chorale, path)


def test_a_forked_worker_renders_the_same(clips, tmp_path):
    """Celery's prefork workers fork after the parent may have loaded the soundfont."""
    here = audio.render_mp3(clips[0], tmp_path / "parent.mp3").read_bytes()
    child = multiprocessing.get_context("fork").Process(
        target=_render_in_child, args=(clips[0], tmp_path / "child.mp3")
    )
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert (tmp_path / "child.mp3").read_bytes() == here


def test_an_encoder_refuses_mono(tmp_path):
    with pytest.raises(mp3.Mp3Error, match="stereo"):
        mp3.encode(np.zeros(100, dtype=np.float32), audio.SAMPLE_RATE, 128, 5)


def test_garbage_is_not_an_mp3():
    with pytest.raises(mp3.Mp3Error):
        mp3.decode(b"not an mp3 at all" * 100)
