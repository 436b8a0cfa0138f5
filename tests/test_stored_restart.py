"""A session store this version cannot read, found after a restart mid-discharge."""

from __future__ import annotations

from typing import Any, Final

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.export_monitor.controller import session_store_key
from tests.discharge import ENTRY_ID
from tests.resilience import async_crash_and_restart, async_heal, notices
from tests.test_floor_restart import RESTART_NOTICE, SIMULATED, async_started

pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00+01:00", tick=True)

KEY: Final = session_store_key(ENTRY_ID)


@pytest.mark.parametrize("inverter", list(SIMULATED))
async def test_an_unreadable_session_after_a_restart_is_stopped(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
    inverter: str,
) -> None:
    """A crash mid-discharge, then a downgrade: what runs is stopped, the user told.

    Fox ESS's watchdog falls back to Feed-in First, which reads as not running: only
    the session stored says that it may export.
    """
    rig = await async_started(hass, freezer, config_entry, inverter)

    def _downgrade() -> None:
        """Leave the session as a newer version would have stored it."""
        hass_storage[KEY]["version"] = 2

    await async_crash_and_restart(rig, _downgrade)
    await rig.async_run(120)
    assert "Ignoring a discharge session stored by a newer version" in caplog.text
    assert rig.reasons == ("restart",)
    assert not rig.plant.running
    assert RESTART_NOTICE in notices(hass)
    assert rig.plant.breach_kwh == 0.0
    await async_heal(rig)
