"""End-to-end tests: scripts/develop, a real Home Assistant and a real browser."""
