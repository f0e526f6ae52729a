"""``make hint-N``: the next tier of hints for module N's next unfinished task.

Hints live in one TOML file per module, ``kata/tools/hints/moduleNN_<topic>.toml``:
``["N.M"] hints = ["tier 1: the idea", "tier 2: the key step", "tier 3: nearly the code"]``,
and optionally, before the tables, ``found = "..."``: what the learner's code amounts to
(formulas the lesson keeps back), shown by the test summary once every task passes.
Which task is next comes from test results: the module's last full run while
nothing it depends on changed, else a run that stops at the first failing test.
"""

from __future__ import annotations

import json

from kata import course
from kata.tools import progress, runner

STATE = course.ROOT / ".kata" / "hints-shown.json"


def load(module: course.Module) -> dict[str, list[str]]:
    """{task id: [hint 1, hint 2, ...]} for ``module``; empty if it has no hints file."""
    return {task: list(entry.get("hints", [])) for task, entry in module.hints_file().items()
            if isinstance(entry, dict)}


def show_next(module: course.Module, target: str) -> int:
    results = runner.module_results(module, until_first_failure=True)
    unfinished = [s for s in progress.statuses(module, results) if not s.done]
    if not unfinished:
        print("\n".join(progress.what_you_found(module)
                        + [f"Module {module.number} is done: every task passes. On to the next module (make check-all)."]))
        return 0
    task = unfinished[0].task
    tiers = load(module).get(task.id, [])
    if not tiers:
        print(f"Task {task.id} has no hints yet. Its TODO says: {task.text}")
        return 0
    try:
        shown = json.loads(STATE.read_text())
    except (OSError, ValueError):
        shown = {}
    tier = min(shown.get(task.id, 0), len(tiers) - 1)
    print(f"Task {task.id}, {task.function}() in {target}/{module.name}.py")
    print(f"  TODO: {task.text}")
    print(f"Hint {tier + 1} of {len(tiers)}: {tiers[tier]}")
    if tier + 1 < len(tiers):
        print(f"(make hint-{module.number} again for hint {tier + 2})")
    else:
        print(f"(that was the last hint; the reference solution is in reference/{module.name}.py)")
    shown[task.id] = tier + 1
    STATE.parent.mkdir(exist_ok=True)
    STATE.write_text(json.dumps(shown, indent=1))
    return 0
