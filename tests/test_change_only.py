"""Sources that write only on change: usable while idle, still checked while discharging.

The rule (logic/freshness.py): while idle, a required source older than the staleness
limit stays usable when its value is valid and plausible and its integration is
loaded; while discharging, the export counter and the SOC must move as the discharge
implies. Missing, unavailable and invalid values keep blocking (bench.md section 6).
"""

from __future__ import annotations

from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.conftest import EXPORT, PV, SOC, register_unloaded_sources
from tests.discharge import async_call
from tests.resilience import ERROR, Rig, async_heal, async_setup_rig, state_of

pytestmark = pytest.mark.freeze_time("2026-06-15 12:00:00+01:00")

IDLE_SECONDS = 3600


async def _quiet_site(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    entry: MockConfigEntry,
    **site: Any,
) -> Rig:
    """Set up a site whose meters write only on change, then let an idle hour pass."""
    rig = await async_setup_rig(hass, freezer, entry, changes_only=True, **site)
    await rig.async_run(IDLE_SECONDS)
    return rig


async def test_change_only_sensors_start_and_export_within_allowance(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """After an idle hour without writes a start works, exports and stops in time."""
    rig = await _quiet_site(hass, freezer, config_entry, pv_kwh=4.1, export_kwh=2.6)
    assert state_of(hass, ERROR) != "stale_data"
    await async_call(hass, "start_discharge", power_kw=3.0)
    await rig.async_run(1800)
    assert rig.plant.breach_kwh == pytest.approx(0.0, abs=1e-9)
    assert rig.reasons == ("headroom_exhausted",)
    # 1.0 kWh of headroom: most of it exported.
    assert rig.plant.export_kwh > 3.3
    await async_heal(rig)


@pytest.mark.parametrize(
    ("entity_id", "state", "key"),
    [
        (SOC, "unavailable", "start_blocked_soc_read_failed"),
        (PV, "garbage", "start_blocked_pv_read_failed"),
        (EXPORT, "unknown", "start_blocked_export_read_failed"),
    ],
)
async def test_unavailable_or_invalid_quiet_source_blocks(
    hass: HomeAssistant,
    freezer: FrozenDateTimeFactory,
    config_entry: MockConfigEntry,
    entity_id: str,
    state: str,
    key: str,
) -> None:
    """A source that reads unavailable or invalid blocks, however long it stays so."""
    rig = await async_setup_rig(hass, freezer, config_entry, changes_only=True)
    rig.plant.frozen.add(entity_id)
    hass.states.async_set(entity_id, state)
    await rig.async_run(IDLE_SECONDS)
    with pytest.raises(ServiceValidationError) as err:
        await async_call(hass, "start_discharge", power_kw=3.0)
    assert err.value.translation_key == key
    await async_heal(rig)


async def test_quiet_source_of_an_unloaded_integration_is_stale(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """An old SOC whose integration is not loaded is stale, not quiet: no start."""
    register_unloaded_sources(hass, SOC)
    rig = await _quiet_site(hass, freezer, config_entry)
    with pytest.raises(ServiceValidationError) as err:
        await async_call(hass, "start_discharge", power_kw=3.0)
    assert err.value.translation_key == "start_blocked_stale_data"
    await async_heal(rig)


async def test_soc_that_never_moves_while_discharging_stops(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, config_entry: MockConfigEntry
) -> None:
    """A SOC that stands while 3 kW leaves the battery is stale: stop, no breach."""
    rig = await _quiet_site(hass, freezer, config_entry, pv_kwh=4.1, export_kwh=1.0)
    rig.plant.frozen.add(SOC)
    await async_call(hass, "start_discharge", power_kw=3.0)
    await rig.async_run(1200)
    assert rig.plant.breach_kwh == pytest.approx(0.0, abs=1e-9)
    assert rig.reasons == ("data_unsafe",)
    assert rig.seen_notices == {"stale_data"}
    await async_heal(rig)
