"""Benchmark only: simple plants at 1 Hz for many monitors, stops made due, times recorded.

Loaded by scripts/bench-load as the custom integration `bench_load` (a link in the
throwaway config folder). Each unit is one export_monitor entry's world: its sources
written once a second (SOC, PV and export counters, grid and battery power) and a
plant that follows its helper controls. A cycle starts a discharge through the
monitor's own service, lets it run, then makes a stop due with ONE source write
(SOC below the minimum, or SOC unavailable) and records that write's time and the
monitor's turn_off call on the enable helper. Self-contained: Home Assistant and the
standard library only, since the repository is not on Home Assistant's path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import ctypes
import ctypes.util
from dataclasses import dataclass, field
from datetime import datetime
import gc
import json
import logging
from pathlib import Path
import random
import sys
import threading
import time
import tracemalloc
from typing import Any, ClassVar, Final, cast

from homeassistant.const import (
    ATTR_ENTITY_ID,
    EVENT_CALL_SERVICE,
    EVENT_STATE_CHANGED,
    STATE_UNAVAILABLE,
)
from homeassistant.core import Event, HomeAssistant, ServiceCall, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.recorder import get_instance
from homeassistant.helpers.typing import ConfigType
from homeassistant.util import dt as dt_util
import voluptuous as vol

DOMAIN: Final = "bench_load"
LOGGER: Final = logging.getLogger(__package__)
MONITOR: Final = "export_monitor"
STOPPED_EVENT: Final = f"{MONITOR}_discharge_stopped"
TICK_S: Final = 1.0
PROBE_S: Final = 0.1
# Oversleeps above this are kept with their time and the CPU used meanwhile.
SLOW_PROBE_MS: Final = 20.0
PV_KW: Final = 4.0
POWER_KW: Final = 3.0
CAPACITY_KWH: Final = 10.0
SOC_START: Final = 80.0
# Below the entries' min SOC (20 %): a stop is due at the write that shows it.
SOC_LOW: Final = "19"
RUN_S: Final = (5.0, 15.0)
PAUSE_S: Final = 3.0
START_WAIT_S: Final = 30.0
STOP_WAIT_S: Final = 30.0
REASON_WAIT_S: Final = 5.0
# With trace_memory: allocations compared between this far into the run and its end.
TRACE_WARMUP_S: Final = 120.0
TRACE_TOP: Final = 12
TRACE_FRAMES: Final = 12
BACKLOG_S: Final = 10.0
KINDS: Final = ("soc_below_min", "soc_unavailable")
# Collections of this generation are kept one by one (the full ones); younger
# ones only counted with their total time.
GC_KEPT_GENERATION: Final = 2
GC_TOP: Final = 12

UNIT_SCHEMA: Final = vol.Schema(
    {
        vol.Required(key): str
        for key in (
            "soc",
            "pv",
            "export",
            "grid",
            "battery",
            "enable",
            "power",
            "cutoff",
            "duration",
        )
    }
)
CONFIG_SCHEMA: Final = vol.Schema(
    {
        DOMAIN: vol.Schema(
            {
                vol.Required("units"): [UNIT_SCHEMA],
                vol.Required("duration_s"): vol.Coerce(float),
                vol.Required("output"): str,
                vol.Optional("seed", default=1): vol.Coerce(int),
                vol.Optional("trace_memory", default=False): bool,
                vol.Optional("gc_freeze", default=False): bool,
            }
        )
    },
    extra=vol.ALLOW_EXTRA,
)


@dataclass(slots=True)
class Cycle:
    """One discharge started, made due to stop, and (normally) stopped."""

    kind: str
    sent: bool = False
    write_ts: float | None = None
    first_call_ts: float | None = None
    first_call: str | None = None
    turn_off_ts: float | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Return the cycle as JSON-ready data."""
        return {
            "kind": self.kind,
            "write_ts": self.write_ts,
            "first_call_ts": self.first_call_ts,
            "first_call": self.first_call,
            "turn_off_ts": self.turn_off_ts,
            "reason": self.reason,
        }


def source_attributes(unit_of: str, cls: str, day_start: datetime) -> dict[str, str]:
    """Return a source's attributes; a daily counter says it was reset at `day_start`.

    The counters start at 20 and 5 kWh, more than could have been counted since
    midnight in the small hours: without their `last_reset` the monitor refuses
    every start there until they drop (counter_not_reset).
    """
    attributes = {"unit_of_measurement": unit_of, "device_class": cls}
    if cls != "energy":
        attributes["state_class"] = "measurement"
        return attributes
    attributes["state_class"] = "total"
    attributes["last_reset"] = day_start.isoformat()
    return attributes


@dataclass(slots=True, eq=False)
class Unit:
    """One monitor's sources, plant and discharge cycles."""

    index: int
    ids: dict[str, str]
    soc: float = SOC_START
    pv_kwh: float = 20.0
    export_kwh: float = 5.0
    last: float = field(default_factory=time.monotonic)
    entry_id: str | None = None
    armed: Cycle | None = None
    trigger: str | None = None
    stopped: asyncio.Event = field(default_factory=asyncio.Event)
    reason: asyncio.Event = field(default_factory=asyncio.Event)
    cycles: list[Cycle] = field(default_factory=list)
    refusals: dict[str, int] = field(default_factory=dict)
    writes: int = 0

    @property
    def controls(self) -> frozenset[str]:
        """Return the unit's helper entities (the monitor's controls)."""
        return frozenset(self.ids[k] for k in ("enable", "power", "cutoff", "duration"))


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Write every unit's sources now (the config flow checks them) and tick them."""
    conf = config[DOMAIN]
    bench = LoadBench(hass, conf)
    bench.async_begin_sources()
    hass.services.async_register(DOMAIN, "start", bench.async_handle_start)
    return True


class GcWatch:
    """Python's garbage collections while measuring: which thread, how long, when.

    A collection runs in whichever thread's allocation crosses the threshold and
    holds the GIL throughout: the loop waits for it even when another thread runs it.
    """

    def __init__(self) -> None:
        self._started: dict[int, tuple[float, float, float]] = {}
        self.full: list[dict[str, Any]] = []
        self.counts = [0, 0, 0]
        self.total_ms = [0.0, 0.0, 0.0]

    def attach(self) -> None:
        """Start watching (gc.callbacks)."""
        gc.callbacks.append(self._on_gc)

    def detach(self) -> None:
        """Stop watching."""
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        """Time one collection in the thread that runs it."""
        ident = threading.get_ident()
        if phase == "start":
            self._started[ident] = (
                time.time(),
                time.perf_counter(),
                time.thread_time(),
            )
            return
        began = self._started.pop(ident, None)
        if began is None:
            return
        generation = info["generation"]
        ms = (time.perf_counter() - began[1]) * 1000.0
        self.counts[generation] += 1
        self.total_ms[generation] += ms
        if generation == GC_KEPT_GENERATION:
            self.full.append(
                {
                    "ts": began[0],
                    "ms": ms,
                    "cpu_ms": (time.thread_time() - began[2]) * 1000.0,
                    "thread": threading.current_thread().name,
                    "collected": info["collected"],
                    "blocks": sys.getallocatedblocks(),
                }
            )

    def as_dict(self) -> dict[str, Any]:
        """Return what was seen as JSON-ready data."""
        return {
            "threshold": list(gc.get_threshold()),
            "frozen": gc.get_freeze_count(),
            "counts": self.counts,
            "total_ms": [round(ms, 1) for ms in self.total_ms],
            "full": self.full,
        }


class LoadBench:
    """The units, the loop-lag probe and the recorder of what happened."""

    def __init__(self, hass: HomeAssistant, conf: ConfigType) -> None:
        self._hass = hass
        self._duration: float = conf["duration_s"]
        self._output = Path(conf["output"])
        self._rng = random.Random(conf["seed"])  # noqa: S311 - a seeded schedule, not a secret
        self._units = [Unit(i, ids) for i, ids in enumerate(conf["units"])]
        self._by_control = {c: u for u in self._units for c in u.controls}
        self._lag_ms: list[float] = []
        self._slow: list[dict[str, float]] = []
        self._measuring = False
        self._trace: bool = conf["trace_memory"]
        self._trace_top: list[dict[str, Any]] = []
        self._backlog: list[tuple[float, int | None]] = []
        self._inside: list[dict[str, float | None]] = []
        self._sqlite_used = sqlite_memory_used()
        self._malloc = malloc_info()
        self._changes: dict[str, int] = {}
        self._sources = frozenset(
            u.ids[k]
            for u in self._units
            for k in ("soc", "pv", "export", "grid", "battery")
        )
        self._window: tuple[float, float] = (0.0, 0.0)
        self._gc = GcWatch()
        self._gc_freeze: bool = conf["gc_freeze"]
        self._census: dict[str, Any] = {}
        self._changes_by_entity: dict[str, int] = {}

    @callback
    def async_begin_sources(self) -> None:
        """Write each unit's sources once now, then every second, staggered."""
        for unit in self._units:
            self._write_sources(unit)
            offset = TICK_S * unit.index / max(1, len(self._units))
            self._hass.async_create_background_task(
                self._async_ticks(unit, offset), f"bench_load ticks {unit.index}"
            )

    async def _async_ticks(self, unit: Unit, offset: float) -> None:
        """Tick one unit once a second on a fixed schedule (no drift)."""
        loop = asyncio.get_running_loop()
        next_at = loop.time() + offset
        while True:
            next_at += TICK_S
            await asyncio.sleep(max(0.0, next_at - loop.time()))
            self._step(unit)
            self._write_sources(unit)

    def _step(self, unit: Unit) -> None:
        """Advance the plant: the discharge exports and drains, PV keeps producing."""
        now = time.monotonic()
        hours = (now - unit.last) / 3600.0
        unit.last = now
        kw = self._discharge_kw(unit)
        unit.export_kwh += kw * hours
        unit.pv_kwh += PV_KW * hours
        unit.soc = max(0.0, unit.soc - kw * hours / CAPACITY_KWH * 100.0)

    def _discharge_kw(self, unit: Unit) -> float:
        """Return the power the plant discharges at: the setpoint while enabled."""
        enable = self._hass.states.get(unit.ids["enable"])
        power = self._hass.states.get(unit.ids["power"])
        if enable is None or enable.state != "on" or power is None:
            return 0.0
        try:
            return max(0.0, float(power.state))
        except ValueError:
            return 0.0

    def _write_sources(self, unit: Unit) -> None:
        """Write the unit's five sources; SOC first, carrying any trigger."""
        kw = self._discharge_kw(unit)
        cycle = unit.armed
        if cycle is not None and not cycle.sent:
            # The stop may be called inside this very write: marked sent before it.
            cycle.sent = True
            self._set(unit, "soc", self._soc_state(unit), "%", "battery")
            state = self._hass.states.get(unit.ids["soc"])
            cycle.write_ts = None if state is None else state.last_updated_timestamp
        else:
            self._set(unit, "soc", self._soc_state(unit), "%", "battery")
        self._set(unit, "pv", f"{unit.pv_kwh:.4f}", "kWh", "energy")
        self._set(unit, "export", f"{unit.export_kwh:.4f}", "kWh", "energy")
        self._set(unit, "grid", f"{-kw * 1000.0:.0f}", "W", "power")
        self._set(unit, "battery", f"{kw * 1000.0:.0f}", "W", "power")

    def _soc_state(self, unit: Unit) -> str:
        """Return the SOC state to write: the plant's, or the trigger's while armed."""
        if unit.trigger == "soc_below_min":
            return SOC_LOW
        if unit.trigger == "soc_unavailable":
            return STATE_UNAVAILABLE
        return f"{unit.soc:.2f}"

    def _set(self, unit: Unit, key: str, value: str, unit_of: str, cls: str) -> None:
        """Write one sensor state as an integration would."""
        attributes = source_attributes(unit_of, cls, dt_util.start_of_local_day())
        self._hass.states.async_set(unit.ids[key], value, attributes)
        if self._measuring:
            unit.writes += 1

    async def async_handle_start(self, _call: ServiceCall) -> None:
        """Start the measurement: cycles, probe, listeners; write the result at the end."""
        # Before this call returns, so before the first sample of the process
        # (the list of every object takes MiB).
        self._census = census(gc.get_objects())
        if self._gc_freeze:
            # Diagnostic: what start-up built is left out of every later collection.
            gc.collect()
            gc.freeze()
        entries = self._hass.config_entries.async_entries(MONITOR)
        by_soc = {e.options.get("soc_entity"): e.entry_id for e in entries}
        for unit in self._units:
            unit.entry_id = by_soc.get(unit.ids["soc"])
        unsubs = [
            self._hass.bus.async_listen(EVENT_CALL_SERVICE, self._async_on_call),
            self._hass.bus.async_listen(STOPPED_EVENT, self._async_on_stopped),
            self._hass.bus.async_listen(EVENT_STATE_CHANGED, self._async_on_state),
        ]
        self._hass.async_create_background_task(
            self._async_measure(unsubs), "bench_load measure"
        )

    async def _async_measure(self, unsubs: list[Callable[[], None]]) -> None:
        """Run the cycles and the probe for the duration, then write the output."""
        self._measuring = True
        self._gc.attach()
        began = time.time()
        tasks = [
            self._hass.async_create_background_task(
                self._async_cycles(unit), f"bench_load cycles {unit.index}"
            )
            for unit in self._units
            if unit.entry_id is not None
        ]
        tasks.append(
            self._hass.async_create_background_task(self._async_probe(), "probe")
        )
        tasks.append(
            self._hass.async_create_background_task(self._async_backlog(), "backlog")
        )
        await self._async_run_for(self._duration)
        self._measuring = False
        self._gc.detach()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for unsub in unsubs:
            unsub()
        self._window = (began, time.time())
        await self._hass.async_add_executor_job(self._write_output)

    async def _async_run_for(self, duration: float) -> None:
        """Wait out the run; with trace_memory, diff the allocations after warm-up."""
        if not self._trace:
            await asyncio.sleep(duration)
            return
        tracemalloc.start(TRACE_FRAMES)
        warmup = min(TRACE_WARMUP_S, duration / 2)
        await asyncio.sleep(warmup)
        first = tracemalloc.take_snapshot()
        await asyncio.sleep(duration - warmup)
        last = tracemalloc.take_snapshot()
        tracemalloc.stop()
        self._trace_top = _top_growth(last.compare_to(first, "traceback"))

    async def _async_backlog(self) -> None:
        """Sample every 10 s the recorder's queue and what holds memory.

        A growing queue holds events in memory; SQLite's own heap (its page caches)
        and Python's allocated blocks tell the recorder's cache from live objects.
        """
        began = time.monotonic()
        while True:
            t = time.monotonic() - began
            self._backlog.append((t, recorder_backlog(self._hass)))
            used = self._sqlite_used
            self._inside.append(
                {
                    "t": round(t, 2),
                    "sqlite_mib": None if used is None else used() / 2**20,
                    "python_blocks": sys.getallocatedblocks(),
                    **({} if self._malloc is None else self._malloc()),
                }
            )
            await asyncio.sleep(BACKLOG_S)

    async def _async_probe(self) -> None:
        """Sleep 0.1 s again and again; record how much longer each sleep took.

        A long one also records how much CPU the loop's thread and the whole
        process used meanwhile: a busy loop, or one waiting for a core or the GIL.
        """
        loop = asyncio.get_running_loop()
        while True:
            before = (loop.time(), time.thread_time(), time.process_time())
            await asyncio.sleep(PROBE_S)
            lag = (loop.time() - before[0] - PROBE_S) * 1000.0
            self._lag_ms.append(lag)
            if lag > SLOW_PROBE_MS:
                self._slow.append(
                    {
                        "ts": time.time(),
                        "lag_ms": lag,
                        "loop_cpu_ms": (time.thread_time() - before[1]) * 1000.0,
                        "process_cpu_ms": (time.process_time() - before[2]) * 1000.0,
                    }
                )

    async def _async_cycles(self, unit: Unit) -> None:
        """Start, run, make a stop due, wait for it; again and again."""
        while True:
            if await self._async_start(unit) and await self._async_wait_on(unit):
                await asyncio.sleep(self._rng.uniform(*RUN_S))
                await self._async_trigger(unit)
            await asyncio.sleep(PAUSE_S)

    async def _async_start(self, unit: Unit) -> bool:
        """Ask the monitor to start a discharge; count a refusal by its key."""
        data = {"config_entry_id": unit.entry_id, "power_kw": POWER_KW}
        try:
            await self._hass.services.async_call(
                MONITOR,
                "start_discharge",
                data | {"duration_minutes": 60},
                blocking=True,
            )
        except HomeAssistantError as err:
            key = err.translation_key or type(err).__name__
            unit.refusals[key] = unit.refusals.get(key, 0) + 1
            return False
        return True

    async def _async_wait_on(self, unit: Unit) -> bool:
        """Wait until the unit's enable helper is on (the discharge runs)."""
        for _ in range(int(START_WAIT_S / PROBE_S)):
            state = self._hass.states.get(unit.ids["enable"])
            if state is not None and state.state == "on":
                return True
            await asyncio.sleep(PROBE_S)
        unit.refusals["never_on"] = unit.refusals.get("never_on", 0) + 1
        return False

    async def _async_trigger(self, unit: Unit) -> None:
        """Make a stop due at the next tick's SOC write; record until it stopped."""
        cycle = Cycle(kind=KINDS[len(unit.cycles) % len(KINDS)])
        unit.stopped.clear()
        unit.reason.clear()
        unit.armed = cycle
        unit.trigger = cycle.kind
        unit.cycles.append(cycle)
        try:
            async with asyncio.timeout(STOP_WAIT_S):
                await unit.stopped.wait()
            async with asyncio.timeout(REASON_WAIT_S):
                await unit.reason.wait()
        except TimeoutError:
            LOGGER.warning("Unit %s: no stop or no reason for %s", unit.index, cycle)
        finally:
            unit.armed = None
            unit.trigger = None

    @callback
    def _async_on_call(self, event: Event[Any]) -> None:
        """Record the first call on an armed unit's controls, and its turn_off."""
        target = _entity_ids(event.data.get("service_data", {}))
        units = {self._by_control[e] for e in target if e in self._by_control}
        for unit in units:
            cycle = unit.armed
            if cycle is None or not cycle.sent:
                continue
            if cycle.first_call_ts is None:
                cycle.first_call_ts = event.time_fired_timestamp
                cycle.first_call = (
                    f"{event.data.get('domain')}.{event.data.get('service')}"
                )
            if event.data.get("service") == "turn_off" and unit.ids["enable"] in target:
                cycle.turn_off_ts = event.time_fired_timestamp
                unit.stopped.set()

    @callback
    def _async_on_state(self, event: Event[Any]) -> None:
        """Count state changes (what the recorder must write) by whose entity."""
        if not self._measuring:
            return
        entity_id = str(event.data.get("entity_id"))
        owner = "other"
        if entity_id.partition(".")[2].startswith(MONITOR):
            owner = "monitors"
            kind = _entity_kind(entity_id)
            self._changes_by_entity[kind] = self._changes_by_entity.get(kind, 0) + 1
        elif entity_id in self._sources:
            owner = "sources"
        elif entity_id in self._by_control:
            owner = "controls"
        self._changes[owner] = self._changes.get(owner, 0) + 1

    @callback
    def _async_on_stopped(self, event: Event[Any]) -> None:
        """Attach the monitor's stop reason to the armed cycle of that entry."""
        for unit in self._units:
            if unit.entry_id == event.data.get("entry_id") and unit.armed is not None:
                unit.armed.reason = str(event.data.get("reason"))
                unit.reason.set()

    def _write_output(self) -> None:
        """Write every recorded time (executor: file I/O)."""
        began, ended = self._window
        result = {
            "began": began,
            "ended": ended,
            "tick_s": TICK_S,
            "probe_s": PROBE_S,
            "lag_ms": self._lag_ms,
            "slow_probes": self._slow,
            "memory_trace": self._trace_top,
            "recorder_backlog": self._backlog,
            "memory_inside": self._inside,
            "state_changes": self._changes,
            "monitor_changes": self._changes_by_entity,
            "gc": self._gc.as_dict() | self._census,
            "units": [
                {
                    "index": unit.index,
                    "entry_id": unit.entry_id,
                    "writes": unit.writes,
                    "refusals": unit.refusals,
                    "cycles": [c.as_dict() for c in unit.cycles],
                }
                for unit in self._units
            ],
        }
        tmp = self._output.with_suffix(".tmp")
        tmp.write_text(json.dumps(result))
        tmp.replace(self._output)
        LOGGER.info("bench_load: wrote %s", self._output)


def census(objects: list[Any]) -> dict[str, Any]:
    """Return how many objects the collector tracks, and of which packages' types most."""
    counts: dict[str, int] = {}
    for obj in objects:
        package = _package(obj)
        counts[package] = counts.get(package, 0) + 1
    top = sorted(counts.items(), key=lambda item: item[1], reverse=True)[:GC_TOP]
    return {"objects_at_start": len(objects), "objects_by_package": dict(top)}


def _package(obj: Any) -> str:
    """Return the top package of an object's type; of a function, of its module."""
    package = str(type(obj).__module__).partition(".")[0]
    if package != "builtins":
        return package
    try:
        # Functions, classes, methods know their module; dicts and tuples do not.
        module = getattr(obj, "__module__", None)
    except Exception:  # noqa: BLE001 - a dead weak proxy, a lazy object...
        module = None
    return str(module).partition(".")[0] if isinstance(module, str) else package


class MallInfo2(ctypes.Structure):
    """glibc's struct mallinfo2 (malloc(3)'s heap, every arena)."""

    _fields_: ClassVar = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def malloc_info() -> Callable[[], dict[str, float]] | None:
    """Return a reader of malloc's memory in use and held free (MiB), glibc only."""
    try:
        function = ctypes.CDLL(None).mallinfo2
    except (OSError, AttributeError):
        return None
    function.restype = MallInfo2
    function.argtypes = []

    def read() -> dict[str, float]:
        """Return malloc's bytes in use (with mmapped blocks) and free in its arenas."""
        info = function()
        return {
            "malloc_in_use_mib": (info.uordblks + info.hblkhd) / 2**20,
            "malloc_free_mib": info.fordblks / 2**20,
        }

    return read


def sqlite_memory_used() -> Callable[[], int] | None:
    """Return SQLite's sqlite3_memory_used (its whole heap: page caches), if found."""
    name = ctypes.util.find_library("sqlite3")
    if name is None:
        return None
    try:
        function = ctypes.CDLL(name).sqlite3_memory_used
    except (OSError, AttributeError):
        return None
    function.restype = ctypes.c_int64
    function.argtypes = []
    return cast("Callable[[], int]", function)


def recorder_backlog(hass: HomeAssistant) -> int | None:
    """Return the recorder's queued events, None without a recorder."""
    try:
        return get_instance(hass).backlog
    except KeyError:
        return None


def _top_growth(diffs: list[tracemalloc.StatisticDiff]) -> list[dict[str, Any]]:
    """Return the allocation sites (call stacks) whose live memory grew most."""
    grown = sorted(diffs, key=lambda d: d.size_diff, reverse=True)[:TRACE_TOP]
    return [
        {
            "kib": round(d.size_diff / 1024.0, 1),
            "blocks": d.count_diff,
            "stack": [f"{_short(f.filename)}:{f.lineno}" for f in d.traceback],
        }
        for d in grown
    ]


def _short(path: str) -> str:
    """Return a source path from its package on (site-packages, custom_components)."""
    for marker in ("site-packages/", "custom_components/", "python3.13/"):
        if marker in path:
            return path.rpartition(marker)[2]
    return path


def _entity_kind(entity_id: str) -> str:
    """Return a monitor entity's id without the entry's number (sensor.x_2 -> sensor.x)."""
    base, _, suffix = entity_id.rpartition("_")
    return base if suffix.isdigit() else entity_id


def _entity_ids(service_data: Any) -> list[str]:
    """Return the entity ids a service call targets."""
    if not isinstance(service_data, dict):
        return []
    value = service_data.get(ATTR_ENTITY_ID, [])
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []
