"""Sensors: health, allowance, headroom, export and the discharge plan."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, override

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory, UnitOfEnergy, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .entity import ExportMonitorEntity
from .logic.breaker import BreakerState
from .logic.errors import ErrorState, SystemHealth
from .logic.history import History
from .logic.readings import ReadingProblem
from .logic.snapshot import Source
from .logic.status import DischargeStatus, MonitorView
from .models import ExportMonitorConfigEntry

PARALLEL_UPDATES = 0

type SensorValue = str | float | datetime | None


@dataclass(frozen=True, kw_only=True)
class ExportMonitorSensorEntityDescription(SensorEntityDescription):
    """Describes an export monitor sensor."""

    value_fn: Callable[[MonitorView], SensorValue]
    available_fn: Callable[[MonitorView], bool] = lambda _: True
    attributes_fn: Callable[[MonitorView], Mapping[str, Any]] | None = None
    # Ages (new with every read): refreshed with the heartbeat or with a change of
    # anything else the sensor shows, not written for every source update.
    age_attributes: frozenset[str] = frozenset()
    value_is_age: bool = False


@dataclass(frozen=True, kw_only=True)
class ExportMonitorHistorySensorEntityDescription(SensorEntityDescription):
    """Describes a sensor showing a figure of the compliance history."""

    value_fn: Callable[[History], SensorValue]


def _breaker_state(view: MonitorView) -> str:
    """Return "open" while either breaker refuses or is half-open, else "closed"."""
    return BreakerState.OPEN if view.breaker_open else BreakerState.CLOSED


def _last_failure(view: MonitorView) -> datetime | None:
    """Return the latest failure either breaker saw."""
    times = [
        t
        for t in (
            view.read_breaker.last_failure_time,
            view.action_breaker.last_failure_time,
        )
        if t is not None
    ]
    return max(times) if times else None


def _health_attributes(view: MonitorView) -> Mapping[str, Any]:
    """Return the system health sensor's attributes."""
    return {
        "error_state": view.error_state.value,
        "data_age_seconds": view.snapshot.data_age_seconds,
        "circuit_breaker_failures": view.breaker_failures,
        "discharge_active": view.controller.active,
    }


def _breaker_attributes(view: MonitorView) -> Mapping[str, Any]:
    """Return the breaker sensor's attributes."""
    return {
        "failure_count": view.breaker_failures,
        "last_failure_time": _last_failure(view),
        "can_attempt": view.action_breaker.can_attempt(view.now),
        "read_failures": view.read_breaker.failure_count,
        "action_failures": view.action_breaker.failure_count,
    }


# A held counter value after a glitch is a true lower bound of today's export;
# a stale value or yesterday's total (not reset yet) is not today's figure.
_NOT_SHOWN: Final = frozenset({ReadingProblem.STALE, ReadingProblem.NOT_RESET})


def _exported_today(view: MonitorView) -> float | None:
    """Return today's export for display, including a held counter value."""
    reading = view.snapshot.readings.get(Source.EXPORTED_TODAY)
    if reading is None or reading.problem in _NOT_SHOWN:
        return None
    return reading.value


def _over_export_attributes(view: MonitorView) -> Mapping[str, Any]:
    """Return how far export is beyond the allowance now, and since when today."""
    breach = view.breach
    if breach is None or breach.day != view.now.date():
        return {"over_export_now": 0.0, "first_exceeded_at": None}
    return {
        "over_export_now": round(breach.over_kwh, 3),
        "first_exceeded_at": breach.first_at,
    }


def _duration(view: MonitorView) -> float | None:
    """Return the planned discharge duration in minutes."""
    plan = view.snapshot.plan
    return None if plan is None else round(plan.duration_minutes, 1)


# data_staleness changes with every heartbeat and circuit_breaker_status repeats
# what system_health already says (with data_age_seconds and the failure count as
# attributes): both are off by default, for those who want to dig.
SENSORS: tuple[ExportMonitorSensorEntityDescription, ...] = (
    ExportMonitorSensorEntityDescription(
        key="system_health",
        translation_key="system_health",
        device_class=SensorDeviceClass.ENUM,
        options=[health.value for health in SystemHealth],
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda view: view.health,
        attributes_fn=_health_attributes,
        age_attributes=frozenset({"data_age_seconds"}),
    ),
    ExportMonitorSensorEntityDescription(
        key="error_state",
        translation_key="error_state",
        device_class=SensorDeviceClass.ENUM,
        options=[error.value for error in ErrorState],
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda view: view.error_state,
    ),
    ExportMonitorSensorEntityDescription(
        key="data_staleness",
        translation_key="data_staleness",
        entity_registry_enabled_default=False,
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        suggested_display_precision=0,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda view: view.snapshot.data_age_seconds,
        value_is_age=True,
        attributes_fn=lambda view: {
            "is_stale": view.snapshot.is_stale,
            "threshold_seconds": view.settings.stale_after_seconds,
        },
    ),
    ExportMonitorSensorEntityDescription(
        key="circuit_breaker_status",
        translation_key="circuit_breaker_status",
        entity_registry_enabled_default=False,
        device_class=SensorDeviceClass.ENUM,
        options=[BreakerState.CLOSED.value, BreakerState.OPEN.value],
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=_breaker_state,
        attributes_fn=_breaker_attributes,
    ),
    ExportMonitorSensorEntityDescription(
        key="export_allowance",
        translation_key="export_allowance",
        device_class=SensorDeviceClass.ENERGY,
        # Long-term statistics: the day's last state is its final allowance.
        state_class=SensorStateClass.TOTAL,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda view: view.snapshot.allowance_kwh,
        available_fn=lambda view: view.snapshot.allowance_kwh is not None,
    ),
    ExportMonitorSensorEntityDescription(
        key="export_headroom",
        translation_key="export_headroom",
        device_class=SensorDeviceClass.ENERGY,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=lambda view: view.snapshot.headroom_kwh,
        available_fn=lambda view: view.snapshot.headroom_kwh is not None,
    ),
    ExportMonitorSensorEntityDescription(
        key="exported_today",
        translation_key="exported_today",
        device_class=SensorDeviceClass.ENERGY,
        # A daily counter: the drop at midnight starts a new cycle in the statistics.
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=2,
        value_fn=_exported_today,
        available_fn=lambda view: _exported_today(view) is not None,
    ),
    ExportMonitorSensorEntityDescription(
        key="over_export_today",
        translation_key="over_export_today",
        device_class=SensorDeviceClass.ENERGY,
        # Energy allows no "measurement": the day's largest breach only grows until
        # local midnight resets it, which is what total_increasing means.
        state_class=SensorStateClass.TOTAL_INCREASING,
        native_unit_of_measurement=UnitOfEnergy.KILO_WATT_HOUR,
        suggested_display_precision=3,
        value_fn=lambda view: view.over_export_today_kwh,
        attributes_fn=_over_export_attributes,
    ),
    ExportMonitorSensorEntityDescription(
        key="discharge_status",
        translation_key="discharge_status",
        device_class=SensorDeviceClass.ENUM,
        options=[status.value for status in DischargeStatus],
        value_fn=lambda view: view.discharge_status,
        attributes_fn=lambda view: {"blockers": [b.value for b in view.blockers]},
    ),
    ExportMonitorSensorEntityDescription(
        key="calculated_duration",
        translation_key="calculated_duration",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.MINUTES,
        suggested_display_precision=0,
        value_fn=_duration,
        available_fn=lambda view: view.snapshot.plan is not None,
    ),
)


HISTORY_SENSORS: tuple[ExportMonitorHistorySensorEntityDescription, ...] = (
    ExportMonitorHistorySensorEntityDescription(
        key="compliant_days",
        translation_key="compliant_days",
        state_class=SensorStateClass.TOTAL_INCREASING,
        value_fn=lambda history: history.compliant_days,
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: ExportMonitorConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensors of one entry."""
    coordinator = entry.runtime_data.coordinator
    async_add_entities(
        ExportMonitorSensor(coordinator, description) for description in SENSORS
    )
    async_add_entities(
        ExportMonitorHistorySensor(coordinator, description)
        for description in HISTORY_SENSORS
    )


class ExportMonitorSensor(ExportMonitorEntity, SensorEntity):
    """A sensor showing one figure of the monitor's view."""

    entity_description: ExportMonitorSensorEntityDescription
    # New with every heartbeat: recorded, it would be a database row per heartbeat.
    _unrecorded_attributes = frozenset({"data_age_seconds"})

    @override
    def _shown(self) -> tuple[bool, Any, Any]:
        """Return what the sensor shows except its ages (written with the heartbeat)."""
        if not self.available:
            return (False, None, None)
        description = self.entity_description
        attributes = self.extra_state_attributes or {}
        return (
            True,
            None if description.value_is_age else self.native_value,
            {
                key: value
                for key, value in attributes.items()
                if key not in description.age_attributes
            },
        )

    @property
    @override
    def available(self) -> bool:
        """Return whether this sensor's own value is usable."""
        return super().available and self.entity_description.available_fn(
            self.coordinator.data
        )

    @property
    @override
    def native_value(self) -> SensorValue:
        """Return the sensor's value."""
        return self.entity_description.value_fn(self.coordinator.data)

    @property
    @override
    def extra_state_attributes(self) -> Mapping[str, Any] | None:
        """Return the sensor's extra attributes."""
        attributes_fn = self.entity_description.attributes_fn
        return None if attributes_fn is None else attributes_fn(self.coordinator.data)


class ExportMonitorHistorySensor(ExportMonitorEntity, SensorEntity):
    """A sensor showing a figure of the compliance history."""

    entity_description: ExportMonitorHistorySensorEntityDescription

    @property
    @override
    def native_value(self) -> SensorValue:
        """Return the sensor's value (written with every snapshot the history has seen)."""
        history = self.coordinator.config_entry.runtime_data.history.history
        return self.entity_description.value_fn(history)
