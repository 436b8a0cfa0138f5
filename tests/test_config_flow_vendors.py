"""The config flow accepts every simulated vendor integration's controls as they are."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any, Final
from unittest.mock import AsyncMock, patch

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest

from custom_components.export_monitor import profiles
from custom_components.export_monitor.const import (
    CONF_CONTROLS,
    CONF_EXPORT_ENERGY_TODAY_ENTITY,
    CONF_PROFILE,
    CONF_PV_ENERGY_TODAY_ENTITY,
    CONF_SOC_ENTITY,
    DOMAIN,
)
from custom_components.export_monitor.profiles import PROFILES
from tests.vendors import SIMS

SOURCES: Final[dict[str, tuple[str, str, dict[str, Any]]]] = {
    CONF_SOC_ENTITY: ("sensor.flow_soc", "80", {"unit_of_measurement": "%"}),
    CONF_PV_ENERGY_TODAY_ENTITY: (
        "sensor.flow_pv_today",
        "12.5",
        {"unit_of_measurement": "kWh"},
    ),
    CONF_EXPORT_ENERGY_TODAY_ENTITY: (
        "sensor.flow_export_today",
        "3.2",
        {"unit_of_measurement": "kWh"},
    ),
}


@pytest.fixture(autouse=True)
def offer_every_profile() -> Generator[None]:
    """Offer every profile in the setup: the flow must work for any profile once offered."""
    with patch.object(profiles, "OFFERED", frozenset(PROFILES)):
        yield


@pytest.fixture(autouse=True)
def mock_setup_entry() -> Generator[AsyncMock]:
    """Stand in for the integration's setup, so only the flow runs."""
    with patch(
        "custom_components.export_monitor.async_setup_entry", return_value=True
    ) as mock:
        yield mock


@pytest.mark.parametrize("key", PROFILES, ids=PROFILES.keys())
async def test_flow_accepts_the_simulated_vendor(
    hass: HomeAssistant, mock_setup_entry: AsyncMock, key: str
) -> None:
    """Each profile's controls, as its simulated integration offers them, pass every check."""
    sim = SIMS[key](hass=hass)
    await sim.async_setup()
    for entity_id, state, attributes in SOURCES.values():
        hass.states.async_set(entity_id, state, attributes)
    roles = set(PROFILES[key].roles)
    controls = {role: value for role, value in sim.controls.items() if role in roles}

    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    sources = {field: entity_id for field, (entity_id, *_) in SOURCES.items()}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], sources)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_PROFILE: key}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], controls)
    assert (result["step_id"], result["errors"]) == ("limits", {})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["options"][CONF_CONTROLS] == controls
    await hass.async_block_till_done()
    assert len(mock_setup_entry.mock_calls) == 1
