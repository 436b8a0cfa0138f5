"""Tell the user: one persistent notification per condition, repairs for lasting ones."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from homeassistant.components import persistent_notification
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.translation import async_get_translations

from .const import DOMAIN
from .logic.errors import ErrorState

# Conditions that also raise a repair issue while they last.
REPAIR_CONDITIONS: Final = frozenset(
    {ErrorState.DISCHARGE_STOP_FAILED, ErrorState.SOURCE_MISSING}
)


def notification_id(entry_id: str, condition: str) -> str:
    """Return the stable notification id of a condition."""
    return f"{DOMAIN}_{entry_id}_{condition}"


def issue_id(entry_id: str, condition: str) -> str:
    """Return the stable repair issue id of a condition."""
    return f"{condition}_{entry_id}"


class ExportMonitorNotifier:
    """Keeps the user's notifications and repairs in step with the conditions."""

    def __init__(self, hass: HomeAssistant, entry_id: str, title: str) -> None:
        """Bind to one entry."""
        self._hass = hass
        self._entry_id = entry_id
        self._title = title
        self._raised: set[str] = set()
        self._details: dict[str, dict[str, str]] = {}
        self._texts: dict[str, str] = {}

    async def async_load(self) -> None:
        """Load the translated texts for the configured language."""
        language = self._hass.config.language
        texts = await async_get_translations(
            self._hass, language, "exceptions", [DOMAIN]
        )
        names = await async_get_translations(self._hass, language, "entity", [DOMAIN])
        self._texts = {**texts, **names}
        self._async_dismiss_leftovers()

    @callback
    def _async_dismiss_leftovers(self) -> None:
        """Dismiss what this entry showed before a reload; conditions that hold return."""
        for condition in ErrorState:
            persistent_notification.async_dismiss(
                self._hass, notification_id(self._entry_id, condition)
            )
        for condition in REPAIR_CONDITIONS:
            ir.async_delete_issue(
                self._hass, DOMAIN, issue_id(self._entry_id, condition)
            )

    @property
    def raised(self) -> frozenset[str]:
        """Return the conditions currently shown to the user."""
        return frozenset(self._raised)

    @callback
    def async_raise(
        self, condition: str, placeholders: Mapping[str, str] | None = None
    ) -> None:
        """Show a condition (again, with fresh details) to the user."""
        # Details given earlier (which entity) stay until the condition clears.
        details = {**self._details.get(condition, {}), **(placeholders or {})}
        self._details[condition] = details
        values = {"title": self._title, **details}
        persistent_notification.async_create(
            self._hass,
            self._message(condition, values),
            title=self._heading(condition),
            notification_id=notification_id(self._entry_id, condition),
        )
        if condition in REPAIR_CONDITIONS:
            ir.async_create_issue(
                self._hass,
                DOMAIN,
                issue_id(self._entry_id, condition),
                is_fixable=False,
                is_persistent=False,
                severity=ir.IssueSeverity.CRITICAL,
                translation_key=condition,
                translation_placeholders=values,
            )
        self._raised.add(condition)

    @callback
    def async_clear(self, condition: str) -> None:
        """Dismiss a condition that has cleared."""
        if condition not in self._raised:
            return
        self._raised.discard(condition)
        self._details.pop(condition, None)
        persistent_notification.async_dismiss(
            self._hass, notification_id(self._entry_id, condition)
        )
        if condition in REPAIR_CONDITIONS:
            ir.async_delete_issue(
                self._hass, DOMAIN, issue_id(self._entry_id, condition)
            )

    def _heading(self, condition: str) -> str:
        """Return the notification title: our name and the condition's name."""
        own = f"component.{DOMAIN}.exceptions.notification_{condition}_title.message"
        state = f"component.{DOMAIN}.entity.sensor.error_state.state.{condition}"
        name = self._texts.get(own) or self._texts.get(state, condition)
        return f"{self._title}: {name}"

    def _message(self, condition: str, values: Mapping[str, str]) -> str:
        """Return the translated notification text with its details filled in."""
        key = f"component.{DOMAIN}.exceptions.notification_{condition}.message"
        template = self._texts.get(key, condition)
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError):
            return template
