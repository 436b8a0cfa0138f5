"""Start Home Assistant with `sim` importable; run by scripts/hass, not imported."""
# ruff: noqa: INP001, T201
# (a script run by scripts/hass, not a package; it prints one line when it skips a check)

from __future__ import annotations

import os
from pathlib import Path
import sys

ROOT = Path(__file__).resolve().parent.parent


# The repo root stays off sys.path afterwards: its custom_components/ (and tests/,
# bench/) must not join the config directory's custom_components namespace.
def import_sim() -> None:
    """Import `sim` from the repo root without leaving the root on sys.path."""
    sys.path.insert(0, str(ROOT))
    try:
        import sim  # noqa: F401, PLC0415
    finally:
        sys.path.remove(str(ROOT))


def main() -> int:
    """Run Home Assistant's own entry point; a restart request re-executes it."""
    import_sim()
    from homeassistant import __main__ as ha_main  # noqa: PLC0415
    from homeassistant.const import (  # noqa: PLC0415
        REQUIRED_PYTHON_VER,
        RESTART_EXIT_CODE,
    )

    if sys.version_info[:3] < REQUIRED_PYTHON_VER:
        have = ".".join(map(str, sys.version_info[:3]))
        need = ".".join(map(str, REQUIRED_PYTHON_VER))
        print(
            f"hass: Python {have} is older than the {need} Home Assistant asks for: "
            "skipping its version check (development only)",
            file=sys.stderr,
            flush=True,
        )
        ha_main.validate_python = lambda: None
    sys.argv = ["hass", *sys.argv[1:]]
    code = ha_main.main()
    if code == RESTART_EXIT_CODE:
        # Restart from the UI: same process id, so scripts/develop keeps track of it.
        os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])  # noqa: S606
    return code


if __name__ == "__main__":
    sys.exit(main())
