"""Benchmarks of Kvit's parts; run each module with `python -m kvit.benchmarks.<name>`."""
