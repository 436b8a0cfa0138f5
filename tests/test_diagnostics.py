"""Tests of the diagnostics download."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.export_monitor.const import (
    CONF_BATTERY_POWER_DISCHARGE_POSITIVE,
    CONF_FORECAST_TODAY_ENTITY,
    CONF_GRID_POWER_EXPORT_NEGATIVE,
)
from tests.conftest import BATTERY, GRID, base_options

pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00-07:00")


async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    snapshot: SnapshotAssertion,
) -> None:
    """The download holds options, settings, sources, snapshot and status, redacted."""
    assert (
        await get_diagnostics_for_config_entry(hass, hass_client, init_integration)
        == snapshot
    )


def signs(*, export_negative: bool, discharge_positive: bool) -> dict[str, Any]:
    """Return the full options with the two sign conventions set."""
    return {
        **base_options(),
        CONF_GRID_POWER_EXPORT_NEGATIVE: export_negative,
        CONF_BATTERY_POWER_DISCHARGE_POSITIVE: discharge_positive,
    }


@pytest.mark.parametrize(
    ("options", "grid", "battery", "readings", "derived"),
    [
        (
            signs(export_negative=True, discharge_positive=True),
            ("-2500", "W"),
            ("2600", "W"),
            (-2.5, 2.6),
            (2.5, 2.6),
        ),
        (
            signs(export_negative=False, discharge_positive=False),
            ("2.5", "kW"),
            ("-2.6", "kW"),
            (2.5, -2.6),
            (2.5, 2.6),
        ),
        (
            signs(export_negative=True, discharge_positive=True),
            ("1200", "W"),
            ("-0.5", "kW"),
            (1.2, -0.5),
            (-1.2, -0.5),
        ),
    ],
    ids=["watts_export_negative", "kilowatts_export_positive", "importing_charging"],
)
async def test_power_units_and_signs(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
    grid: tuple[str, str],
    battery: tuple[str, str],
    readings: tuple[float, float],
    derived: tuple[float, float],
) -> None:
    """Grid and battery power are read in kW and signed by the sign options."""
    hass.states.async_set(GRID, grid[0], {"unit_of_measurement": grid[1]})
    hass.states.async_set(BATTERY, battery[0], {"unit_of_measurement": battery[1]})
    await hass.async_block_till_done()

    data = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)

    assert (
        data["snapshot"]["readings"]["grid_power"]["value"],
        data["snapshot"]["readings"]["battery_power"]["value"],
    ) == pytest.approx(readings)
    assert (data["export_power_kw"], data["battery_discharge_kw"]) == pytest.approx(
        derived
    )


@pytest.mark.parametrize(
    "options",
    [{**base_options(), CONF_FORECAST_TODAY_ENTITY: "sensor.solar_forecast_today"}],
    ids=["forecast_never_created"],
)
async def test_missing_source(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    init_integration: MockConfigEntry,
) -> None:
    """A configured optional source that does not exist shows as missing."""
    data = await get_diagnostics_for_config_entry(hass, hass_client, init_integration)

    assert data["sources"]["forecast_today"] is None
    assert data["snapshot"]["readings"]["forecast_today"] == {
        "value": None,
        "problem": "missing",
        "reported_at": None,
        "age_seconds": None,
        "last_reset": None,
        "quiet": False,
    }
    assert data["health"] == "healthy"
