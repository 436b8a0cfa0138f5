"""The pure core runs without Home Assistant: no hass per test."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the package-wide fixture: pure tests need no hass instance."""
