"""The machine judge: can a classifier that sees only the notes tell Bach from the network?
Features of an excerpt's notes (features), and a cross-validated judge over them (verdict)."""
