"""Benchmarks: each prints a table and writes a JSON result to bench/results/."""
