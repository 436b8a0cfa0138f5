"""The order of a decision's actions: the stop goes out before anything is told."""

from __future__ import annotations

from typing import Final

from hypothesis import given, strategies as st
import pytest

from custom_components.export_monitor.logic.control_state import (
    Action,
    Dismiss,
    Notify,
    Publish,
    Save,
    Stop,
    Warn,
    WriteFloor,
    stop_first,
)
from custom_components.export_monitor.logic.errors import ErrorState
from custom_components.export_monitor.logic.supervision import StopReason

STOP: Final = Stop(StopReason.INVERTER_NOT_OBEYING)
TOLD: Final = Notify(ErrorState.INVERTER_NOT_OBEYING)
WARNED: Final = Warn("The inverter ended the forced discharge by itself")
FLOOR: Final = WriteFloor(40.0)

CASES: Final = {
    "nothing": ((), ()),
    "a stop alone": ((STOP,), (STOP,)),
    "told, then stop": (
        (WARNED, TOLD, Publish(), STOP),
        (STOP, WARNED, TOLD, Publish()),
    ),
    "notices of the tick, a floor, then stop": (
        (Dismiss(ErrorState.STALE_DATA), FLOOR, TOLD, STOP),
        (STOP, Dismiss(ErrorState.STALE_DATA), FLOOR, TOLD),
    ),
    "no stop: order kept": ((TOLD, Save(), Publish()), (TOLD, Save(), Publish())),
}


@pytest.mark.parametrize(("actions", "expected"), list(CASES.values()), ids=list(CASES))
def test_stop_first(actions: tuple[Action, ...], expected: tuple[Action, ...]) -> None:
    """The stop comes first; every other action keeps its place relative to the rest."""
    assert stop_first(actions) == expected


ACTIONS: Final = st.lists(
    st.sampled_from(
        [STOP, Stop(StopReason.DATA_UNSAFE), TOLD, WARNED, FLOOR, Publish(), Save()]
    ),
    max_size=8,
).map(tuple)


@given(actions=ACTIONS)
def test_stop_first_loses_nothing(actions: tuple[Action, ...]) -> None:
    """Nothing is dropped or added; stops lead, the rest follow in their order."""
    ordered = stop_first(actions)
    stops = [action for action in actions if isinstance(action, Stop)]
    rest = [action for action in actions if not isinstance(action, Stop)]
    assert list(ordered) == stops + rest
