"""Binding a shared C library with ctypes: the functions used, each with its C signature.

composer.render.synth (FluidSynth) and composer.render.mp3 (LAME) call their libraries in this
process; both bind them here, so a missing library or symbol becomes the caller's own error that
says what to install.
"""

from __future__ import annotations

import ctypes

# name -> (result type, *argument types), as in the library's header
Signatures = dict[str, tuple]


def bind(
    library: str, signatures: Signatures, error: type[Exception], name: str, install: str
) -> dict[str, ctypes._CFuncPtr]:
    """``signatures``' functions of ``library``, typed; ``error`` when the library cannot be
    loaded or lacks one of them, naming the library (``name``) and the ``install`` advice."""
    try:
        loaded = ctypes.CDLL(library)
        functions = {function: getattr(loaded, function) for function in signatures}
    except (OSError, AttributeError) as failure:
        raise error(
            f"the {name} library {library!r} could not be loaded ({failure}); install it {install}"
        ) from None
    for function, (result, *arguments) in signatures.items():
        functions[function].restype, functions[function].argtypes = result, arguments
    return functions
