"""The ``python -m composer`` commands, one module each: they parse arguments and call library
code (``add_arguments(parser, command)`` and ``run(args) -> int``; composer.__main__ dispatches)."""
