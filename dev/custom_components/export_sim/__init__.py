"""Development only: a simulated plant stepped in real time and mirrored into Home Assistant."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
import logging
from pathlib import Path
import pickle
from time import monotonic
from typing import Any, Final

from homeassistant.config_entries import SOURCE_IMPORT, ConfigEntry
from homeassistant.const import (
    ATTR_ENTITY_ID,
    EVENT_HOMEASSISTANT_STOP,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
)
from homeassistant.core import (
    CALLBACK_TYPE,
    Context,
    Event,
    EventStateChangedData,
    HomeAssistant,
    ServiceCall,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv, device_registry as dr
from homeassistant.helpers.discovery import async_load_platform
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.event import (
    async_track_state_change_event,
    async_track_time_interval,
)
from homeassistant.helpers.typing import ConfigType
from homeassistant.util import dt as dt_util
import voluptuous as vol

from sim import Command, Plant, SetDuration, apply_command
from sim.bridge import EntityState, reported_since, sensor_states
from sim.clock import local_midnight
from sim.scenarios import SCENARIO_NAMES
from sim.vendors import VENDOR_KEYS, VendorError, VendorSim, vendor_sim

from .saving import (
    SAVE_FORMAT,
    Saved,
    build_plant,
    restore_or_build,
    restore_vendor,
    seconds_to_midnight,
)

# The saved plant's rules, part of this component's surface (its tests use them).
__all__ = [
    "SAVE_FORMAT",
    "Saved",
    "SimulatedPlant",
    "build_plant",
    "restore_or_build",
    "restore_vendor",
]

DOMAIN: Final = "export_sim"
LOGGER: Final = logging.getLogger(__package__)
CONF_SCENARIO: Final = "scenario"
CONF_SEED: Final = "seed"
CONF_SPEED: Final = "speed"
CONF_CLOCK: Final = "clock"
CONF_PROFILE: Final = "profile"
DEFAULT_PROFILE: Final = "generic"
# Sent after every change of the vendor's states: its platform entities re-read them.
SIGNAL_VENDOR: Final = f"{DOMAIN}_vendor"
# Home Assistant's service for each helper state the simulated vendor sets by itself.
HELPER_SERVICES: Final = {"on": SERVICE_TURN_ON, "off": SERVICE_TURN_OFF}
CLOCK_ENTITY: Final = "sensor.sim_clock"
TICK: Final = timedelta(seconds=1)
SAVE_INTERVAL: Final = timedelta(minutes=1)
SAVE_FILE: Final = ".export_sim.pickle"
# A fast simulated day waits this far (simulated seconds) before its midnight.
HOLD_BEFORE_MIDNIGHT_S: Final = 1.0

CONFIG_SCHEMA: Final = vol.Schema(
    {
        DOMAIN: vol.Schema(
            {
                vol.Optional(CONF_SCENARIO, default="nominal"): vol.In(SCENARIO_NAMES),
                vol.Optional(CONF_SEED, default=1): vol.Coerce(int),
                vol.Optional(CONF_SPEED, default=10.0): vol.All(
                    vol.Coerce(float), vol.Range(min=0.1, max=1000.0)
                ),
                vol.Optional(CONF_PROFILE, default=DEFAULT_PROFILE): vol.In(
                    VENDOR_KEYS
                ),
                # A new plant's local time of day (default: Home Assistant's).
                vol.Optional(CONF_CLOCK): cv.time,
            }
        )
    },
    extra=vol.ALLOW_EXTRA,
)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Restore or build the plant and its vendor at the local time of day; step them."""
    conf = config[DOMAIN]
    now = dt_util.now().replace(microsecond=0)
    path = Path(hass.config.path(SAVE_FILE))
    plant, restored = await hass.async_add_executor_job(
        restore_or_build,
        path,
        conf[CONF_SCENARIO],
        conf[CONF_SEED],
        str(hass.config.time_zone),
        now,
        conf.get(CONF_CLOCK),
    )
    running = plant.published().controls.enabled
    vendor = await hass.async_add_executor_job(
        restore_vendor, path if restored else None, conf[CONF_PROFILE], now, running
    )
    runner = SimulatedPlant(hass, plant, conf, path, vendor)
    runner.async_start()
    async_register_vendor(hass, runner, config)
    hass.async_create_task(
        hass.config_entries.flow.async_init(DOMAIN, context={"source": SOURCE_IMPORT})
    )
    LOGGER.info(
        "Simulating %s (seed %s) at %sx with %s, %s at %s",
        conf[CONF_SCENARIO],
        conf[CONF_SEED],
        conf[CONF_SPEED],
        vendor.vendor.title,
        "resumed" if restored else "starting",
        plant.now.isoformat(timespec="seconds"),
    )
    return True


async def async_setup_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Register the device the vendor's services target (Huawei's batteries)."""
    runner: SimulatedPlant = hass.data[DOMAIN]
    if (name := runner.vendor.vendor.device_name) is not None:
        device = dr.async_get(hass).async_get_or_create(
            config_entry_id=entry.entry_id,
            identifiers={(DOMAIN, runner.vendor.vendor.key)},
            name=name,
            manufacturer="Export Monitor simulator",
        )
        runner.vendor.device_id = device.id
    return True


async def async_unload_entry(hass: HomeAssistant, entry: ConfigEntry) -> bool:
    """Nothing to unload: the plant runs with Home Assistant."""
    return True


@callback
def async_register_vendor(
    hass: HomeAssistant, runner: SimulatedPlant, config: ConfigType
) -> None:
    """Load the vendor's entity platforms and register its services (huawei_solar...)."""
    hass.data[DOMAIN] = runner
    vendor = runner.vendor.vendor
    platforms = {e.domain for e in vendor.entities if not e.helper}
    for platform in sorted(platforms):
        hass.async_create_task(
            async_load_platform(hass, platform, DOMAIN, {"platform": platform}, config),
            eager_start=True,
        )
    for spec in vendor.services:

        async def handle(call: ServiceCall, service: str = spec.service) -> None:
            """Run one vendor service call against the simulated vendor."""
            runner.async_call(service, dict(call.data))

        hass.services.async_register(spec.domain, spec.name, handle)


# Sensors go out as the meters report them; control writes (helper changes, the
# vendor's own entities and services) go to the simulated vendor integration,
# which turns them into inverter commands (durations scaled to real minutes).
# When the vendor changes a state by itself (the inverter's timer ended a
# discharge, a poll read a register back) its entities follow.
# The simulated day ends with Home Assistant's: a fast one holds just before its
# midnight (meters still reporting) until Home Assistant's midnight, so daily
# counters reset when Home Assistant expects them to.
def counter_attributes(
    state: EntityState, day_start: datetime, now: datetime
) -> dict[str, Any]:
    """Return a state's attributes; a daily counter says which local midnight reset it.

    The simulated day is Home Assistant's (it holds before its own midnight until
    Home Assistant's), but its clock may run ahead: a counter counted since the
    simulated midnight would otherwise look too high to be today's in the small
    hours. A value reported before the simulated day began is yesterday's.
    """
    if state.attributes.get("state_class") != "total_increasing":
        return state.attributes
    today = now.date()
    reset_day = today if state.reported_at >= day_start else today - timedelta(days=1)
    return state.attributes | {
        "state_class": "total",
        "last_reset": dt_util.start_of_local_day(reset_day).isoformat(),
    }


class SimulatedPlant:
    """Step a plant by `speed` simulated seconds per real second; mirror it both ways."""

    def __init__(
        self,
        hass: HomeAssistant,
        plant: Plant,
        conf: ConfigType,
        path: Path,
        vendor: VendorSim | None = None,
    ) -> None:
        self._hass = hass
        self._plant = plant
        self._vendor = vendor or vendor_sim(
            conf.get(CONF_PROFILE, DEFAULT_PROFILE), dt_util.now()
        )
        self._helpers = tuple(
            e.entity_id for e in self._vendor.vendor.entities if e.helper
        )
        self._speed: float = conf[CONF_SPEED]
        self._scenario: str = conf[CONF_SCENARIO]
        self._seed: int = conf[CONF_SEED]
        self._path = path
        self._last = monotonic()
        self._real_day = dt_util.now().date()
        self._sim_day = plant.day
        self._holding = False
        self._reported: dict[str, datetime] = {}
        self._clock: tuple[str, bool] | None = None
        self._context = Context()
        self._unsubs: list[CALLBACK_TYPE] = []

    @property
    def plant(self) -> Plant:
        """Return the simulated plant."""
        return self._plant

    @property
    def vendor(self) -> VendorSim:
        """Return the simulated vendor integration."""
        return self._vendor

    @property
    def holding(self) -> bool:
        """Return whether the simulated day waits for Home Assistant's midnight."""
        return self._holding

    @callback
    def async_start(self) -> None:
        """Take the helpers' current values, publish, and start the clock."""
        for entity_id in self._helpers:
            if state := self._hass.states.get(entity_id):
                self.async_command(entity_id, state.state)
        self._async_publish()
        self._unsubs = [
            async_track_time_interval(self._hass, self._async_tick, TICK),
            async_track_time_interval(self._hass, self._async_save, SAVE_INTERVAL),
            async_track_state_change_event(
                self._hass, self._helpers, self._async_control_changed
            ),
        ]
        self._hass.bus.async_listen_once(EVENT_HOMEASSISTANT_STOP, self._async_stop)

    async def _async_stop(self, _event: Event) -> None:
        """Stop stepping and save the plant for the next start."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        await self._async_save()

    async def _async_save(self, _now: datetime | None = None) -> None:
        """Save the plant (pickled here, between steps; written in the executor)."""
        saved = Saved(
            self._scenario, self._seed, self._real_day, self._plant, self._vendor
        )
        data = pickle.dumps((SAVE_FORMAT, saved))
        await self._hass.async_add_executor_job(self._write, data)

    def _write(self, data: bytes) -> None:
        """Write the saved plant atomically."""
        partial = self._path.with_suffix(".partial")
        partial.write_bytes(data)
        partial.replace(self._path)

    @callback
    def _async_tick(self, _now: datetime) -> None:
        """Advance to the wall clock, let the vendor act, write what was reported."""
        self.advance()
        running = self._plant.published().controls.enabled
        self._apply(self._vendor.tick(dt_util.now(), running))
        self._async_publish()

    def advance(self) -> None:
        """Step by the real time elapsed times speed, never past the end of the day."""
        now = monotonic()
        seconds = (now - self._last) * self._speed
        self._last = now
        if (today := dt_util.now().date()) != self._real_day:
            if self._plant.day == self._sim_day:
                self._plant.step(seconds_to_midnight(self._plant))
            self._real_day, self._sim_day = today, self._plant.day
        room = seconds_to_midnight(self._plant) - HOLD_BEFORE_MIDNIGHT_S
        if (step := min(seconds, room)) > 0:
            self._plant.step(step)
        self._holding = seconds > room

    @callback
    def _async_control_changed(self, event: Event[EventStateChangedData]) -> None:
        """Send a helper's new value to the inverter, unless we wrote it ourselves."""
        new_state = event.data["new_state"]
        if new_state is None or event.context.id == self._context.id:
            return
        self.advance()
        self.async_command(event.data["entity_id"], new_state.state)

    @callback
    def async_command(self, entity_id: str, state: str) -> None:
        """Send a helper's state to the vendor; log what it refuses."""
        try:
            self._apply(self._vendor.write(entity_id, state, dt_util.now()))
        except VendorError as err:
            LOGGER.warning(
                "The simulated vendor refused %s = %s: %s", entity_id, state, err
            )

    @callback
    def async_write(self, entity_id: str, value: str) -> None:
        """Write one of the vendor's own entities (select, number, switch, button)."""
        self._async_run(partial(self._vendor.write, entity_id, value))

    @callback
    def async_call(self, service: str, data: dict[str, Any]) -> None:
        """Run one of the vendor's services."""
        self._async_run(partial(self._vendor.call, service, data))

    @callback
    def _async_run(self, action: Callable[[datetime], list[Command]]) -> None:
        """Bring the plant up to now, run a vendor action, apply it, publish."""
        self.advance()
        try:
            commands = action(dt_util.now())
        except VendorError as err:
            raise ServiceValidationError(str(err)) from err
        self._apply(commands)
        self._async_publish()

    def _apply(self, commands: list[Command]) -> None:
        """Send commands to the plant's inverter, durations in simulated minutes."""
        for command in commands:
            LOGGER.debug("Inverter command: %s", command)
            apply_command(self._plant, self._scaled(command))

    def _scaled(self, command: Command) -> Command:
        """Return a duration in simulated minutes, any other command as it is."""
        if isinstance(command, SetDuration):
            # Whoever writes a duration counts real minutes (the monitor's backstop
            # does): the inverter's timer must run out in as many real minutes.
            return SetDuration(command.minutes * self._speed)
        return command

    @callback
    def _async_publish(self) -> None:
        """Write the sensors reported since the last write, the clock and the switch."""
        published = self._plant.published()
        # A held plant makes no meter events, but its meters keep reporting.
        states = (
            sensor_states(published)
            if self._holding
            else reported_since(published, self._reported)
        )
        day_start = local_midnight(self._plant.day, self._plant.tz)
        for state in states:
            attributes = counter_attributes(state, day_start, dt_util.now())
            self._hass.states.async_set(state.entity_id, state.state, attributes)
            self._reported[state.entity_id] = state.reported_at
        self._async_write_clock()
        self._async_write_vendor()

    @callback
    def _async_write_vendor(self) -> None:
        """Let the vendor's entities re-read; set helpers the vendor changed by itself."""
        async_dispatcher_send(self._hass, SIGNAL_VENDOR)
        states = self._vendor.states
        for entity_id in self._helpers:
            state = self._hass.states.get(entity_id)
            service = HELPER_SERVICES.get(states[entity_id])
            if state is None or state.state == states[entity_id] or service is None:
                continue
            self._hass.async_create_task(
                self._hass.services.async_call(
                    entity_id.split(".", 1)[0],
                    service,
                    {ATTR_ENTITY_ID: entity_id},
                    context=self._context,
                )
            )

    @callback
    def _async_write_clock(self) -> None:
        """Show the simulated local time, to the minute, when it or holding changes."""
        clock = (self._plant.now.strftime("%Y-%m-%d %H:%M"), self._holding)
        if clock == self._clock:
            return
        self._clock = clock
        self._hass.states.async_set(
            CLOCK_ENTITY,
            clock[0],
            {
                "friendly_name": "Sim clock",
                "icon": "mdi:clock-fast",
                "scenario": self._scenario,
                "seed": self._seed,
                "speed": self._speed,
                "waiting_for_midnight": self._holding,
            },
        )
