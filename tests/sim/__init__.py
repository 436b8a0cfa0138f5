"""Tests of the simulated plant used by the benchmark and scripts/develop."""
