"""Config, options and reconfigure flows of the Energy Export Monitor."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from homeassistant.config_entries import (
    ConfigFlow,
    ConfigFlowResult,
    OptionsFlow,
    OptionsFlowWithReload,
)
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
import voluptuous as vol

from .config_checks import (
    async_control_errors,
    async_limits_errors,
    async_missing_options,
    async_source_errors,
)
from .config_schema import (
    LIMITS_SCHEMA,
    SOURCES_SCHEMA,
    controls_schema,
    profile_schema,
)
from .const import (
    CONF_CONTROLS,
    CONF_EXPORT_ENERGY_TODAY_ENTITY,
    CONF_PROFILE,
    CONF_SOC_ENTITY,
    DEFAULT_TITLE,
    DOMAIN,
)
from .models import ExportMonitorConfigEntry
from .profiles import DEFAULT_PROFILE, PROFILES, offered_profiles
from .profiles.options import FLAT_KEYS, controls
from .profiles.suggest import (
    RegistryRow,
    suggest_controls,
    suggest_profile,
    suggested_values,
)

type _Validator = Callable[[HomeAssistant, Mapping[str, Any]], dict[str, str]]

# A second form of the controls step: its text says why the cutoff is required.
_FLOOR: Final = "_floor"
# Two entries reading the same battery and export meter would fight over one rule.
_IDENTITY_KEYS: Final = (CONF_SOC_ENTITY, CONF_EXPORT_ENERGY_TODAY_ENTITY)


@dataclass(frozen=True, slots=True)
class _Step:
    """One form of the flows: its fields and how their input is checked."""

    schema: vol.Schema
    validate: _Validator


_SOURCES: Final = _Step(SOURCES_SCHEMA, async_source_errors)
_LIMITS: Final = _Step(LIMITS_SCHEMA, async_limits_errors)


def _merge(options: dict[str, Any], step: _Step, user_input: Mapping[str, Any]) -> None:
    """Replace a step's fields in the options; a cleared optional field goes away."""
    for marker in step.schema.schema:
        options.pop(marker.schema, None)
    options.update(user_input)


@callback
def _async_form_or_merge(
    flow: ConfigFlow | OptionsFlow,
    step_id: str,
    step: _Step,
    options: dict[str, Any],
    user_input: dict[str, Any] | None,
) -> ConfigFlowResult | None:
    """Return the step's form, or None once valid input is merged into options."""
    if user_input is None:
        return _form(flow, step_id, step.schema, options, {})
    if errors := step.validate(flow.hass, user_input):
        return _form(flow, step_id, step.schema, user_input, errors)
    _merge(options, step, user_input)
    return None


def _form(
    flow: ConfigFlow | OptionsFlow,
    step_id: str,
    schema: vol.Schema,
    values: Mapping[str, Any],
    errors: dict[str, str],
    placeholders: dict[str, str] | None = None,
) -> ConfigFlowResult:
    """Show a step's form pre-filled with values."""
    return flow.async_show_form(
        step_id=step_id,
        data_schema=flow.add_suggested_values_to_schema(schema, values),
        errors=errors,
        description_placeholders=placeholders,
    )


def _profile_key(options: Mapping[str, Any]) -> str | None:
    """Return the chosen profile's key, None when none (or a retired one) is stored."""
    key = options.get(CONF_PROFILE)
    return key if key in PROFILES else None


@callback
def _async_registry_rows(hass: HomeAssistant) -> list[RegistryRow]:
    """Return the enabled entities of the entity registry, as suggestion input."""
    return [
        RegistryRow(
            entity_id=entry.entity_id,
            platform=entry.platform,
            unique_id=str(entry.unique_id),
            device_id=entry.device_id,
        )
        for entry in er.async_get(hass).entities.values()
        if entry.disabled_by is None
    ]


@callback
def _async_profile_form_or_merge(
    flow: ConfigFlow | OptionsFlow,
    step_id: str,
    options: dict[str, Any],
    user_input: dict[str, Any] | None,
) -> ConfigFlowResult | None:
    """Return the profile form, or None once the chosen profile is in options."""
    if user_input is not None:
        options[CONF_PROFILE] = user_input[CONF_PROFILE]
        return None
    key = _profile_key(options) or suggest_profile(
        offered_profiles(), _async_registry_rows(flow.hass), DEFAULT_PROFILE
    )
    return _form(flow, step_id, profile_schema(), {CONF_PROFILE: key}, {})


@callback
def _async_controls_form_or_merge(
    flow: ConfigFlow | OptionsFlow,
    step_id: str,
    options: dict[str, Any],
    stored_profile: str | None,
    user_input: dict[str, Any] | None,
) -> ConfigFlowResult | None:
    """Return the chosen profile's controls form, or None once its input is merged."""
    profile = PROFILES[options[CONF_PROFILE]]
    if profile.needs_soc_floor:
        step_id += _FLOOR
    schema = controls_schema(profile)
    if user_input is None:
        registry = suggest_controls(profile, _async_registry_rows(flow.hass))
        same = options[CONF_PROFILE] == stored_profile
        stored = {role.value: value for role, value in controls(options).items()}
        values = suggested_values(stored, same, registry)
        return _form(flow, step_id, schema, values, {}, {"missing": ""})
    if errors := async_control_errors(flow.hass, profile, user_input):
        missing = async_missing_options(flow.hass, profile, user_input)
        return _form(flow, step_id, schema, user_input, errors, {"missing": missing})
    # The controls replace any left under minor version 1's flat keys.
    for key in FLAT_KEYS:
        options.pop(key, None)
    options[CONF_CONTROLS] = dict(user_input)
    return None


def _identity(options: Mapping[str, Any]) -> dict[str, Any]:
    """Return what makes two monitors the same: battery SOC and export meter."""
    return {key: options[key] for key in _IDENTITY_KEYS}


class ExportMonitorConfigFlow(ConfigFlow, domain=DOMAIN):
    """Set up a monitor in four steps: sources, profile, controls, limits."""

    VERSION = 1
    MINOR_VERSION = 2

    def __init__(self) -> None:
        """Start with nothing chosen."""
        self._options: dict[str, Any] = {}
        self._stored_profile: str | None = None

    @staticmethod
    @callback
    def async_get_options_flow(
        config_entry: ExportMonitorConfigEntry,
    ) -> ExportMonitorOptionsFlow:
        """Return the options flow, which edits every option."""
        return ExportMonitorOptionsFlow(config_entry)

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the sensors the monitor reads."""
        if form := _async_form_or_merge(
            self, "user", _SOURCES, self._options, user_input
        ):
            return form
        self._async_abort_entries_match(_identity(self._options))
        return await self.async_step_profile()

    async def async_step_profile(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the inverter's profile."""
        if form := _async_profile_form_or_merge(
            self, "profile", self._options, user_input
        ):
            return form
        return await self.async_step_controls()

    async def async_step_controls(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the inverter entities that run a forced export."""
        if form := _async_controls_form_or_merge(
            self, "controls", self._options, self._stored_profile, user_input
        ):
            return form
        return await self.async_step_limits()

    async def async_step_controls_floor(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Choose the controls of a profile that needs the SOC floor."""
        return await self.async_step_controls(user_input)

    async def async_step_limits(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Set the limits and behaviour, then create the entry."""
        if form := _async_form_or_merge(
            self, "limits", _LIMITS, self._options, user_input
        ):
            return form
        return self.async_create_entry(
            title=DEFAULT_TITLE, data={}, options=self._options
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the sensors of an existing monitor."""
        if not self._options:
            self._options = dict(self._get_reconfigure_entry().options)
            self._stored_profile = _profile_key(self._options)
        if form := _async_form_or_merge(
            self, "reconfigure", _SOURCES, self._options, user_input
        ):
            return form
        self._async_abort_entries_match(_identity(self._options))
        return await self.async_step_reconfigure_profile()

    async def async_step_reconfigure_profile(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the inverter's profile."""
        if form := _async_profile_form_or_merge(
            self, "reconfigure_profile", self._options, user_input
        ):
            return form
        return await self.async_step_reconfigure_controls()

    async def async_step_reconfigure_controls(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the inverter controls, then save and reload."""
        if form := _async_controls_form_or_merge(
            self,
            "reconfigure_controls",
            self._options,
            self._stored_profile,
            user_input,
        ):
            return form
        return self.async_update_reload_and_abort(
            self._get_reconfigure_entry(), options=self._options
        )

    async def async_step_reconfigure_controls_floor(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Change the controls of a profile that needs the SOC floor."""
        return await self.async_step_reconfigure_controls(user_input)


class ExportMonitorOptionsFlow(OptionsFlowWithReload):
    """Edit every option in the setup's four steps; saving reloads the entry."""

    def __init__(self, config_entry: ExportMonitorConfigEntry) -> None:
        """Start from the entry's current options."""
        self._options = dict(config_entry.options)
        self._stored_profile = _profile_key(self._options)

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Edit the sensors the monitor reads."""
        if form := _async_form_or_merge(
            self, "init", _SOURCES, self._options, user_input
        ):
            return form
        self._async_abort_entries_match(_identity(self._options))
        return await self.async_step_profile()

    async def async_step_profile(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Edit the inverter's profile."""
        if form := _async_profile_form_or_merge(
            self, "profile", self._options, user_input
        ):
            return form
        return await self.async_step_controls()

    async def async_step_controls(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Edit the inverter controls."""
        if form := _async_controls_form_or_merge(
            self, "controls", self._options, self._stored_profile, user_input
        ):
            return form
        return await self.async_step_limits()

    async def async_step_controls_floor(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Edit the controls of a profile that needs the SOC floor."""
        return await self.async_step_controls(user_input)

    async def async_step_limits(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Edit the limits and behaviour, then save."""
        if form := _async_form_or_merge(
            self, "limits", _LIMITS, self._options, user_input
        ):
            return form
        return self.async_create_entry(data=self._options)
