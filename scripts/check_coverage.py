"""Fail unless config_flow.py and every module under logic/ and profiles/ are fully covered.

Usage: .venv/bin/python scripts/check_coverage.py custom_components/export_monitor
Reads the .coverage data file the pytest run left (lines and branches).
"""

from pathlib import Path
import sys
from typing import Final

from coverage import Coverage
from coverage.exceptions import CoverageException

FULL: Final = 100.0


def strict_files(package: Path) -> list[Path]:
    """Return the modules that must be 100 % covered."""
    return [
        package / "config_flow.py",
        *sorted((package / "logic").rglob("*.py")),
        *sorted((package / "profiles").rglob("*.py")),
    ]


def main(package: Path) -> int:
    """Print the strict modules' report and return the exit status."""
    required = [package / "config_flow.py", package / "logic", package / "profiles"]
    missing = [str(path) for path in required if not path.exists()]
    if missing:
        print(f"coverage gate: missing {', '.join(missing)}")
        return 1
    files = [str(path.resolve()) for path in strict_files(package)]
    coverage = Coverage()
    coverage.load()
    unmeasured = set(files) - set(coverage.get_data().measured_files())
    if unmeasured:
        print(
            f"coverage gate: never imported by a test: {', '.join(sorted(unmeasured))}"
        )
        return 1
    try:
        total = coverage.report(include=files, show_missing=True, skip_covered=False)
    except CoverageException as err:
        print(f"coverage gate: {err}")
        return 1
    if total < FULL:
        print(f"coverage gate: FAILED, {total:.2f} % < 100 % (missing lines above)")
        return 1
    print(f"coverage gate: 100 % on {len(files)} strict modules")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
