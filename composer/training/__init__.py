"""Training the language model and fine-tuning it: the data (dataset), the epoch scaffold both
share (loop), training (train), fine-tuning (finetune) and the grid search (grid)."""
