"""``make compare-module-N``: your outputs and figures beside the reference's.

Inputs are the calls the module's own tests make (recorded while they run on
the reference), replayed on your module and on the reference. Figures come
from pytest-mpl: your figure, the baseline and their difference, plus
pytest-mpl's offline basic-html summary. Everything is written under
.kata/compare/moduleNN/ (git-ignored); report.html needs no network.
"""

from __future__ import annotations

import html
import importlib
import json
import os
import pickle
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np

from kata import TODO, course
from kata.expect import show

PER_CALL_SECONDS = 10


def _numeric(value):
    """``value`` as nested numpy data, or None if it is not numbers."""
    if hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    if isinstance(value, (int, float, np.number, np.ndarray)) and not isinstance(value, bool):
        return np.asarray(value, dtype=float) if np.asarray(value).dtype.kind in "biuf" else None
    if isinstance(value, (list, tuple)):
        parts = [_numeric(v) for v in value]
        return None if any(p is None for p in parts) else parts
    if isinstance(value, dict):
        parts = {k: _numeric(v) for k, v in value.items()}
        return None if any(p is None for p in parts.values()) else parts
    return None


def same(a, b) -> bool | None:
    """True/False when both are numbers that can be compared, None otherwise."""
    x, y = _numeric(a), _numeric(b)
    if x is None or y is None:
        return None
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(same(i, j) for i, j in zip(x, y))
    if isinstance(x, dict) and isinstance(y, dict):
        return x.keys() == y.keys() and all(same(x[k], y[k]) for k in x)
    if isinstance(x, np.ndarray) and isinstance(y, np.ndarray):
        return x.shape == y.shape and bool(np.allclose(x, y, rtol=1e-6, atol=1e-9, equal_nan=True))
    return False


class _Slow(Exception):
    pass


def call(function, blob: bytes):
    """(status, value): status is 'ok', 'not done', 'raised' or 'slow'."""
    args, kwargs = pickle.loads(blob)

    def alarm(signum, frame):
        raise _Slow

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(PER_CALL_SECONDS)
    try:
        return "ok", function(*args, **kwargs)
    except TODO as todo:
        return "not done", f"TODO {todo.task}"
    except _Slow:
        return "slow", f"still running after {PER_CALL_SECONDS} s"
    except Exception as error:  # noqa: BLE001 - shown in the table
        return "raised", f"{type(error).__name__}: {error}"
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def brief(value, limit: int = 90) -> str:
    text = value if isinstance(value, str) else show(value)
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_args(blob: bytes) -> str:
    args, kwargs = pickle.loads(blob)
    parts = [brief(a, 40) for a in args] + [f"{k}={brief(v, 30)}" for k, v in kwargs.items()]
    return ", ".join(parts)


def outputs_table(module: course.Module, target: str, calls: list[dict]) -> list[dict]:
    sys.path.insert(0, str(course.ROOT))
    reference = importlib.import_module(f"reference.{module.name}")
    yours = importlib.import_module(f"{target}.{module.name}")
    rows = []
    for recorded in calls:
        name = recorded["function"]
        if name.startswith("plot_"):
            continue  # figures are compared as images below
        their = getattr(yours, name, None)
        ref_status, ref_value = call(getattr(reference, name), recorded["call"])
        if their is None:
            status, value = "missing", f"{name}() is not in your file"
        else:
            status, value = call(their, recorded["call"])
        if status != "ok":
            verdict = status
        else:
            verdict = {True: "match", False: "differ", None: "—"}[same(value, ref_value)]
            if value is None:
                verdict = "differ"
        rows.append({"function": name, "inputs": describe_args(recorded["call"]), "yours": brief(value),
                     "reference": brief(ref_value), "verdict": verdict})
    return rows


def run_tests(module: course.Module, target: str, out: Path, record: bool) -> None:
    env = {**os.environ, "KATA_TARGET": target}
    args = [sys.executable, "-m", "pytest", str(module.test_path), "-q", "--tb=no", "-rN", "--no-header", "--kata-quiet"]
    if record:
        env["KATA_RECORD"] = str(out / "calls.pickle")
    else:
        args += ["-m", "mpl_image_compare", "--mpl-results-always", "--mpl-generate-summary=basic-html,json",
                 f"--mpl-results-path={out / 'figures'}"]
    subprocess.run(args, cwd=course.ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)


def figures(out: Path) -> list[dict]:
    found = []
    for folder in sorted((out / "figures").glob("*")):
        if folder.is_dir():
            images = {name: folder / name for name in ("baseline.png", "result.png", "result-failed-diff.png")
                      if (folder / name).exists()}
            found.append({"test": folder.name.split(".")[-1], "images": images})
    results_json = out / "figures" / "results.json"
    statuses = json.loads(results_json.read_text()) if results_json.exists() else {}
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
.match { background: #e3f6e3; } .differ, .raised, .missing, .slow { background: #fde2e2; } .notdone { background: #fff4d6; }
.figures { display: flex; gap: 1em; flex-wrap: wrap; } .figures figure { margin: 0; }
.figures img { max-width: 440px; border: 1px solid #ccc; }
"""


def write_report(module: course.Module, target: str, rows: list[dict], found: list[dict], out: Path) -> Path:
    def cell(text, cls=""):
        return f'<td class="{cls}">{html.escape(str(text))}</td>'

    body = [f"<h1>{html.escape(module.title)}</h1>",
            f"<p>Your code (<code>{target}/{module.name}.py</code>) beside the reference, on the inputs the tests use.</p>",
            "<h2>Outputs</h2><table><tr><th>function</th><th>inputs</th><th>yours</th><th>reference</th><th></th></tr>"]
    for row in rows:
        cls = row["verdict"].replace(" ", "")
        body.append("<tr>" + cell(row["function"]) + cell(row["inputs"]) + cell(row["yours"]) + cell(row["reference"])
                    + cell(row["verdict"], cls) + "</tr>")
    body.append("</table><h2>Figures</h2>")
    if not found:
        body.append("<p>This module has no figure, or none could be drawn.</p>")
    for figure in found:
        rms = f", RMS {figure['rms']:.2f}" if isinstance(figure.get("rms"), (int, float)) else ""
        body.append(f"<h3>{html.escape(figure['test'])}: {html.escape(str(figure['status']))}{rms}</h3><div class='figures'>")
        for name, label in (("baseline.png", "baseline (reference)"), ("result.png", "yours"),
                            ("result-failed-diff.png", "difference")):
            if name in figure["images"]:
                src = figure["images"][name].relative_to(out)
                body.append(f"<figure><img src='{html.escape(str(src))}' alt='{label}'><figcaption>{label}</figcaption></figure>")
        body.append("</div>")
    summary = out / "figures" / "fig_comparison_basic.html"
    if summary.exists():
        body.append(f"<p>pytest-mpl's own summary: <a href='{summary.relative_to(out)}'>{summary.name}</a></p>")
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>compare module {module.number}</title>"
            f"<style>{STYLE}</style></head><body>{''.join(body)}</body></html>")
    report = out / "report.html"
    report.write_text(page, encoding="utf-8")
    return report


def main(module: course.Module, target: str) -> int:
    out = course.ROOT / ".kata" / "compare" / module.name
    if out.exists():
        import shutil

        shutil.rmtree(out)
    out.mkdir(parents=True)
    print(f"Comparing {target}/{module.name}.py with reference/ (running the tests to collect inputs)...", flush=True)
    run_tests(module, "reference", out, record=True)
    calls = pickle.loads((out / "calls.pickle").read_bytes()) if (out / "calls.pickle").exists() else []
    rows = outputs_table(module, target, calls)
    run_tests(module, target, out, record=False)
    found = figures(out)
    width = max([len(r["function"]) for r in rows] + [8])
    print(f"\n{'function':<{width}}  {'verdict':<9} inputs -> yours | reference")
    for row in rows:
        print(f"{row['function']:<{width}}  {row['verdict']:<9} {brief(row['inputs'], 40)} -> "
              f"{brief(row['yours'], 30)} | {brief(row['reference'], 30)}")
    for figure in found:
        print(f"figure {figure['test']}: {figure['status']}")
    matches = sum(r["verdict"] == "match" for r in rows)
    report = write_report(module, target, rows, found, out)
    print(f"\n{matches}/{len(rows)} outputs match. Report (opens offline): {report.relative_to(course.ROOT)}")
    return 0
