"""The layers of DESIGN.md hold: the audit log's core and the apps below the insights never
import audit.insights (the insights read from everything; nothing writes through them)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The floor and the domain apps. The project package (governance/) wires everything
# together (settings, the demo loader), so it is not checked here.
BELOW = ["audit", "approvals", "catalog"]


def _modules():
    for app in BELOW:
        for path in sorted((ROOT / app).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative.parts[:2] == ("audit", "insights") or "tests" in relative.parts:
                continue
            if relative.parts[-1] == "refresh_rollups.py":  # the insights' own command
                continue
            yield relative


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_nothing_below_the_insights_imports_them():
    offenders = {
        str(path): sorted(n for n in _imports(ROOT / path) if n.startswith("audit.insights"))
        for path in _modules()
    }
    assert {path: names for path, names in offenders.items() if names} == {}
