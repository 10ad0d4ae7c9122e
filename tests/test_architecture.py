"""The layer rules of DESIGN.md, enforced with import-linter (contracts in pyproject.toml),
and no import cycle anywhere in the package (checked here with grimp, import-linter's
import graph)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import grimp
import networkx as nx

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint), "--config", str(ROOT / "pyproject.toml")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken" in result.stdout


def import_cycles(package: str) -> list[list[str]]:
    """Return every import cycle among the package's modules, smallest first.

    Every import counts: at module level, inside functions, and under
    ``if TYPE_CHECKING`` (a type-only import still ties the two modules together).
    """
    graph = grimp.build_graph(package, exclude_type_checking_imports=False)
    imports = nx.DiGraph()
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.split(".")[0] == package:
                imports.add_edge(module, imported)
    parts = [sorted(c) for c in nx.strongly_connected_components(imports) if len(c) > 1]
    loops = [m for m in imports if imports.has_edge(m, m)]
    return sorted(parts + [[m] for m in loops], key=len)


def test_no_import_cycles() -> None:
    cycles = import_cycles("geogrid")
    assert cycles == [], "modules that import each other, directly or round a loop: " + (
        "; ".join(" <-> ".join(c) for c in cycles)
    )


def test_the_cycle_check_sees_cycles(tmp_path: Path, monkeypatch) -> None:
    # a package whose two modules import each other, one of them only for type hints
    pkg = tmp_path / "loopy"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from loopy import b\n")
    (pkg / "b.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from loopy import a\n"
    )
    (pkg / "c.py").write_text("from loopy import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles("loopy") == [["loopy.a", "loopy.b"]]


def private_imports(package: str) -> list[tuple[str, str]]:
    """Return ``(importer, module)`` where a private module is imported from outside the
    package that holds it (``a/_b.py`` belongs to ``a/`` and everything under it)."""
    graph = grimp.build_graph(package, exclude_type_checking_imports=False)
    found = []
    for module in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(module):
            parts = imported.split(".")
            private = [k for k, p in enumerate(parts) if p.startswith("_") and p[1:2] != "_"]
            if parts[0] != package or not private:
                continue
            owner = ".".join(parts[: private[0]])
            if module != owner and not module.startswith(owner + "."):
                found.append((module, imported))
    return found


def test_private_modules_stay_in_their_package() -> None:
    # DESIGN.md: a leading underscore means "not for outside"; when another package needs
    # it, it becomes a documented public name
    assert private_imports("geogrid") == []


def test_the_private_import_check_sees_them(tmp_path: Path, monkeypatch) -> None:
    pkg = tmp_path / "leaky"
    (pkg / "inner").mkdir(parents=True)
    for init in (pkg / "__init__.py", pkg / "inner" / "__init__.py"):
        init.write_text("")
    (pkg / "inner" / "_secret.py").write_text("")
    (pkg / "inner" / "ok.py").write_text("from leaky.inner import _secret\n")
    (pkg / "outside.py").write_text("from leaky.inner import _secret\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert private_imports("leaky") == [("leaky.outside", "leaky.inner._secret")]
