"""Pure tests of what the flow asks and suggests for a profile's controls."""

from __future__ import annotations

from typing import Final

import pytest

from custom_components.export_monitor.profiles import DEFAULT_PROFILE, PROFILES
from custom_components.export_monitor.profiles.base import (
    Backstop,
    BackstopKind,
    Control,
    InverterProfile,
    Role,
)
from custom_components.export_monitor.profiles.suggest import (
    RegistryRow,
    is_required,
    suggest_controls,
    suggest_profile,
    suggested_values,
)
from tests.profiles.sample import VENDOR_INTEGRATION as VENDOR, VENDOR_PROFILE

TIMED_PROFILE: Final = InverterProfile(
    key="timed",
    controls=VENDOR_PROFILE.controls,
    start=VENDOR_PROFILE.start,
    stop_ladder=VENDOR_PROFILE.stop_ladder,
    backstop=Backstop(kind=BackstopKind.DURATION, max_s=3600),
)


def _row(entity_id: str, unique_id: str, device_id: str | None = "dev1") -> RegistryRow:
    """Return a registry row of the vendor integration."""
    return RegistryRow(
        entity_id=entity_id, platform=VENDOR, unique_id=unique_id, device_id=device_id
    )


@pytest.mark.parametrize(
    ("profile", "required"),
    [(VENDOR_PROFILE, True), (TIMED_PROFILE, False)],
    ids=["no_backstop_requires_cutoff", "timer_leaves_cutoff_optional"],
)
def test_cutoff_required_when_only_the_floor_bounds(
    profile: InverterProfile, required: bool
) -> None:
    """An optional cutoff becomes required when the profile needs the SOC floor."""
    cutoff = profile.control(Role.CUTOFF)
    assert cutoff is not None
    assert is_required(profile, cutoff) is required
    mode = profile.control(Role.MODE)
    assert mode is not None
    assert is_required(profile, mode)


def test_suggests_by_unique_id_or_entity_id_suffix() -> None:
    """Each control gets the integration's entity whose id ends with its suffix."""
    rows = [
        _row("sensor.inverter_battery_soc", "inv_battery_soc", "battery_device"),
        _row("select.inverter_work_mode", "INV_WORK_MODE"),
        _row("number.force_discharge_power", "register_41"),
    ]
    assert suggest_controls(VENDOR_PROFILE, rows) == {
        "device": "battery_device",
        "mode": "select.inverter_work_mode",
        "power": "number.force_discharge_power",
    }


@pytest.mark.parametrize(
    "row",
    [
        RegistryRow(
            entity_id="select.work_mode", platform="other", unique_id="work_mode"
        ),
        _row("sensor.inverter_work_mode", "inv_work_mode"),
        _row("select.inverter_work_mode_2", "inv_work_mode_2"),
    ],
    ids=["other_integration", "wrong_domain", "other_suffix"],
)
def test_no_suggestion_without_a_fitting_entity(row: RegistryRow) -> None:
    """An entity of another integration, domain or name is not suggested."""
    assert "mode" not in suggest_controls(VENDOR_PROFILE, [row])


def test_device_role_needs_a_device() -> None:
    """A matching entity without a device suggests no device."""
    rows = [_row("sensor.inverter_battery_soc", "inv_battery_soc", None)]
    assert suggest_controls(VENDOR_PROFILE, rows) == {}


def test_shortest_id_first() -> None:
    """With two inverters, the first one's (plain) entity is suggested."""
    rows = [
        _row("select.inverter_2_work_mode", "inv2_work_mode"),
        _row("select.inverter_work_mode", "inv_work_mode"),
    ]
    assert suggest_controls(VENDOR_PROFILE, rows)["mode"] == (
        "select.inverter_work_mode"
    )


@pytest.mark.parametrize(
    ("same_profile", "expected"),
    [
        (True, {"power": "number.mine"}),
        (False, {"power": "number.found", "mode": "select.found"}),
    ],
    ids=["same_profile_keeps_choice", "new_profile_takes_registry"],
)
def test_suggested_values(same_profile: bool, expected: dict[str, str]) -> None:
    """The stored choice wins for the same profile; the registry for a new one."""
    stored = {"power": "number.mine"}
    registry = {"power": "number.found", "mode": "select.found"}
    assert suggested_values(stored, same_profile, registry) == expected


def test_new_profile_keeps_a_choice_the_registry_cannot_fill() -> None:
    """A role the registry has nothing for keeps the old profile's entity."""
    stored = {"cutoff": "input_number.cutoff"}
    registry = {"power": "number.found"}
    assert suggested_values(stored, False, registry) == stored | registry


VENDOR_ROWS: Final = [
    _row("sensor.inverter_battery_soc", "inv_battery_soc", "battery_device"),
    _row("select.inverter_work_mode", "inv_work_mode"),
    _row("number.inverter_discharge_power", "inv_discharge_power"),
    _row("number.inverter_min_soc", "inv_min_soc"),
]


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (VENDOR_ROWS, "vendor"),
        ([VENDOR_ROWS[0], *VENDOR_ROWS[2:]], DEFAULT_PROFILE),
        ([], DEFAULT_PROFILE),
    ],
    ids=["vendor_found", "required_mode_missing", "nothing_found"],
)
def test_suggest_profile(rows: list[RegistryRow], expected: str) -> None:
    """A profile is suggested when its integration holds every required control."""
    profiles = {"generic": PROFILES[DEFAULT_PROFILE], "vendor": VENDOR_PROFILE}
    assert suggest_profile(profiles, rows, DEFAULT_PROFILE) == expected


def test_suggest_profile_without_profiles() -> None:
    """No profiles at all: the default."""
    assert suggest_profile({}, [], DEFAULT_PROFILE) == DEFAULT_PROFILE


def _vendor_row(control: Control) -> RegistryRow:
    """Return the registry row of a control's entity, on its integration's device."""
    domain = (control.domains or ("sensor",))[0]
    return RegistryRow(
        entity_id=f"{domain}.inverter_{control.suffix}".lower(),
        platform=str(control.integration),
        unique_id=f"serial_{control.suffix}",
        device_id=f"device_of_{control.integration}",
    )


@pytest.mark.parametrize("profile", PROFILES.values(), ids=PROFILES.keys())
def test_every_profile_suggests_each_control_its_own_entity(
    profile: InverterProfile,
) -> None:
    """In a registry with the integration's entities, every control finds its own."""
    rows = {
        c.role: _vendor_row(c) for c in profile.controls if c.integration and c.suffix
    }
    entities = {
        role.value: row.entity_id
        for role, row in rows.items()
        if role is not Role.DEVICE
    }
    # The device role: its integration's device, by its suffix or by the entities.
    devices = {
        c.role.value: f"device_of_{c.integration}"
        for c in profile.controls
        if c.role is Role.DEVICE and c.integration
    }
    assert suggest_controls(profile, rows.values()) == entities | devices


@pytest.mark.parametrize("profile", PROFILES.values(), ids=PROFILES.keys())
def test_every_profile_needing_the_floor_has_a_cutoff(
    profile: InverterProfile,
) -> None:
    """A profile bounded only by the SOC floor asks for a cutoff control."""
    assert not profile.needs_soc_floor or profile.control(Role.CUTOFF) is not None


SERVICE_PROFILE: Final = InverterProfile(
    key="service_only",
    controls=(
        Control(role=Role.DEVICE, domains=(), integration=VENDOR),
        Control(
            role=Role.STATUS,
            domains=("sensor",),
            integration=VENDOR,
            suffix="forcible_charge",
            required=False,
        ),
    ),
    start=(),
    stop_ladder=(),
)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        (
            [_row("sensor.batteries_forcible_charge", "x_forcible_charge", "bat")],
            {"device": "bat", "status": "sensor.batteries_forcible_charge"},
        ),
        (
            [_row("sensor.batteries_forcible_charge", "x_forcible_charge", None)],
            {"status": "sensor.batteries_forcible_charge"},
        ),
        ([], {}),
    ],
    ids=["device_of_status", "status_without_device", "nothing"],
)
def test_device_without_suffix_is_the_other_controls_device(
    rows: list[RegistryRow], expected: dict[str, str]
) -> None:
    """A device role with no suffix takes the device its profile's entities live on."""
    assert suggest_controls(SERVICE_PROFILE, rows) == expected
