"""Daily counters must be plausible: impossible jumps and yesterday's totals are not trusted."""

from __future__ import annotations

from typing import Any, Final

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.export_monitor.const import DOMAIN
from tests.conftest import ENERGY_ATTRS, EXPORT, PV, async_setup_inverter, set_sources
from tests.discharge import async_call, async_settle
from tests.resilience import (
    ENTRY_ID,
    ERROR,
    async_heal,
    async_setup_rig,
    notices,
    state_of,
)

COUNTERS_KEY: Final = f"{DOMAIN}.{ENTRY_ID}.counters"
LONDON: Final = "Europe/London"


@pytest.fixture(autouse=True)
async def london(hass: HomeAssistant) -> None:
    """Run in Europe/London, where the frozen times are local."""
    await hass.config.async_set_time_zone(LONDON)


def jump_to(value: str) -> Any:
    """Return a meter fault that shows `value` whatever the site did."""
    return lambda _value, attributes: (value, attributes)


@pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")
@pytest.mark.parametrize(
    ("counter", "value", "reason"),
    [
        (PV, "40.000", "data_unsafe"),
        (PV, "5.500", "data_unsafe"),
        # The export counter shows the higher value it claims: beyond the allowance,
        # the breach detector stops it first.
        (EXPORT, "9.000", "allowance_exceeded"),
        (EXPORT, "3.000", "data_unsafe"),
    ],
    ids=["pv_to_40", "pv_up_1_4_kwh", "export_to_9", "export_up_0_4_kwh"],
)
async def test_counter_jump_up_is_held_as_unsafe(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    counter: str,
    value: str,
    reason: str,
) -> None:
    """A counter rising faster than PV or inverter can deliver stops the discharge (#6)."""
    rig = await async_setup_rig(hass, freezer, config_entry, pv_kwh=4.1, export_kwh=2.6)
    await async_call(hass, "start_discharge", power_kw=3.0)
    await rig.async_run(60)
    rig.plant.faults[counter] = jump_to(value)
    await rig.async_run(3600)
    assert rig.plant.breach_kwh == pytest.approx(0.0, abs=1e-9)
    assert rig.reasons[0] == reason
    assert state_of(hass, ERROR) == "implausible_counter"
    assert "implausible_counter" in notices(hass)
    with pytest.raises(ServiceValidationError) as err:
        await async_call(hass, "start_discharge")
    assert err.value.translation_key == "start_blocked_implausible_counter"
    await async_heal(rig)


async def _setup(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set up the monitor with the sources already written."""
    await async_setup_inverter(hass)
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await async_settle(hass)


def _stored(day: str, pv: float, export: float) -> dict[str, Any]:
    """Return a counter history stored on `day`."""
    return {
        "version": 1,
        "minor_version": 1,
        "key": COUNTERS_KEY,
        "data": {
            "pv_today": {"day": day, "last_good_kwh": pv, "reset_seen": True},
            "exported_today": {"day": day, "last_good_kwh": export, "reset_seen": True},
        },
    }


@pytest.mark.freeze_time("2026-06-17 00:10:00+01:00")
@pytest.mark.parametrize(
    "history",
    [None, _stored("2026-06-15", 20.0, 2.0), _stored("2026-06-10", 9.0, 1.0)],
    ids=["no_history", "two_days_old", "a_week_old"],
)
async def test_yesterdays_totals_are_not_taken_for_today(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    config_entry: MockConfigEntry,
    history: dict[str, Any] | None,
) -> None:
    """With no history, or one older than yesterday, un-reset totals block a start (#7)."""
    if history is not None:
        hass_storage[COUNTERS_KEY] = history
    set_sources(hass, pv="15", export="1.5")  # the 16th's totals, not reset yet
    await _setup(hass, config_entry)
    response = await async_call(hass, "calculate_discharge")
    assert response is not None
    assert response["can_start"] is False
    assert response["blockers"] == ["counter_not_reset"]
    assert state_of(hass, ERROR) == "counter_not_reset"
    with pytest.raises(ServiceValidationError) as err:
        await async_call(hass, "start_discharge")
    assert err.value.translation_key == "start_blocked_counter_not_reset"
    # The inverter resets its counters: today's figures are known again.
    set_sources(hass, pv="0", export="0")
    await async_settle(hass)
    response = await async_call(hass, "calculate_discharge")
    assert response is not None
    assert response["blockers"] != ["counter_not_reset"]
    assert state_of(hass, ERROR) != "counter_not_reset"


@pytest.mark.freeze_time("2026-06-17 09:00:00+01:00")
@pytest.mark.parametrize(
    ("last_reset", "expected"),
    [
        ("2026-06-16T00:00:00+01:00", "counter_not_reset"),
        ("2026-06-17T00:00:00+01:00", "none"),
    ],
    ids=["reset_yesterday", "reset_today"],
)
async def test_last_reset_attribute_is_used(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    last_reset: str,
    expected: str,
) -> None:
    """A counter's `last_reset` attribute says whether it counts today."""
    set_sources(hass, pv="6", export="1")
    hass.states.async_set(PV, "6", {**ENERGY_ATTRS, "last_reset": last_reset})
    await _setup(hass, config_entry)
    assert state_of(hass, ERROR) == expected
