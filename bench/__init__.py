"""Benchmarks (`make bench`): each times the project beside a baseline in the same run and prints the ratio."""
