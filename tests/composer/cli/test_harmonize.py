"""``python -m composer harmonize`` and ``eval-harmonization``."""

from __future__ import annotations

import json

from composer.__main__ import main
from tests.composer.tiny import short


def test_cli_eval_harmonization_prints_json(tiny_checkpoint, chorales, monkeypatch, capsys):
    from composer.cli import harmonize as cli_harmonize

    subset = {"x": short(chorales[0], 16)}
    monkeypatch.setattr(cli_harmonize, "validation_chorales", lambda limit: subset)
    argv = ["eval-harmonization", "--checkpoint", str(tiny_checkpoint), "--json"]
    assert main([*argv, "--method", "beam", "--beam-width", "2", "--masks", "B,AT"]) == 0
    table = json.loads(capsys.readouterr().out)
    assert set(table) == {"B", "AT"}
    assert set(table["B"]) >= {"token_error_rate", "frame_error_rate", "mean_logprob"}


def test_cli_eval_harmonization_bootstrap_prints_intervals(
    tiny_checkpoint, chorales, monkeypatch, capsys
):
    from composer.cli import harmonize as cli_harmonize

    subset = {str(i): short(chorales[i], 16) for i in range(3)}
    monkeypatch.setattr(cli_harmonize, "validation_chorales", lambda limit: subset)
    argv = ["eval-harmonization", "--checkpoint", str(tiny_checkpoint), "--masks", "T"]
    assert main([*argv, "--bootstrap", "200"]) == 0
    row = capsys.readouterr().out.splitlines()[1]
    assert row.startswith("T ") and row.count("–") == 3  # three figures with their intervals
    assert main([*argv, "--bootstrap", "-1"]) == 2
    assert "--bootstrap must be 0 or more" in capsys.readouterr().err
    monkeypatch.setattr(cli_harmonize, "validation_chorales", lambda limit: {"x": subset["0"]})
    assert main([*argv, "--bootstrap", "100"]) == 2
    assert "at least two" in capsys.readouterr().err


def test_cli_harmonize_writes_musicxml_and_midi(tiny_checkpoint, tmp_path, capsys):
    from music21 import converter

    for name in ("out.musicxml", "out.mid"):
        out = tmp_path / name
        argv = ["harmonize", "--melody", "fixtures/twinkle.txt", "--out", str(out)]
        assert main([*argv, "--checkpoint", str(tiny_checkpoint), "--beam-width", "2"]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert summary["key"] == "C major" and summary["frames"] == 192
        score = converter.parse(out)
        assert [p.partName for p in score.parts] == ["Soprano", "Alto", "Tenor", "Bass"]


def test_cli_harmonize_reports_a_bad_melody_without_a_traceback(tiny_checkpoint, tmp_path, capsys):
    melody = tmp_path / "bad.txt"
    melody.write_text("C5:0.5\n")
    argv = ["harmonize", "--melody", str(melody), "--out", str(tmp_path / "o.mid")]
    assert main([*argv, "--checkpoint", str(tiny_checkpoint)]) == 2
    assert "shorter than a beat" in capsys.readouterr().err
    argv = ["harmonize", "--melody", "fixtures/twinkle.txt", "--out", str(tmp_path / "o.pdf")]
    assert main([*argv, "--checkpoint", str(tiny_checkpoint)]) == 2
    assert "cannot write .pdf" in capsys.readouterr().err
