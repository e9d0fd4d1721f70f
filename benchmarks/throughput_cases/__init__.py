"""Cases of ``benchmarks/throughput.py``: each measures the project against a bare baseline, side
by side in one process, and returns its figures with the ratio."""
