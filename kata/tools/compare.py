"""``make compare-module-N``: your outputs and figures beside the reference's.

One run of the module's tests on your code, with the recorder of
``kata/testing/record.py``: each call the tests make to your task functions is
kept with its inputs, what your code returned and what the course's version
returns on the same inputs. Each verdict comes from the test that made the
call, so it uses that test's tolerance and explains itself with that test's
message. Figures come from pytest-mpl: yours, the baseline and their
difference, plus pytest-mpl's offline basic-html summary. Everything is written
under .kata/compare/moduleNN_<topic>/ (git-ignored); report.html needs no network.
"""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

from kata import course
from kata.tools import runner

MATCH_WITHIN = 1e-6  # closer than this (relative) reads as the same value


def verdict(row: dict) -> tuple[str, str]:
    """(verdict, why) for one recorded call."""
    difference = row.get("difference")
    if row.get("outcome") == "failed":
        if row.get("kind") == "todo":
            return "not done", "the task still raises its TODO"
        if difference is not None and difference <= MATCH_WITHIN:
            return "see test", f"the same values as the reference here; its test failed: {row.get('message')}"
        return "differ", row.get("message") or "its test failed"
    if row.get("outcome") != "passed":
        return "not run", "its test did not run"
    if row.get("note"):  # the reference was not re-run: only the test's verdict is known
        return "passed", f"its test passed; {row['note']}"
    if difference is None:
        return "passed", "not numbers: its test checked it and passed"
    if difference <= MATCH_WITHIN:
        return "match", "the same values"
    return "match", f"its test passed: within that test's tolerance (largest relative difference {difference:.1e})"


def figures(out: Path) -> list[dict]:
    found = []
    for folder in sorted((out / "figures").glob("*")):
        if folder.is_dir():
            images = {name: folder / name for name in ("baseline.png", "result.png", "result-failed-diff.png")
                      if (folder / name).exists()}
            found.append({"test": folder.name.split(".")[-1], "images": images})
    results_json = out / "figures" / "results.json"
    try:
        statuses = json.loads(results_json.read_text())
    except (OSError, ValueError):
        statuses = {}
    for figure in found:
        entry = next((v for k, v in statuses.items() if k.endswith(figure["test"])), {})
        figure["status"] = entry.get("image_status") or entry.get("status") or "not drawn"
        figure["rms"] = entry.get("rms")
    return found


STYLE = """
body { font-family: system-ui, sans-serif; margin: 2em; color: #222; max-width: 1400px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; vertical-align: top; font-family: monospace; }
th { background: #f0f0f0; font-family: system-ui, sans-serif; }
.match, .passed { background: #e3f6e3; } .differ, .notrun { background: #fde2e2; } .notdone, .seetest { background: #fff4d6; }
.figures { display: flex; gap: 1em; flex-wrap: wrap; } .figures figure { margin: 0; }
.figures img { max-width: 440px; border: 1px solid #ccc; }
"""


def write_report(module: course.Module, target: str, rows: list[dict], found: list[dict], out: Path) -> Path:
    def cell(text, cls=""):
        return f'<td class="{cls}">{html.escape(str(text))}</td>'

    body = [f"<h1>{html.escape(module.title)}</h1>",
            f"<p>Your code (<code>{target}/{module.name}.py</code>) beside the reference, on the inputs the tests "
            "use. Each verdict is that of the test that made the call.</p>",
            "<h2>Outputs</h2><table><tr><th>task</th><th>function</th><th>inputs</th><th>yours</th>"
            "<th>reference</th><th>verdict</th><th>why</th></tr>"]
    for row in rows:
        cls = row["verdict"].replace(" ", "")
        body.append("<tr>" + cell(row["task"]) + cell(row["function"]) + cell(row["inputs"]) + cell(row["yours"])
                    + cell(row["reference"] if row["reference"] is not None else "—") + cell(row["verdict"], cls)
                    + cell(row["why"]) + "</tr>")
    body.append("</table><h2>Figures</h2>")
    if not found:
        body.append("<p>This module has no figure, or none could be drawn.</p>")
    for figure in found:
        rms = f", RMS {figure['rms']:.2f}" if isinstance(figure.get("rms"), (int, float)) else ""
        body.append(f"<h3>{html.escape(figure['test'])}: {html.escape(str(figure['status']))}{rms}</h3>"
                    "<div class='figures'>")
        for name, label in (("baseline.png", "baseline (reference)"), ("result.png", "yours"),
                            ("result-failed-diff.png", "difference")):
            if name in figure["images"]:
                src = figure["images"][name].relative_to(out)
                body.append(f"<figure><img src='{html.escape(str(src))}' alt='{label}'>"
                            f"<figcaption>{label}</figcaption></figure>")
        body.append("</div>")
    summary = out / "figures" / "fig_comparison_basic.html"
    if summary.exists():
        body.append(f"<p>pytest-mpl's own summary: <a href='{summary.relative_to(out)}'>{summary.name}</a></p>")
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>compare module {module.number}</title>"
            f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>")
    report = out / "report.html"
    report.write_text(page, encoding="utf-8")
    return report


def shorten(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def main(module: course.Module, target: str) -> int:
    out = course.ROOT / ".kata" / "compare" / module.name
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    print(f"Comparing {target}/{module.name}.py with reference/ (one run of the module's tests)...", flush=True)
    calls = out / "calls.json"
    runner.run_tests([module.test_path], ["-p", "kata.testing.record", f"--kata-compare={calls}",
                                          "--mpl-results-always", "--mpl-generate-summary=basic-html,json",
                                          f"--mpl-results-path={out / 'figures'}"], output=False)
    try:
        rows = json.loads(calls.read_text())["rows"]
    except (OSError, ValueError, KeyError):
        rows = []
    rows.sort(key=lambda r: course.task_sort_key(r["task"]))
    for row in rows:
        row["verdict"], row["why"] = verdict(row)
    found = figures(out)
    width = max([len(r["function"]) for r in rows] + [8])
    print(f"\n{'task':<5} {'function':<{width}}  {'verdict':<9} inputs -> yours | reference")
    for row in rows:
        reference = row["reference"] if row["reference"] is not None else "—"
        print(f"{row['task']:<5} {row['function']:<{width}}  {row['verdict']:<9} {shorten(row['inputs'], 40)} -> "
              f"{shorten(row['yours'], 30)} | {shorten(reference, 30)}")
        if row["verdict"] != "match" or row["why"] != "the same values":
            print(f"{'':<5} {'':<{width}}  {'':<9} {shorten(row['why'], 150)}")
    for figure in found:
        print(f"figure {figure['test']}: {figure['status']}")
    matches = sum(r["verdict"] in ("match", "passed") for r in rows)
    report = write_report(module, target, rows, found, out)
    print(f"\n{matches}/{len(rows)} calls match or pass their test. Report (opens offline): "
          f"{report.relative_to(course.ROOT)}")
    return 0
