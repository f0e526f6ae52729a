"""``make verify``: prove the kata honest.

1. Structure: every module has its stub, tests and hints; every task has a
   function of its own, tests and at least three hint tiers; every test names
   one of its module's tasks; ruff finds nothing.
2. Stubs: the committed ``exercises/`` equal the stubs generated from
   ``reference/`` (no drift), and expose the same public API.
3. The reference passes every test, figures compared with their baselines.
4. The pristine stubs (generated afresh, whatever a learner has edited) fail
   every test with the not-done exception: no pass, no import or collection error.
5. Baselines: every figure test has one, and no baseline is orphaned.
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from kata import course, stubs
from kata.tools import hints
from kata.tools.stubs_command import git_exercise

COPIED = ("kata", "reference", "tests", "plots_baseline", "pyproject.toml", "Makefile")
MIN_TIERS = 3


def committed_exercise(module: course.Module) -> str | None:
    """The stub as committed in git's HEAD, or None outside git / when untracked."""
    return git_exercise(module)[1]


def public_api(source: str) -> dict[str, tuple]:
    """{name: (signature text, docstring)} of a module's public functions and classes."""
    api = {}
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
            signature = ast.unparse(node.args) if isinstance(node, ast.FunctionDef) else ""
            api[node.name] = (signature, ast.get_docstring(node))
    return api


def check_structure(modules: list[course.Module], problems: list[str]) -> None:
    for module in modules:
        tasks = module.tasks()
        if not tasks:
            problems.append(f"{module.name}: no '# TODO N.M:' task in reference/")
        for path in (module.test_path, module.hints_path):
            if not path.exists():
                problems.append(f"{module.name}: {path.relative_to(course.ROOT)} is missing")
        tiers = hints.load(module)
        for task in tasks:
            if not task.id.startswith(f"{module.number}."):
                problems.append(f"{module.name}: task {task.id} is numbered for another module")
            if len(tiers.get(task.id, [])) < MIN_TIERS:
                problems.append(f"{module.name}: task {task.id} needs at least {MIN_TIERS} hint tiers "
                                f"in {module.hints_path.name}")
        functions = {}
        for task in tasks:
            functions.setdefault(task.function, []).append(task.id)
        for function, ids in functions.items():
            if len(ids) > 1:
                problems.append(f"{module.name}: tasks {', '.join(ids)} share {function}(); give each task a function "
                                "of its own, so that a test of one judges only that one")
        for extra in sorted(set(tiers) - {t.id for t in tasks}):
            problems.append(f"{module.name}: hints for task {extra}, which does not exist")


GIVEAWAY_MIN = 14  # characters (white space removed): shorter lines (`return x`, `else:`) prove nothing


def _squeezed(text: str) -> str:
    return "".join(text.split())


def check_no_giveaways(modules: list[course.Module], problems: list[str]) -> None:
    """No line of a task's solution appears in its TODO comment or anywhere in the lesson's docstring."""
    for module in modules:
        source = module.reference_path.read_text(encoding="utf-8")
        lesson = _squeezed(ast.get_docstring(ast.parse(source)) or "")
        solutions = stubs.solution_lines(source)
        for task in module.tasks():
            todo = _squeezed(task.text)
            for line in solutions.get(task.id, []):
                code = _squeezed(line.split("  #")[0])
                if len(code) < GIVEAWAY_MIN:
                    continue
                where = "its TODO" if code in todo else "the lesson" if code in lesson else None
                if where:
                    problems.append(f"{module.name}: task {task.id} gives away a line of its solution in {where}: "
                                    f"{line.strip()[:80]!r}")


def check_stubs(modules: list[course.Module], problems: list[str]) -> dict[str, str]:
    pristine = {}
    for module in modules:
        reference_source = module.reference_path.read_text(encoding="utf-8")
        try:
            stub = stubs.make_stub(reference_source, str(module.reference_path.relative_to(course.ROOT)))
        except stubs.MarkerError as error:
            problems.append(str(error))
            continue
        pristine[module.name] = stub
        if "raise TODO(" not in stub:
            problems.append(f"{module.name}: the stub has no TODO to do")
        # The committed stub (a learner's edits in the working tree do not count), or the working
        # tree's when a maintainer has regenerated it and not yet committed: either must be the stub.
        committed = committed_exercise(module)
        working = module.exercise_path.read_text(encoding="utf-8") if module.exercise_path.exists() else None
        if stub not in (committed, working):
            problems.append(
                f"exercises/{module.name}.py (as committed) is not the stub generated from reference/: "
                "run `make stubs` and commit"
            )
        if public_api(stub) != public_api(reference_source):
            problems.append(f"{module.name}: stub and reference expose different public functions or docstrings")
    return pristine


def pristine_copy(pristine: dict[str, str], where: Path) -> None:
    for name in COPIED:
        source = course.ROOT / name
        if source.is_dir():
            shutil.copytree(source, where / name, ignore=shutil.ignore_patterns("__pycache__", "tooling"))
        elif source.exists():
            shutil.copy2(source, where / name)
    (where / "exercises").mkdir()
    shutil.copy2(course.ROOT / "exercises" / "__init__.py", where / "exercises" / "__init__.py")
    for name, text in pristine.items():
        (where / "exercises" / f"{name}.py").write_text(text, encoding="utf-8")


# The tooling tests in groups of about equal cost (seconds alone on 2 cores: mistakes + samples 50,
# warm runner + messages 70, commands 75), run side by side so that both cores stay busy.
TOOLING_GROUPS = (("test_mistakes.py", "test_pytorch_samples.py", "test_mnist_data.py", "test_layers.py"),
                  ("test_warm_runner.py", "test_learner_messages.py"))


def tooling_groups() -> list[list[str]]:
    """The tooling tests as separate runs; a file no group names runs in the last group."""
    files = sorted(f.name for f in (course.ROOT / "tests" / "tooling").glob("test_*.py"))
    groups = [[f"tests/tooling/{name}" for name in group if name in files] for group in TOOLING_GROUPS]
    named = {name for group in TOOLING_GROUPS for name in group}
    groups.append([f"tests/tooling/{name}" for name in files if name not in named])
    return [group for group in groups if group]


def start_run(target: str, tests: list[str], cwd: Path, out: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "pytest", *tests, "-q", "--tb=no", "--no-header", "-rN",
               f"--kata-json={out / 'kata.json'}", f"--mpl-results-path={out / 'mpl'}",
               "--mpl-generate-summary=json"]
    env = {**__import__("os").environ, "KATA_TARGET": target, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def read_run(process: subprocess.Popen, out: Path, label: str, problems: list[str]) -> list[dict]:
    output, _ = process.communicate()
    results_path = out / "kata.json"
    if not results_path.exists():
        problems.append(f"{label}: pytest did not run (exit {process.returncode}):\n{output[-2000:]}")
        return []
    data = json.loads(results_path.read_text())
    expected_dir = out.parent / "pristine" / "exercises" if label == "stub" else course.ROOT / "reference"
    if data.get("target_dir") and Path(data["target_dir"]).resolve() != expected_dir.resolve():
        problems.append(f"{label}: the tests imported {data['target_dir']}, not {expected_dir}")
    for error in data["collect_errors"]:
        problems.append(f"{label}: cannot collect {error['nodeid']}: {error['message']}")
    return data["tests"]


def check_reference(results: list[dict], out: Path, modules, problems: list[str]) -> None:
    task_ids = {t.id for m in modules for t in m.tasks()}
    for result in results:
        if result["outcome"] != "passed":
            problems.append(f"reference: {result['nodeid']} {result['outcome']}: {result['message']}")
        if result["task"] not in task_ids:
            problems.append(f"{result['nodeid']}: marked task {result['task']!r}, which is not a task of the course")
    tested = {r["task"] for r in results}
    for module in modules:
        count = sum(r["module"] == module.number for r in results)
        if count == 0:
            problems.append(f"{module.name}: no tests ran")
        for task in module.tasks():
            if task.id not in tested:
                problems.append(f"{module.name}: task {task.id} has no test marked @pytest.mark.task({task.id!r})")
    mpl_results = out / "mpl" / "results.json"
    statuses = json.loads(mpl_results.read_text()) if mpl_results.exists() else {}
    for result in results:
        if result["figure"]:
            entry = next((v for k, v in statuses.items() if k.endswith(result["nodeid"].split("::")[-1])), None)
            if entry is None or entry.get("image_status") != "match":
                status = entry.get("image_status") if entry else "not compared"
                problems.append(f"reference: {result['nodeid']}: figure {status}, expected a match with its baseline")


def check_stub_run(results: list[dict], problems: list[str]) -> None:
    for result in results:
        if result["outcome"] == "passed":
            problems.append(f"stub: {result['nodeid']} PASSES on the untouched stub: it cannot tell done from not done")
        elif result["kind"] != "todo":
            problems.append(f"stub: {result['nodeid']} fails with {result['kind']} ({result['message']}), not the not-done TODO")


def check_baselines(results: list[dict], modules, problems: list[str], every_module: bool) -> None:
    wanted = {r["figure"] for r in results if r["figure"]}
    present = {p.name for p in (course.ROOT / "plots_baseline").glob("*.png")}
    for name in sorted(wanted - present):
        problems.append(f"plots_baseline/{name} is missing (make baselines)")
    prefixes = tuple(f"module{m.number:02d}_" for m in modules)
    for name in sorted(present - wanted):
        if every_module or name.startswith(prefixes):
            problems.append(f"plots_baseline/{name} belongs to no figure test (orphan)")
    for name in wanted:
        if not name.startswith("module"):
            problems.append(f"figure {name}: name baselines moduleNN_<what>.png")


def check_lint(problems: list[str]) -> None:
    """ruff, configured in pyproject.toml, over the course's own code (the stubs are generated)."""
    try:
        result = subprocess.run([sys.executable, "-m", "ruff", "check", "--quiet", "--output-format=concise", "."],
                                cwd=course.ROOT, capture_output=True, text=True, check=False)
    except OSError as error:
        problems.append(f"ruff could not run ({error}): make verify installs it (the dev extra)")
        return
    if "No module named ruff" in result.stderr:
        problems.append("ruff is not installed: `make verify` installs the dev extra (pip install -e '.[dev]')")
        return
    for line in (result.stdout + result.stderr).strip().splitlines():
        problems.append(f"ruff: {line}")


def main(modules: list[course.Module]) -> int:
    started = time.perf_counter()
    every_module = len(modules) == len(course.modules())
    problems: list[str] = []
    check_structure(modules, problems)
    check_no_giveaways(modules, problems)
    if every_module:
        check_lint(problems)
    pristine = check_stubs(modules, problems)
    for other in course.modules():  # the modules under test may import earlier ones: the copy holds them all
        if other.name not in pristine:
            pristine[other.name] = stubs.make_stub(other.reference_path.read_text(encoding="utf-8"))
    tests = [str(m.test_path.relative_to(course.ROOT)) for m in modules]
    with tempfile.TemporaryDirectory(prefix="kata-verify-") as tmp:
        tmp = Path(tmp)
        copy = tmp / "pristine"
        copy.mkdir()
        pristine_copy(pristine, copy)
        (tmp / "ref").mkdir()
        (tmp / "stub").mkdir()
        reference_run = start_run("reference", tests, course.ROOT, tmp / "ref")
        stub_run = start_run("exercises", tests, copy, tmp / "stub")
        tooling_runs = []
        if every_module and (course.ROOT / "tests" / "tooling").is_dir():
            for index, group in enumerate(tooling_groups()):
                (tmp / f"tooling{index}").mkdir()
                tooling_runs.append((start_run("reference", group, course.ROOT, tmp / f"tooling{index}"),
                                     tmp / f"tooling{index}"))
        reference_results = read_run(reference_run, tmp / "ref", "reference", problems)
        stub_results = read_run(stub_run, tmp / "stub", "stub", problems)
        tooling_results = []
        for run, out in tooling_runs:
            tooling_results += read_run(run, out, "tooling", problems)
        for result in tooling_results:
            if result["outcome"] != "passed":
                problems.append(f"tooling: {result['nodeid']} {result['outcome']}: {result['message']}")
        check_reference(reference_results, tmp / "ref", modules, problems)
    check_stub_run(stub_results, problems)
    check_baselines(reference_results, modules, problems, every_module)
    if len(stub_results) != len(reference_results):
        problems.append(f"the stub run collected {len(stub_results)} tests, the reference run {len(reference_results)}")

    for module in modules:
        mine = [r for r in reference_results if r["module"] == module.number]
        passed = sum(r["outcome"] == "passed" for r in mine)
        todo = sum(r["kind"] == "todo" for r in stub_results if r["module"] == module.number)
        figures = sum(bool(r["figure"]) for r in mine)
        print(f"  module {module.number:>2} {module.topic:<28} reference {passed:>3}/{len(mine):<3} passed   "
              f"stub {todo:>3}/{len(mine):<3} not done   {len(module.tasks())} tasks, {figures} figures")
    elapsed = time.perf_counter() - started
    # One check per expectation met: a reference test passed, a stub test failed as not done,
    # a tooling test passed. The plain closing line is what CI reads.
    met = (sum(r["outcome"] == "passed" for r in reference_results)
           + sum(r["outcome"] == "failed" and r["kind"] == "todo" for r in stub_results)
           + sum(r["outcome"] == "passed" for r in tooling_results))
    closing = f"{met} passed, {len(problems)} failed"
    if problems:
        print(f"\nverify FAILED ({len(problems)} problems, {elapsed:.0f} s):")
        for problem in problems:
            print(f"  - {problem}")
        print(closing)
        return 1
    total = len(reference_results)
    if tooling_results:
        print(f"  tooling tests: {len(tooling_results)} passed")
    print(f"\nverify passed in {elapsed:.0f} s: {total} tests pass on reference/ and fail as not done on the pristine stubs; "
          "stubs match reference/; every figure matches its baseline.")
    print(closing)
    return 0
