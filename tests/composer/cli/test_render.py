"""``python -m composer render``: files in, files out, errors without a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mido
import pytest

from composer.__main__ import main
from composer.encoding import chorale_to_tokens, score_to_tokens
from composer.render import excerpt

ROOT = Path(__file__).resolve().parents[3]


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
    tokens.write_text(
        "\n".join(chorale_to_tokens(excerpt.cut_chorale(excerpt.read_chorale(bach), 16))) + "\n"
    )
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
