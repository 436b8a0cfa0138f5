"""The simulator is pure: no hass per test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: simulator tests need no hass instance."""
