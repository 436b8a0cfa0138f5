"""Wall-clock latency and load of the integration in a real Home Assistant (scripts/bench-load)."""
