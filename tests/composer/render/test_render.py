"""composer.render: MIDI structure, excerpts, SVG, the command line and clear errors."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import mido
import pytest
from music21 import expressions, meter, note, stream, tie

from composer.__main__ import main
from composer.encoding import Chorale, Note, chorale_to_score, score_to_tokens
from composer.render import audio, excerpt
from composer.render.files import read_input
from composer.render.svg import score_to_svg
from tests.composer.render import stand_ins

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def bach() -> stream.Score:
    """bwv66.6 by the corpus recipe: 144 frames, fermatas ending at 16, 32, 48, 80, 116, 144."""
    return stand_ins.real_chorales(1)[0]


def _part(notes: list[tuple[int | None, float, str | None]], fermata_at: set[int] = frozenset()):
    """A 4/4 part from (midi or None for a rest, quarter length, tie type) triples."""
    part = stream.Part()
    part.insert(0, meter.TimeSignature("4/4"))
    offset = 0.0
    for i, (midi, length, tie_type) in enumerate(notes):
        element = note.Rest() if midi is None else note.Note(midi)
        element.quarterLength = length
        if tie_type:
            element.tie = tie.Tie(tie_type)
        if i in fermata_at:
            element.expressions.append(expressions.Fermata())
        part.insert(offset, element)
        offset += length
    return part.makeMeasures()


def small_score(fermatas: bool = True) -> stream.Score:
    """Two bars: S ties C5 across the barline, A repeats E4, T rests, B ends on a fermata."""
    at = {3} if fermatas else set()
    score = stream.Score()
    score.insert(0, _part([(72, 4, "start"), (72, 2, "stop"), (74, 2, None)]))
    score.insert(0, _part([(64, 2, None), (64, 2, None), (65, 4, None)]))
    score.insert(0, _part([(55, 1, None), (None, 3, None), (57, 4, None)]))
    score.insert(0, _part([(48, 2, None), (43, 2, None), (41, 2, None), (48, 2, None)], at))
    return score


def midi_file(score, directory: Path) -> mido.MidiFile:
    return mido.MidiFile(audio.write_midi(score, directory / audio.opaque_name(".mid")))


# --- MIDI ----------------------------------------------------------------------------------------


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


def test_it_renders_tokens_like_the_score_they_encode(bach):
    from_tokens = audio.score_to_midi(score_to_tokens(bach))
    from_score = audio.score_to_midi(bach)
    for a, b in zip(from_tokens.instruments, from_score.instruments, strict=True):
        assert [(n.pitch, n.start, n.end) for n in a.notes] == [
            (n.pitch, n.start, n.end) for n in b.notes
        ]


def test_it_rejects_a_score_without_four_parts():
    score = small_score()
    score.remove(score.parts[3])
    with pytest.raises(audio.RenderError, match="four parts"):
        audio.score_to_midi(score)


# --- excerpts ------------------------------------------------------------------------------------


def test_excerpt_ends_right_after_the_nearest_fermata(bach):
    cut, kept = excerpt.excerpt(bach, 64)
    assert kept == 48
    assert excerpt.score_frames(cut) == 48
    tokens = score_to_tokens(cut)
    assert tokens[-7:] == ["(.)", *tokens[-6:-2], "|||", "END"]  # the last frame: under (.)


def test_excerpt_cuts_exactly_when_no_fermata_is_near(bach):
    cut, kept = excerpt.excerpt(bach, 12)  # the first fermata ends at 16
    assert kept == 12 and excerpt.score_frames(cut) == 12
    cut, kept = excerpt.excerpt(bach, 64, prefer_fermata=False)
    assert kept == 64 and excerpt.score_frames(cut) == 64
    whole, kept = excerpt.excerpt(bach, 1000)
    assert kept == 144


def test_cut_to_frames_truncates_straddling_notes(bach):
    cut = excerpt.cut_to_frames(bach, 10)
    assert excerpt.score_frames(cut) == 10
    midi = audio.score_to_midi(cut)
    assert max(n.end for i in midi.instruments for n in i.notes) == pytest.approx(10 * 0.125)


def test_excerpt_pair_gives_two_clips_the_same_frames(bach):
    generated = stand_ins.generated_stand_in(1, phrases=4)  # fermatas end at 32, 64 ...
    a, b, kept = excerpt.excerpt_pair(bach, generated, 64)
    assert kept == 32  # the phrase end both share, not bach's own at 48
    assert excerpt.score_frames(a) == excerpt.score_frames(b) == 32


# --- SVG -----------------------------------------------------------------------------------------


def test_it_draws_svg_pages(bach):
    pages = score_to_svg(bach)
    assert pages and all(page.lstrip().startswith("<svg") for page in pages)
    assert 'class="measure"' in pages[0]


# --- names and errors ----------------------------------------------------------------------------


def test_opaque_names_are_random_and_say_nothing():
    names = {audio.opaque_name(".mp3") for _ in range(50)}
    assert len(names) == 50
    assert all(re.fullmatch(r"[0-9a-f]{32}\.mp3", n) for n in names)


def test_missing_fluidsynth_names_the_package(bach, tmp_path, monkeypatch):
    monkeypatch.setattr(audio, "FLUIDSYNTH", str(tmp_path / "no-fluidsynth"))
    with pytest.raises(audio.RenderError, match="apt-get install fluidsynth"):
        audio.render_mp3(bach, tmp_path)


def test_missing_soundfont_names_the_package(bach, tmp_path, monkeypatch):
    monkeypatch.setattr(audio, "SOUNDFONT", str(tmp_path / "missing.sf2"))
    with pytest.raises(audio.RenderError, match="apt-get install fluid-soundfont-gm"):
        audio.render_mp3(bach, tmp_path)


def test_missing_ffmpeg_names_the_package(tmp_path, monkeypatch):
    monkeypatch.setattr(audio, "FFMPEG", "no-such-ffmpeg")
    with pytest.raises(audio.RenderError, match="apt-get install ffmpeg"):
        audio.wav_to_mp3(tmp_path / "x.wav", tmp_path / "x.mp3")


def test_a_failing_program_gives_its_stderr_not_a_traceback(bach, tmp_path, monkeypatch):
    fake = tmp_path / "fluidsynth"
    fake.write_text("#!/bin/sh\necho 'synth exploded' >&2\nexit 3\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(audio, "FLUIDSYNTH", str(fake))
    with pytest.raises(audio.RenderError, match="(?s)exit status 3.*synth exploded"):
        audio.render_mp3(bach, tmp_path)


def test_a_soundfont_that_is_not_one_gives_a_clear_error(tmp_path, monkeypatch):
    bogus = tmp_path / "bogus.sf2"
    bogus.write_text("not a soundfont")
    monkeypatch.setattr(audio, "SOUNDFONT", str(bogus))
    with pytest.raises(audio.RenderError, match="not a SoundFont.*fluid-soundfont-gm"):
        audio.render_mp3(small_score(), tmp_path)


# --- command line --------------------------------------------------------------------------------


def test_cli_renders_a_token_file_to_midi_and_svg(bach, tmp_path, capsys):
    tokens = tmp_path / "chorale.tokens"
    tokens.write_text("\n".join(score_to_tokens(bach)) + "\n")
    assert main(["render", "--in", str(tokens), "--out", str(tmp_path / "c.mid")]) == 0
    assert mido.MidiFile(tmp_path / "c.mid").length == pytest.approx(18.0)
    assert main(["render", "--in", str(tmp_path / "c.mid"), "--out", str(tmp_path / "c.svg")]) == 0
    assert (tmp_path / "c.svg").read_text().lstrip().startswith("<svg")


@pytest.mark.parametrize(
    ("name", "out", "message"),
    [
        ("c.tokens", "x.ogg", "unknown output type '.ogg'"),
        ("c.abc", "x.mp3", "unknown input type '.abc'"),
        ("missing.tokens", "x.mp3", "does not exist"),
        ("bad.tokens", "x.mp3", "unknown token 'nonsense'"),
    ],
)
def test_cli_reports_bad_files_clearly(tmp_path, capsys, name, out, message):
    for file in ("c.tokens", "c.abc", "bad.tokens"):
        (tmp_path / file).write_text("nonsense\n")
    code = main(["render", "--in", str(tmp_path / name), "--out", str(tmp_path / out)])
    assert code == 1
    assert message in capsys.readouterr().err


def test_cli_environment_points_at_the_soundfont(bach, tmp_path):
    tokens = tmp_path / "chorale.tokens"
    tokens.write_text("\n".join(score_to_tokens(excerpt.cut_to_frames(bach, 16))) + "\n")
    result = subprocess.run(
        [sys.executable, "-m", "composer", "render", "--in", str(tokens), "--out", "x.mp3"],
        cwd=ROOT,
        env={**os.environ, "BACHBOT_SOUNDFONT": str(tmp_path / "gone.sf2")},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "apt-get install fluid-soundfont-gm" in result.stderr
    assert "Traceback" not in result.stderr


# --- audio ---------------------------------------------------------------------------------------


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


def test_cli_reads_back_its_own_midi_exactly(bach, tmp_path):
    path = audio.write_midi(bach, tmp_path / "c.mid")
    back = audio.score_to_midi(read_input(path))
    for a, b in zip(audio.score_to_midi(bach).instruments, back.instruments, strict=True):
        assert [(n.pitch, n.start, n.end) for n in a.notes] == [
            (n.pitch, n.start, n.end) for n in b.notes
        ]
