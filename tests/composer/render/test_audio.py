"""composer.render.audio: MIDI structure, audio of the fixed length, opaque names, clear errors."""

from __future__ import annotations

import re
import stat
from pathlib import Path

import mido
import pytest

from composer import paths
from composer.encoding import Chorale, Note, chorale_to_score, score_to_tokens, tokens_to_chorale
from composer.render import audio, mp3, programs, synth
from tests.composer.render.stand_ins import small_score


def midi_file(score, directory: Path) -> mido.MidiFile:
    return mido.MidiFile(audio.write_midi(score, directory / paths.opaque_name(".mid")))


def test_it_writes_four_voices_on_one_program_with_one_velocity(bach):
    midi = audio.score_to_midi(bach)
    assert len(midi.instruments) == 4
    assert {i.program for i in midi.instruments} == {audio.PROGRAM}
    assert not any(i.is_drum for i in midi.instruments)
    assert {n.velocity for i in midi.instruments for n in i.notes} == {audio.VELOCITY}
    assert [i.name for i in midi.instruments] == ["", "", "", ""]


def test_it_writes_no_names_text_or_other_metadata(bach, tmp_path):
    path = audio.write_midi(bach, tmp_path / "x.mid")
    file = mido.MidiFile(path)
    meta = {m.type for track in file.tracks for m in track if m.is_meta}
    assert meta <= {"set_tempo", "time_signature", "end_of_track"}
    channels = [{m.channel for m in track if not m.is_meta} for track in file.tracks[1:]]
    assert channels == [{0}, {1}, {2}, {3}]  # one channel per voice: unisons do not cut off
    tempos = [m.tempo for track in file.tracks for m in track if m.type == "set_tempo"]
    assert tempos == [500_000]  # 120 BPM, once
    assert file.length == pytest.approx(144 * 0.125)


def test_it_merges_tied_notes_and_separates_repeated_ones():
    midi = audio.score_to_midi(small_score())
    soprano, alto, tenor, bass = (i.notes for i in midi.instruments)
    assert [(n.pitch, n.start, n.end) for n in soprano] == [(72, 0, 3.0), (74, 3.0, 4.0)]
    assert [n.pitch for n in alto] == [64, 64, 65]
    assert alto[0].end == pytest.approx(1.0 - audio.REARTICULATION_GAP_S, abs=0.002)
    assert alto[1].start == pytest.approx(1.0)
    assert [(n.pitch, n.start) for n in tenor] == [(55, 0), (57, 2.0)]  # the rest is silence


def test_it_does_not_lengthen_fermatas(tmp_path):
    with_fermatas = midi_file(small_score(True), tmp_path)
    without = midi_file(small_score(False), tmp_path)
    assert [list(t) for t in with_fermatas.tracks] == [list(t) for t in without.tracks]
    assert with_fermatas.length == pytest.approx(32 * 0.125)


def test_its_midi_length_counts_trailing_rests(tmp_path):
    voices = tuple((Note(0, 8, 60 + v),) for v in range(4))
    score = chorale_to_score(Chorale(voices, 16))  # a half-bar rest at the end of every voice
    assert midi_file(score, tmp_path).length == pytest.approx(16 * 0.125)


def test_it_renders_tokens_and_frames_like_the_score_they_encode(bach):
    tokens = score_to_tokens(bach)
    from_score = audio.score_to_midi(bach)
    for other in (audio.score_to_midi(tokens), audio.score_to_midi(tokens_to_chorale(tokens))):
        for a, b in zip(other.instruments, from_score.instruments, strict=True):
            assert [(n.pitch, n.start, n.end) for n in a.notes] == [
                (n.pitch, n.start, n.end) for n in b.notes
            ]


def test_it_rejects_a_score_without_four_parts():
    score = small_score()
    score.remove(score.parts[3])
    with pytest.raises(audio.RenderError, match="four parts"):
        audio.score_to_midi(score)


def test_opaque_names_are_random_and_say_nothing():
    names = {paths.opaque_name(".mp3") for _ in range(50)}
    assert len(names) == 50
    assert all(re.fullmatch(r"[0-9a-f]{32}\.mp3", n) for n in names)


def test_missing_fluidsynth_names_the_package(bach, tmp_path, monkeypatch):
    monkeypatch.setattr(synth, "FLUIDSYNTH_LIBRARY", str(tmp_path / "libfluidsynth.so.3"))
    with pytest.raises(audio.RenderError, match="apt-get install fluidsynth"):
        audio.render_mp3(bach, tmp_path)


def test_missing_fluidsynth_program_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setattr(audio, "FLUIDSYNTH", str(tmp_path / "no-fluidsynth"))
    with pytest.raises(audio.RenderError, match="apt-get install fluidsynth"):
        programs.synthesize(audio.write_midi(small_score(), tmp_path / "x.mid"))


def test_missing_lame_names_the_package(bach, tmp_path, monkeypatch):
    monkeypatch.setattr(mp3, "LAME_LIBRARY", str(tmp_path / "libmp3lame.so.0"))
    with pytest.raises(audio.RenderError, match="apt-get install libmp3lame0"):
        audio.render_mp3(bach, tmp_path)


def test_missing_soundfont_names_the_package(bach, tmp_path, monkeypatch):
    monkeypatch.setattr(audio, "SOUNDFONT", str(tmp_path / "missing.sf2"))
    with pytest.raises(audio.RenderError, match="apt-get install fluid-soundfont-gm"):
        audio.render_mp3(bach, tmp_path)


def test_missing_ffmpeg_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setattr(audio, "FFMPEG", "no-such-ffmpeg")
    with pytest.raises(audio.RenderError, match="apt-get install ffmpeg"):
        programs.wav_to_mp3(tmp_path / "x.wav", tmp_path / "x.mp3")


def test_a_failing_program_gives_its_stderr_not_a_traceback(tmp_path, monkeypatch):
    fake = tmp_path / "fluidsynth"
    fake.write_text("#!/bin/sh\necho 'synth exploded' >&2\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(audio, "FLUIDSYNTH", str(fake))
    with pytest.raises(audio.RenderError, match="(?s)exit status 3.*synth exploded"):
        programs.synthesize(audio.write_midi(small_score(), tmp_path / "x.mid"))


def test_a_soundfont_that_is_not_one_gives_a_clear_error(tmp_path, monkeypatch):
    bogus = tmp_path / "bogus.sf2"
    bogus.write_text("not a soundfont")
    monkeypatch.setattr(audio, "SOUNDFONT", str(bogus))
    with pytest.raises(audio.RenderError, match="not a SoundFont.*fluid-soundfont-gm"):
        audio.render_mp3(small_score(), tmp_path)


def test_it_renders_a_wav_of_the_fixed_length(tmp_path):
    from scipy.io import wavfile

    path = audio.render_wav(small_score(), tmp_path)
    assert re.fullmatch(r"[0-9a-f]{32}\.wav", path.name)
    rate, samples = wavfile.read(path)
    assert rate == audio.SAMPLE_RATE and samples.shape == (5 * 44100, 2)  # 4 s of music + tail
    assert abs(samples[-100:]).max() < 1e-3  # faded out


def test_silent_audio_is_an_error_not_a_division_by_zero():
    import numpy as np

    with pytest.raises(audio.RenderError, match="silent"):
        audio.finish_audio(np.zeros((44100, 2), dtype=np.float32), 1.0)
