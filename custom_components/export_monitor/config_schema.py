"""Form schemas of the config, options and reconfigure flows."""

from __future__ import annotations

from typing import Final

from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.const import (
    PERCENTAGE,
    Platform,
    UnitOfEnergy,
    UnitOfPower,
    UnitOfTime,
)
from homeassistant.helpers.selector import (
    BooleanSelector,
    DeviceSelector,
    DeviceSelectorConfig,
    EntitySelector,
    EntitySelectorConfig,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TimeSelector,
)
import voluptuous as vol

from .const import (
    CONF_AUTO_DISCHARGE,
    CONF_BATTERY_CAPACITY_KWH,
    CONF_BATTERY_POWER_DISCHARGE_POSITIVE,
    CONF_BATTERY_POWER_ENTITY,
    CONF_DAILY_EXPORT_CAP_KWH,
    CONF_DISCHARGE_POWER_KW,
    CONF_EXPORT_ENERGY_TODAY_ENTITY,
    CONF_EXPORT_METER_DELAY_SECONDS,
    CONF_EXPORT_METER_INTERVAL_SECONDS,
    CONF_EXPORT_METER_RESOLUTION_KWH,
    CONF_EXPORT_WINDOW_END,
    CONF_EXPORT_WINDOW_START,
    CONF_FORECAST_CONFIDENCE,
    CONF_FORECAST_CREDIT,
    CONF_FORECAST_TODAY_ENTITY,
    CONF_GRID_POWER_ENTITY,
    CONF_GRID_POWER_EXPORT_NEGATIVE,
    CONF_INVERTER_MAX_POWER_KW,
    CONF_MIN_SOC,
    CONF_PROFILE,
    CONF_PV_ENERGY_TODAY_ENTITY,
    CONF_PV_PEAK_POWER_KW,
    CONF_RESUME_WHEN_SAFE,
    CONF_SAFETY_MARGIN_KWH,
    CONF_SOC_ENTITY,
    CONF_STALE_AFTER_SECONDS,
    DEFAULT_AUTO_DISCHARGE,
    DEFAULT_BATTERY_CAPACITY_KWH,
    DEFAULT_BATTERY_POWER_DISCHARGE_POSITIVE,
    DEFAULT_DISCHARGE_POWER_KW,
    DEFAULT_EXPORT_METER_DELAY_SECONDS,
    DEFAULT_EXPORT_WINDOW_END,
    DEFAULT_EXPORT_WINDOW_START,
    DEFAULT_FORECAST_CONFIDENCE,
    DEFAULT_FORECAST_CREDIT,
    DEFAULT_GRID_POWER_EXPORT_NEGATIVE,
    DEFAULT_MIN_SOC,
    DEFAULT_PV_PEAK_POWER_KW,
    DEFAULT_RESUME_WHEN_SAFE,
    DEFAULT_SAFETY_MARGIN_KWH,
    DEFAULT_STALE_AFTER_SECONDS,
    MIN_STALE_AFTER_SECONDS,
)
from .profiles import DEFAULT_PROFILE, offered_profiles
from .profiles.base import Control, InverterProfile, Role
from .profiles.suggest import is_required

# Upper bounds of the number boxes: generous, only to catch typing slips.
_MAX_ENERGY_KWH: Final = 1000.0
_MAX_MARGIN_KWH: Final = 100.0
_MAX_POWER_KW: Final = 50.0
_MAX_STALE_AFTER_SECONDS: Final = 3600
_MAX_PV_PEAK_KW: Final = 1000.0
_MAX_METER_SECONDS: Final = 3600
_MAX_METER_RESOLUTION_KWH: Final = 10.0


def _sensor(device_class: SensorDeviceClass) -> EntitySelector:
    """Select a sensor of one device class."""
    return EntitySelector(
        EntitySelectorConfig(domain=Platform.SENSOR, device_class=device_class)
    )


def _number(low: float, high: float, step: float, unit: str) -> NumberSelector:
    """Select a number in a box, with its unit shown."""
    return NumberSelector(
        NumberSelectorConfig(
            min=low,
            max=high,
            step=step,
            unit_of_measurement=unit,
            mode=NumberSelectorMode.BOX,
        )
    )


# Forecast sensors often carry no device class, so any sensor may be chosen.
_FORECAST: Final = EntitySelector(EntitySelectorConfig(domain=Platform.SENSOR))
_CONFIDENCE: Final = NumberSelector(
    NumberSelectorConfig(min=0, max=1, step=0.05, mode=NumberSelectorMode.BOX)
)
_KWH: Final = UnitOfEnergy.KILO_WATT_HOUR

SOURCES_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_SOC_ENTITY): _sensor(SensorDeviceClass.BATTERY),
        vol.Required(CONF_PV_ENERGY_TODAY_ENTITY): _sensor(SensorDeviceClass.ENERGY),
        vol.Required(CONF_EXPORT_ENERGY_TODAY_ENTITY): _sensor(
            SensorDeviceClass.ENERGY
        ),
        vol.Optional(CONF_GRID_POWER_ENTITY): _sensor(SensorDeviceClass.POWER),
        vol.Required(
            CONF_GRID_POWER_EXPORT_NEGATIVE, default=DEFAULT_GRID_POWER_EXPORT_NEGATIVE
        ): BooleanSelector(),
        vol.Optional(CONF_BATTERY_POWER_ENTITY): _sensor(SensorDeviceClass.POWER),
        vol.Required(
            CONF_BATTERY_POWER_DISCHARGE_POSITIVE,
            default=DEFAULT_BATTERY_POWER_DISCHARGE_POSITIVE,
        ): BooleanSelector(),
        vol.Optional(CONF_FORECAST_TODAY_ENTITY): _FORECAST,
    }
)


def profile_schema() -> vol.Schema:
    """Return the profile form: every profile the setup offers, by translated name."""
    return vol.Schema(
        {
            vol.Required(CONF_PROFILE, default=DEFAULT_PROFILE): SelectSelector(
                SelectSelectorConfig(
                    options=list(offered_profiles()),
                    translation_key=CONF_PROFILE,
                    mode=SelectSelectorMode.LIST,
                )
            ),
        }
    )


def _control_selector(control: Control) -> DeviceSelector | EntitySelector:
    """Select a control's entity among its domains, or its integration's device."""
    if control.role is Role.DEVICE:
        config = DeviceSelectorConfig()
        if control.integration is not None:
            config["integration"] = control.integration
        return DeviceSelector(config)
    return EntitySelector(EntitySelectorConfig(domain=list(control.domains)))


def controls_schema(profile: InverterProfile) -> vol.Schema:
    """Return a profile's controls form: one selector per control, keyed by role."""
    return vol.Schema(
        {
            (vol.Required if is_required(profile, control) else vol.Optional)(
                control.role.value
            ): _control_selector(control)
            for control in profile.controls
        }
    )


LIMITS_SCHEMA: Final = vol.Schema(
    {
        vol.Required(
            CONF_SAFETY_MARGIN_KWH, default=DEFAULT_SAFETY_MARGIN_KWH
        ): _number(0, _MAX_MARGIN_KWH, 0.01, _KWH),
        vol.Optional(CONF_DAILY_EXPORT_CAP_KWH): _number(
            0.01, _MAX_ENERGY_KWH, 0.01, _KWH
        ),
        vol.Required(CONF_MIN_SOC, default=DEFAULT_MIN_SOC): _number(
            0, 100, 1, PERCENTAGE
        ),
        vol.Required(
            CONF_DISCHARGE_POWER_KW, default=DEFAULT_DISCHARGE_POWER_KW
        ): _number(0.1, _MAX_POWER_KW, 0.1, UnitOfPower.KILO_WATT),
        vol.Required(
            CONF_BATTERY_CAPACITY_KWH, default=DEFAULT_BATTERY_CAPACITY_KWH
        ): _number(0.1, _MAX_ENERGY_KWH, 0.1, _KWH),
        vol.Required(
            CONF_FORECAST_CREDIT, default=DEFAULT_FORECAST_CREDIT
        ): BooleanSelector(),
        vol.Required(
            CONF_FORECAST_CONFIDENCE, default=DEFAULT_FORECAST_CONFIDENCE
        ): _CONFIDENCE,
        vol.Required(
            CONF_EXPORT_WINDOW_START, default=DEFAULT_EXPORT_WINDOW_START
        ): TimeSelector(),
        vol.Required(
            CONF_EXPORT_WINDOW_END, default=DEFAULT_EXPORT_WINDOW_END
        ): TimeSelector(),
        vol.Required(
            CONF_AUTO_DISCHARGE, default=DEFAULT_AUTO_DISCHARGE
        ): BooleanSelector(),
        vol.Required(
            CONF_RESUME_WHEN_SAFE, default=DEFAULT_RESUME_WHEN_SAFE
        ): BooleanSelector(),
        vol.Required(
            CONF_STALE_AFTER_SECONDS, default=DEFAULT_STALE_AFTER_SECONDS
        ): vol.All(
            _number(
                MIN_STALE_AFTER_SECONDS,
                _MAX_STALE_AFTER_SECONDS,
                1,
                UnitOfTime.SECONDS,
            ),
            vol.Coerce(int),
        ),
        vol.Required(CONF_PV_PEAK_POWER_KW, default=DEFAULT_PV_PEAK_POWER_KW): _number(
            0.1, _MAX_PV_PEAK_KW, 0.1, UnitOfPower.KILO_WATT
        ),
        vol.Optional(CONF_INVERTER_MAX_POWER_KW): _number(
            0.1, _MAX_POWER_KW, 0.1, UnitOfPower.KILO_WATT
        ),
        vol.Optional(CONF_EXPORT_METER_INTERVAL_SECONDS): vol.All(
            _number(1, _MAX_METER_SECONDS, 1, UnitOfTime.SECONDS), vol.Coerce(int)
        ),
        vol.Optional(CONF_EXPORT_METER_RESOLUTION_KWH): _number(
            0.001, _MAX_METER_RESOLUTION_KWH, 0.001, _KWH
        ),
        vol.Required(
            CONF_EXPORT_METER_DELAY_SECONDS, default=DEFAULT_EXPORT_METER_DELAY_SECONDS
        ): vol.All(
            _number(0, _MAX_METER_SECONDS, 1, UnitOfTime.SECONDS), vol.Coerce(int)
        ),
    }
)
