"""Harmonization: which voices are blanked (masks), the search that fills them (search), the
harmonizer's reader of the fixed voices (reader), and the scores against Bach (evaluation)."""
