"""``python -m composer COMMAND``: prepare, train, evaluate, grid, finetune, sample, harmonize,
eval-harmonization, render.

Each subcommand lives in its own module of composer/cli/; this file only wires the command line,
importing a module when its command runs so that ``prepare`` does not pay for torch.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

# command -> module with ``add_arguments(parser)`` and ``run(args) -> int``
COMMANDS = {
    "prepare": ("composer.cli.prepare", "encode the corpus, write the split, statistics and plots"),
    "train": ("composer.cli.train", "train the LSTM"),
    "evaluate": ("composer.cli.train", "validation loss of a checkpoint, as JSON"),
    "grid": ("composer.cli.train", "grid search over model settings"),
    "finetune": ("composer.cli.finetune", "fine-tune into the length-aware composer or harmonizer"),
    "sample": ("composer.cli.sample", "compose new chorales"),
    "harmonize": ("composer.cli.harmonize", "harmonize a melody"),
    "eval-harmonization": ("composer.cli.harmonize", "re-harmonize validation chorales"),
    "render": ("composer.cli.render", "render tokens or a score to MIDI, audio or SVG"),
    "judge": ("composer.cli.judge", "can a classifier on the notes tell the network from Bach?"),
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog="python -m composer", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    if not argv or argv[0] not in COMMANDS:
        parser.parse_args(argv)  # prints usage / the unknown-command error and exits
    name = argv[0]
    module = importlib.import_module(COMMANDS[name][0])
    command_parser = argparse.ArgumentParser(
        prog=f"python -m composer {name}", description=COMMANDS[name][1]
    )
    module.add_arguments(command_parser, name)
    args = command_parser.parse_args(argv[1:])
    args.command = name
    started = time.monotonic()
    code = module.run(args)
    print(f"[{name}] {time.monotonic() - started:.1f} s", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
