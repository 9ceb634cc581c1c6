"""docs/architecture.md stays true: its table of modules names every module of the
package, and nothing that is not one."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "feeds"
ROW = re.compile(r"^\| `([a-z_]+/?)` \|", re.MULTILINE)


def documented() -> set[str]:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## Modules", 1)[1]
    return set(ROW.findall(section))


def modules() -> set[str]:
    """Public modules (`name`) and packages (`name/`) directly under feeds/."""
    found = {p.stem for p in PACKAGE.glob("*.py") if not p.name.startswith("_")} | {
        f"{p.name}/" for p in PACKAGE.iterdir() if (p / "__init__.py").exists()
    }
    return found


def test_every_module_is_in_the_architecture_table() -> None:
    assert modules() - documented() == set()


def test_every_module_in_the_architecture_table_exists() -> None:
    assert documented() - modules() == set()


def test_the_table_is_read() -> None:
    assert {"types", "errors", "cli", "store/"} <= documented()
