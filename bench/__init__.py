"""Side-by-side benchmark: the integration in a real Home Assistant against the baseline."""
