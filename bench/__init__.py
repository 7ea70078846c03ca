"""Benchmarks: the original design against pixie (`python -m bench`)."""
