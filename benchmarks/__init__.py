"""Benchmark commands: ``python -m benchmarks.<name> [--shared PATH]``; results in ``benchmarks/RESULTS.md``."""
