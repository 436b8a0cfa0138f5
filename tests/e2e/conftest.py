"""End-to-end tests run in their own pytest session, without the Home Assistant plugin."""

from __future__ import annotations

from pathlib import Path
from typing import Final

import pytest

HERE: Final = Path(__file__).resolve().parent
HOW: Final = (
    "end-to-end tests need their own pytest session without the Home Assistant "
    "plugin: run scripts/test, or "
    ".venv/bin/pytest -p no:homeassistant --confcutdir=tests/e2e tests/e2e"
)


def pytest_collection_modifyitems(
    config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Skip these tests, saying how to run them, in a session with the HA plugin."""
    if not config.pluginmanager.has_plugin("homeassistant"):
        return
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.skip(reason=HOW))
