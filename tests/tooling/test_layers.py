"""Each folder of kata/ has one audience, and the imports prove it.

- lessons (reference/, exercises/) and kata/given/ import only the kernel (kata,
  kata.course, kata.stubs) and kata.given;
- the module tests and kata/testing/ import the kernel, kata.given and kata.testing;
- kata/tools/ imports the kernel and kata.tools only;
- nobody but kata/tools itself (and kata/__main__.py, the tooling tests and bench/) imports kata.tools.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

from kata import course

KERNEL = {"kata", "kata.course", "kata.stubs"}
RULES = {  # folder (relative to the root) -> the kata layers its files may import
    "reference": {"kernel", "given"},
    "exercises": {"kernel", "given"},
    "kata/given": {"kernel", "given"},
    "kata/testing": {"kernel", "given", "testing"},
    "tests": {"kernel", "given", "testing"},  # the module tests; tests/tooling tests the tools
    "kata/tools": {"kernel", "tools"},
}
EXEMPT = ("tests/tooling", "bench")


def layer_of(name: str, root: Path) -> str | None:
    """'kernel', 'given', 'testing' or 'tools' for a kata module name; None for anything else."""
    if name != "kata" and not name.startswith("kata."):
        return None
    parts = name.split(".")
    if len(parts) > 1 and parts[1] in ("given", "testing", "tools"):
        return parts[1]
    return "kernel"


def imported_names(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, module) for every absolute import in ``path``; ``from kata import x`` resolves x if it is a module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                as_path = root / Path(*candidate.split("."))
                if as_path.with_suffix(".py").exists() or (as_path / "__init__.py").exists():
                    found.append((node.lineno, candidate))
    return found


def rule_for(path: Path, root: Path) -> set[str] | None:
    relative = path.relative_to(root).as_posix()
    if relative.startswith(EXEMPT):
        return None
    matches = [folder for folder in RULES if relative.startswith(folder + "/")]
    return RULES[max(matches, key=len)] if matches else None


def layer_violations(root: Path) -> list[str]:
    problems = []
    for path in sorted(root.rglob("*.py")):
        if ".venv" in path.parts or "__pycache__" in path.parts:
            continue
        allowed = rule_for(path, root)
        for line, name in imported_names(path, root):
            layer = layer_of(name, root)
            if layer is None:
                top = name.split(".")[0]
                if allowed is not None and top in ("reference", "exercises", "tests"):
                    problems.append(f"{path.relative_to(root)}:{line} imports {name}: lessons, tests and the kata "
                                    "package reach a lesson through the mod fixture or importlib, never by import")
                continue
            if allowed is not None and layer not in allowed:
                problems.append(f"{path.relative_to(root)}:{line} imports {name} (layer {layer}); "
                                f"{path.relative_to(root).parts[0]}/ may import only {sorted(allowed)}")
            if allowed is None and layer == "tools" and not path.relative_to(root).as_posix().startswith(
                    ("kata/tools/", "kata/__main__.py", *EXEMPT)):
                problems.append(f"{path.relative_to(root)}:{line} imports {name}: nothing imports the tools")
    return problems


def test_every_folder_keeps_to_its_layer():
    assert layer_violations(course.ROOT) == []


def test_a_lesson_that_imports_a_tool_or_a_test_helper_is_caught(tmp_path):
    root = tmp_path / "course"
    for folder in ("kata", "reference", "tests"):
        shutil.copytree(course.ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__", "tooling"))
    lesson = root / "reference" / "module01_cross_entropy.py"
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nfrom kata.tools import cli\nfrom kata.testing.expect "
                      "import show\n", encoding="utf-8")
    given = root / "kata" / "given" / "checks.py"
    given.write_text(given.read_text(encoding="utf-8") + "\nimport kata.testing.plugin\n", encoding="utf-8")
    tool = root / "kata" / "tools" / "hints.py"
    tool.write_text(tool.read_text(encoding="utf-8") + "\nfrom kata.given import checks\n", encoding="utf-8")
    found = "\n".join(layer_violations(root))
    assert "reference/module01_cross_entropy.py" in found and "kata.tools.cli" in found, found
    assert "kata.testing.expect" in found, found
    assert "kata/given/checks.py" in found and "kata.testing.plugin" in found, found
    assert "kata/tools/hints.py" in found and "kata.given" in found, found
