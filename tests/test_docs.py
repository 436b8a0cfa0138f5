"""Check that the README and docs/ link only to documents that exist."""

from pathlib import Path
import re
from typing import Final

import pytest

ROOT: Final = Path(__file__).resolve().parent.parent
DOCUMENTS: Final = sorted(
    [ROOT / "README.md", ROOT / "PRODUCTION_GUIDE.md", *(ROOT / "docs").glob("*.md")]
)
# A relative markdown link to a document or folder, without its #anchor.
LINK: Final = re.compile(r"\]\((?!https?://|#)([^)#\s]+)(?:#[^)]*)?\)")
# A test named as proof: `tests/test_x.py::test_name`, `tests/sub/test_x.py`,
# `test_x.py::test_name`, a file alone,
# or a further `::test_name` of the file named just before it.
NAMED_TEST: Final = re.compile(
    r"`((?:tests/)?(?:[a-z_]+/)?test_\w+\.py)?(?:::(test_\w+))?`"
)


def linked_documents(document: Path) -> list[str]:
    """Return the relative link targets of a document that are not pictures."""
    targets = LINK.findall(document.read_text(encoding="utf-8"))
    return [target for target in targets if not target.endswith(".png")]


@pytest.mark.parametrize(
    "document", DOCUMENTS, ids=[str(path.relative_to(ROOT)) for path in DOCUMENTS]
)
def test_links_resolve(document: Path) -> None:
    """Every relative link of the document points to a file of the repository."""
    missing = [
        target
        for target in linked_documents(document)
        if not (document.parent / target).exists()
    ]

    assert missing == []


def named_tests(document: Path) -> list[tuple[str, str | None]]:
    """Return the (test file, test function or None) pairs a document names as proof."""
    named: list[tuple[str, str | None]] = []
    current = ""
    for match in NAMED_TEST.finditer(document.read_text(encoding="utf-8")):
        path, name = match.groups()
        if path is None and name is None:
            continue
        current = path or current
        named.append((current, name))
    return named


def resolve_test_file(path: str) -> Path:
    """Return the file a named test file means: under tests/ or tests/logic/."""
    candidates = [ROOT / path, ROOT / "tests" / path, ROOT / "tests" / "logic" / path]
    return next(
        (candidate for candidate in candidates if candidate.exists()), ROOT / path
    )


@pytest.mark.parametrize(
    "document", DOCUMENTS, ids=[str(path.relative_to(ROOT)) for path in DOCUMENTS]
)
def test_named_tests_exist(document: Path) -> None:
    """Every test a document names as proof exists, so no claim points at nothing."""
    missing = [
        f"{path}::{name}" if name else path
        for path, name in named_tests(document)
        if not resolve_test_file(path).exists()
        or (
            name is not None
            and not re.search(
                rf"^(?:async )?def {name}\(",
                resolve_test_file(path).read_text(encoding="utf-8"),
                re.MULTILINE,
            )
        )
    ]

    assert missing == []
