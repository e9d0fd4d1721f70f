"""Command-line flags from a settings dataclass (TrainConfig, FineTuneConfig): one per field, so
a new setting needs no new flag."""

from __future__ import annotations

import argparse
from dataclasses import fields


def add_config_flags(
    parser: argparse.ArgumentParser, config_class: type, choices: dict | None = None
) -> None:
    """``--hidden-size`` for ``hidden_size`` and so on, each with its default; a boolean gets
    ``--x`` / ``--no-x``, a field named in ``choices`` takes one of its values."""
    choices = choices or {}
    defaults = config_class()
    for field in fields(config_class):
        flag = "--" + field.name.replace("_", "-")
        default = getattr(defaults, field.name)
        if field.name in choices:
            parser.add_argument(flag, choices=choices[field.name], default=default)
            continue
        if isinstance(default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default)
            continue
        kind = {"max_minutes": float, "threads": int}.get(field.name, type(default))
        parser.add_argument(flag, type=kind, default=default, help=f"default {default}")
