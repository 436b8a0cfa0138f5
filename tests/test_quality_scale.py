"""Check quality_scale.yaml names every rule of the Integration Quality Scale, validly."""

from pathlib import Path
from typing import Any, Final

from homeassistant.util.yaml import load_yaml_dict
import pytest

QUALITY_SCALE: Final = (
    Path(__file__).resolve().parent.parent
    / "custom_components"
    / "export_monitor"
    / "quality_scale.yaml"
)
# The rules as Home Assistant's developer documentation lists them, by tier.
BRONZE: Final = (
    "action-setup",
    "appropriate-polling",
    "brands",
    "common-modules",
    "config-flow-test-coverage",
    "config-flow",
    "dependency-transparency",
    "docs-actions",
    "docs-high-level-description",
    "docs-installation-instructions",
    "docs-removal-instructions",
    "entity-event-setup",
    "entity-unique-id",
    "has-entity-name",
    "runtime-data",
    "test-before-configure",
    "test-before-setup",
    "unique-config-entry",
)
SILVER: Final = (
    "action-exceptions",
    "config-entry-unloading",
    "docs-configuration-parameters",
    "docs-installation-parameters",
    "entity-unavailable",
    "integration-owner",
    "log-when-unavailable",
    "parallel-updates",
    "reauthentication-flow",
    "test-coverage",
)
GOLD: Final = (
    "devices",
    "diagnostics",
    "discovery-update-info",
    "discovery",
    "docs-data-update",
    "docs-examples",
    "docs-known-limitations",
    "docs-supported-devices",
    "docs-supported-functions",
    "docs-troubleshooting",
    "docs-use-cases",
    "dynamic-devices",
    "entity-category",
    "entity-device-class",
    "entity-disabled-by-default",
    "entity-translations",
    "exception-translations",
    "icon-translations",
    "reconfiguration-flow",
    "repair-issues",
    "stale-devices",
)
PLATINUM: Final = ("async-dependency", "inject-websession", "strict-typing")
ALL_RULES: Final = (*BRONZE, *SILVER, *GOLD, *PLATINUM)
RULE_COUNT: Final = 52
STATUSES: Final = frozenset({"done", "exempt", "todo"})


def load_rules() -> dict[str, Any]:
    """Return the rules mapping of quality_scale.yaml."""
    rules: dict[str, Any] = load_yaml_dict(QUALITY_SCALE)["rules"]
    return rules


def status_of(value: Any) -> tuple[str, str | None]:
    """Return a rule's status and comment, in either of the file's two forms."""
    if isinstance(value, str):
        return value, None
    return value["status"], value.get("comment")


def test_rule_list_complete() -> None:
    """The test's own list holds the 52 rules, each once."""
    assert len(set(ALL_RULES)) == len(ALL_RULES) == RULE_COUNT


def test_every_rule_listed() -> None:
    """quality_scale.yaml names exactly the rules of the scale."""
    assert sorted(load_rules()) == sorted(ALL_RULES)


@pytest.mark.parametrize("rule", ALL_RULES)
def test_rule_status_valid(rule: str) -> None:
    """Each rule is done, todo or exempt, and an exemption says why."""
    status, comment = status_of(load_rules()[rule])

    assert status in STATUSES
    assert status != "exempt" or (comment or "").strip()
