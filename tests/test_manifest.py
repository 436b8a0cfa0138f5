"""Check manifest.json, hacs.json and the brand images Home Assistant and HACS read."""

import json
from pathlib import Path
import struct
from typing import Any, Final

from awesomeversion import AwesomeVersion
from homeassistant import const as ha_const
from homeassistant.components.automation.config import AUTOMATION_BLUEPRINT_SCHEMA
from homeassistant.components.blueprint import Blueprint
from homeassistant.loader import Manifest
from homeassistant.util.yaml import load_yaml_dict
from PIL import Image
import pytest

ROOT: Final = Path(__file__).resolve().parent.parent
INTEGRATION: Final = ROOT / "custom_components" / "export_monitor"
REPO_URL: Final = "https://github.com/export-monitor/export_monitor"
ALERT_BLUEPRINT: Final = "blueprints/automation/export_monitor/alert.yaml"

HACS_KEYS: Final = frozenset(
    {
        "content_in_root",
        "country",
        "filename",
        "hacs",
        "hide_default_branch",
        "homeassistant",
        "name",
        "persistent_directory",
        "render_readme",
        "zip_release",
    }
)
PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
PNG_RGBA: Final = 6


def load_json(path: Path) -> dict[str, Any]:
    """Return the JSON object stored at path."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


MANIFEST: Final = load_json(INTEGRATION / "manifest.json")
HACS: Final = load_json(ROOT / "hacs.json")


def test_manifest_key_order() -> None:
    """Manifest keys are domain, name, then the rest in alphabetical order."""
    keys = list(MANIFEST)
    assert keys[:2] == ["domain", "name"]
    assert keys[2:] == sorted(keys[2:])


def test_manifest_keys_known_to_home_assistant() -> None:
    """Every manifest key is one Home Assistant's loader knows."""
    assert set(MANIFEST) <= set(Manifest.__annotations__)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        pytest.param("domain", "export_monitor", id="domain"),
        pytest.param("name", "Energy Export Monitor", id="name"),
        pytest.param("codeowners", ["@export-monitor"], id="codeowners"),
        pytest.param("config_flow", True, id="config_flow"),
        pytest.param("documentation", REPO_URL, id="documentation"),
        pytest.param("integration_type", "service", id="integration_type"),
        pytest.param("iot_class", "calculated", id="iot_class"),
        pytest.param("issue_tracker", f"{REPO_URL}/issues", id="issue_tracker"),
        pytest.param("requirements", [], id="requirements"),
        pytest.param("version", "0.2.0", id="version"),
    ],
)
def test_manifest_value(key: str, expected: object) -> None:
    """A required manifest key holds its agreed value."""
    assert MANIFEST[key] == expected


def test_manifest_version_is_valid() -> None:
    """The version parses the way Home Assistant validates custom integrations."""
    assert AwesomeVersion(MANIFEST["version"]).valid


def test_hacs_keys_known() -> None:
    """hacs.json uses only keys HACS documents."""
    assert set(HACS) <= HACS_KEYS


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        pytest.param("name", "Energy Export Monitor", id="name"),
        pytest.param("homeassistant", "2026.2.0", id="homeassistant"),
        pytest.param("render_readme", True, id="render_readme"),
    ],
)
def test_hacs_value(key: str, expected: object) -> None:
    """A hacs.json key holds its agreed value."""
    assert HACS[key] == expected


def test_hacs_minimum_is_not_newer_than_tested_home_assistant() -> None:
    """The minimum Home Assistant in hacs.json is not newer than the one we test on."""
    assert AwesomeVersion(HACS["homeassistant"]) <= AwesomeVersion(ha_const.__version__)


@pytest.mark.parametrize(
    ("file_name", "size"),
    [
        pytest.param("icon.png", 256, id="icon"),
        pytest.param("icon@2x.png", 512, id="icon@2x"),
    ],
)
def test_brand_image_header(file_name: str, size: int) -> None:
    """The brand image is a square 8-bit RGBA PNG of the expected size."""
    header = (INTEGRATION / "brand" / file_name).read_bytes()[:26]
    _, chunk, width, height, depth, colour = struct.unpack(">I4sIIBB", header[8:])
    assert header[:8] == PNG_SIGNATURE
    assert (chunk, width, height, depth, colour) == (b"IHDR", size, size, 8, PNG_RGBA)


@pytest.mark.parametrize(
    "file_name",
    [pytest.param("icon.png", id="icon"), pytest.param("icon@2x.png", id="icon@2x")],
)
def test_brand_image_background_transparent(file_name: str) -> None:
    """The brand image's corners are fully transparent."""
    with Image.open(INTEGRATION / "brand" / file_name) as image:
        last = image.width - 1
        corners = [(0, 0), (last, 0), (0, last), (last, last)]
        assert [image.getpixel(xy)[3] for xy in corners] == [0, 0, 0, 0]


def test_licence_present() -> None:
    """The repository root holds the MIT licence HACS asks for, with its holder."""
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")

    assert text.startswith("MIT License\n")
    assert "Copyright (c) 2026 Energy Export Monitor contributors" in text


def test_alert_blueprint_valid() -> None:
    """The alert blueprint passes the automation blueprint schema and links to itself."""
    blueprint = Blueprint(
        load_yaml_dict(ROOT / ALERT_BLUEPRINT),
        expected_domain="automation",
        schema=AUTOMATION_BLUEPRINT_SCHEMA,
    )

    assert blueprint.metadata["source_url"] == f"{REPO_URL}/blob/main/{ALERT_BLUEPRINT}"
    assert blueprint.metadata["homeassistant"]["min_version"] == HACS["homeassistant"]


def test_one_integration_where_hacs_looks() -> None:
    """With content_in_root false, HACS takes the one folder under custom_components."""
    folders = [
        path.name for path in (ROOT / "custom_components").iterdir() if path.is_dir()
    ]

    assert HACS["content_in_root"] is False
    assert [name for name in folders if name != "__pycache__"] == [MANIFEST["domain"]]


def test_readme_names_the_licence() -> None:
    """The README HACS renders exists and names the licence."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")

    assert "[MIT](LICENSE)" in readme
