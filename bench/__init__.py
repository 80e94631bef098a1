"""Kindred's benchmarks: cost, scale, cold start and load (see bench/README.md)."""
