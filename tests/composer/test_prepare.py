"""``python -m composer prepare``: outputs, statistics, plots and the cache."""

from __future__ import annotations

import json
import time

import pytest

from composer.cli.prepare import add_arguments, run
from composer.prepare import prepare


@pytest.mark.slow
def test_prepare_writes_the_dataset_report_and_plots_and_then_reads_its_cache(tmp_path, capsys):
    started = time.monotonic()
    cold = prepare(tmp_path, quiet=True)
    cold_seconds = time.monotonic() - started
    for name in ("tokens.json", "exclusions.json", "stats.json", "manifest.json"):
        assert (tmp_path / name).exists()
    for name in ("pitch_class_histogram.png", "pitch_distribution.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["chorales"] == len(cold.tokens) > 310
    assert stats["tokens"] == sum(len(t) for t in cold.tokens.values())
    assert stats["excluded"] == len(cold.exclusions)
    assert all(t[0] == "START" and t[-1] == "END" for t in cold.tokens.values())

    started = time.monotonic()
    cached = prepare(tmp_path, quiet=True)
    assert time.monotonic() - started < cold_seconds / 5
    assert cached.tokens == cold.tokens

    import argparse

    parser = argparse.ArgumentParser()
    add_arguments(parser, "prepare")
    assert run(parser.parse_args(["--out", str(tmp_path)])) == 0
    out = capsys.readouterr().out
    assert f"kept {stats['chorales']} chorales, excluded {stats['excluded']}" in out
    assert "bwv269: not in 4/4" in out
