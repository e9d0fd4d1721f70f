"""composer.render.files: chorale files read back as they were written."""

from __future__ import annotations

from composer.render import audio
from composer.render.files import read_input


def test_it_reads_back_its_own_midi_exactly(bach, tmp_path):
    path = audio.write_midi(bach, tmp_path / "c.mid")
    back = audio.score_to_midi(read_input(path))
    for a, b in zip(audio.score_to_midi(bach).instruments, back.instruments, strict=True):
        assert [(n.pitch, n.start, n.end) for n in a.notes] == [
            (n.pitch, n.start, n.end) for n in b.notes
        ]
