"""Check that the README and docs/ link only to documents that exist."""

from pathlib import Path
import re
from typing import Final

import pytest

ROOT: Final = Path(__file__).resolve().parent.parent
DOCUMENTS: Final = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
# A relative markdown link to a document or folder, without its #anchor.
LINK: Final = re.compile(r"\]\((?!https?://|#)([^)#\s]+)(?:#[^)]*)?\)")


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
