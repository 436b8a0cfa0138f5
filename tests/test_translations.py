"""Check that every translation file has exactly en.json's keys and placeholders."""

from collections.abc import Iterator, Mapping
import json
from pathlib import Path
import re
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers.translation import async_get_translations
import pytest

from custom_components.export_monitor.const import DOMAIN

TRANSLATIONS: Final = (
    Path(__file__).resolve().parent.parent
    / "custom_components"
    / "export_monitor"
    / "translations"
)
LANGUAGES: Final = ("de",)
PLACEHOLDER: Final = re.compile(r"\{[^{}]*\}")


def flatten(tree: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """Yield every text of a translation tree with its dotted key."""
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from flatten(value, f"{path}.")
        else:
            yield path, value


def texts(language: str) -> dict[str, str]:
    """Return one language's texts by dotted key."""
    tree = json.loads((TRANSLATIONS / f"{language}.json").read_text(encoding="utf-8"))
    return dict(flatten(tree))


def placeholders(text: str) -> list[str]:
    """Return the placeholders of a text, sorted."""
    return sorted(PLACEHOLDER.findall(text))


ENGLISH: Final = texts("en")


def test_no_other_translation_files() -> None:
    """Every translation file besides en.json is one this test checks."""
    files = {path.stem for path in TRANSLATIONS.glob("*.json")}

    assert files == {"en", *LANGUAGES}


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_key_missing(language: str) -> None:
    """The translation has every key of en.json."""
    assert sorted(ENGLISH.keys() - texts(language).keys()) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_key_extra(language: str) -> None:
    """The translation has no key that en.json lacks."""
    assert sorted(texts(language).keys() - ENGLISH.keys()) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_placeholders_match(language: str) -> None:
    """Each text has the same placeholders as its English original."""
    translated = texts(language)
    differing = {
        key: (placeholders(text), placeholders(translated[key]))
        for key, text in ENGLISH.items()
        if key in translated and placeholders(text) != placeholders(translated[key])
    }

    assert differing == {}


@pytest.mark.parametrize("language", ["en", *LANGUAGES])
def test_texts_not_empty(language: str) -> None:
    """No text is empty or only spaces."""
    assert [key for key, text in texts(language).items() if not text.strip()] == []


async def test_home_assistant_serves_german(hass: HomeAssistant) -> None:
    """Home Assistant loads de.json for a German user."""
    served = await async_get_translations(hass, "de", "entity", {DOMAIN})

    key = f"component.{DOMAIN}.entity.sensor.system_health.name"
    assert served[key] == texts("de")["entity.sensor.system_health.name"]
    assert served[key] != ENGLISH["entity.sensor.system_health.name"]
