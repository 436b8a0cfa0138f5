"""Simulated home energy plant (PV, load, battery, inverter, meters) for the export monitor."""

from .baseline import BaselineConfig, BaselineController
from .commands import (
    Command,
    SetCutoff,
    SetDuration,
    SetEnable,
    SetPower,
    apply_command,
)
from .plant import DayTotals, Plant, PlantConfig, Published, Truth
from .runner import Controller, DayResult, IdleController, run_day
from .scenarios import SCENARIO_NAMES, ScenarioDay, scenario_day, scenario_days

__all__ = [
    "SCENARIO_NAMES",
    "BaselineConfig",
    "BaselineController",
    "Command",
    "Controller",
    "DayResult",
    "DayTotals",
    "IdleController",
    "Plant",
    "PlantConfig",
    "Published",
    "ScenarioDay",
    "SetCutoff",
    "SetDuration",
    "SetEnable",
    "SetPower",
    "Truth",
    "apply_command",
    "run_day",
    "scenario_day",
    "scenario_days",
]
