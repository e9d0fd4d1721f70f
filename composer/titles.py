"""The title of a Bach chorale from music21's own lists, for the reveal after an answer.

The corpus files carry no titles (their metadata names only the file), but music21 ships two
tables that do: the Riemenschneider/Kalmus/BWV list of the chorales its iterator walks
(``ChoraleListRKBWV``, keyed by BWV number as text, e.g. ``"96.6"``, ``"69.6-a"``) and the list of
the separate chorales BWV 250–438 (``ChoraleList``). A chorale neither knows has no title ("").
"""

from __future__ import annotations

from functools import cache


@cache
def _titles() -> dict[str, str]:
    from music21.corpus.chorales import ChoraleList, ChoraleListRKBWV

    titles = {str(bwv): entry["title"] for bwv, entry in ChoraleList().byBWV.items()}
    for bwv, entry in ChoraleListRKBWV().byBWV.items():
        titles[str(bwv)] = entry["title"]
        # Variants ("-a", "-lz"…) share their number's title unless listed on their own.
        titles.setdefault(str(bwv).split("-")[0], entry["title"])
    return titles


def bwv_of(chorale_id: str) -> str:
    """``bwv96.6`` -> ``96.6``: the BWV number of a corpus id ("" for an id that is none)."""
    return chorale_id[3:] if chorale_id.lower().startswith("bwv") else ""


def chorale_title(chorale_id: str) -> str:
    """The chorale's title (its hymn's first line), or "" when music21 lists none for it."""
    number = bwv_of(chorale_id)
    if not number:
        return ""
    titles = _titles()
    return titles.get(number) or titles.get(number.split("-")[0], "")
