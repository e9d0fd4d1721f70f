"""composer.titles: a chorale's title from music21's own lists."""

from composer.titles import chorale_title


def test_it_finds_titles_of_cantata_movements_and_separate_chorales() -> None:
    assert chorale_title("bwv96.6") == "Herr Christ, der ein’ge Gott’ssohn"
    assert chorale_title("bwv253") == "Ach bleib bei uns, Herr Jesu Christ"


def test_a_variant_takes_its_number_s_title() -> None:
    assert chorale_title("bwv18.5-lz") == chorale_title("bwv18.5") != ""


def test_it_names_nothing_it_does_not_know() -> None:
    assert chorale_title("bwv66.6") == ""  # music21 lists no title for it
    assert chorale_title("free") == ""
    assert chorale_title("") == ""
