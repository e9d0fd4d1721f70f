"""Consent: the study as participants read it (its versions), who may take part, and
withdrawing from any device with a code."""
