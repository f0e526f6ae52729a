"""The commands behind the Makefile: ``python -m kata <command> [N]``."""

from __future__ import annotations

import argparse
import os
import sys

from kata import course
from kata.tools import runner

MODULE_HELP = "the module number, e.g. 3"


def _module(number: str) -> course.Module:
    try:
        return course.module(number)
    except course.UnknownModule as error:
        print(error, file=sys.stderr)
        raise SystemExit(2) from None


def _print_summary(data: dict, target: str) -> None:
    from kata.tools import progress

    lines = progress.summary(data.get("tests", []), data.get("collect_errors", []), target)
    if lines:
        print()
        print("\n".join(lines))


def cmd_test(args) -> int:
    module = _module(args.module)
    code, data = runner.run_tests([module.test_path], args.pytest_args)
    _print_summary(data, runner.target())
    return code


def cmd_check_all(args) -> int:
    from kata.tools import progress

    stale = progress.stale_exercise_files()
    for line in stale:
        print(line)
    tests = [m.test_path for m in course.modules() if m.test_path.exists()]
    code, data = runner.run_tests(tests, args.pytest_args)
    _print_summary(data, runner.target())
    return code


def cmd_hint(args) -> int:
    from kata.tools import hints

    return hints.show_next(_module(args.module), runner.target())


def cmd_run(args) -> int:
    from kata.tools import lesson_run

    return lesson_run.run(_module(args.module), runner.target())


def cmd_baselines(args) -> int:
    selected = [_module(n) for n in args.modules] if args.modules else course.modules()
    os.environ["KATA_TARGET"] = "reference"
    code, _ = runner.run_tests([m.test_path for m in selected],
                               ["-m", "mpl_image_compare", "--mpl-generate-path=plots_baseline"], fresh_process=True)
    print(f"baselines written to plots_baseline/ from reference/ ({', '.join(m.name for m in selected)})")
    return code


def cmd_stubs(args) -> int:
    from kata.tools import stubs_command

    selected = [_module(n) for n in args.modules] if args.modules else course.modules()
    return stubs_command.main(selected, force=os.environ.get("FORCE", "") not in ("", "0"))


def cmd_verify(args) -> int:
    from kata.tools import verify

    return verify.main([_module(n) for n in args.modules] if args.modules else course.modules())


def cmd_watch(args) -> int:
    from kata.tools import watch

    max_runs = os.environ.get("KATA_WATCH_MAX_RUNS")
    return watch.watch(runner.target(), int(max_runs) if max_runs else None)


def cmd_reset(args) -> int:
    from kata.tools import reset

    return reset.reset(_module(args.module), assume_yes=os.environ.get("YES", "") not in ("", "0"))


def cmd_compare(args) -> int:
    from kata.tools import compare

    return compare.main(_module(args.module), runner.target())


def cmd_stop(args) -> int:
    from kata.tools import warm

    print("stopped the warm test runner" if warm.stop(course.ROOT) else "no warm test runner was running")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m kata", description="The cross-entropy kata's commands "
                                  "(the Makefile calls these: make help).")
    commands = top.add_subparsers(dest="command", metavar="command", required=True)

    def command(name, function, help_text, module=False, modules=False, passthrough=False):
        sub = commands.add_parser(name, help=help_text, description=help_text)
        if module:
            sub.add_argument("module", help=MODULE_HELP)
        if modules:
            sub.add_argument("modules", nargs="*", help="module numbers (default: all)")
        if passthrough:
            sub.add_argument("pytest_args", nargs=argparse.REMAINDER, help="passed on to pytest")
        sub.set_defaults(run=function)

    command("test", cmd_test, "run module N's tests against your code", module=True, passthrough=True)
    command("check-all", cmd_check_all, "every module: the progress table and the next thing to do", passthrough=True)
    command("hint", cmd_hint, "the next hint for module N's next unfinished task", module=True)
    command("run", cmd_run, "run module N as a script: its numbers and figures", module=True)
    command("watch", cmd_watch, "re-run the module of each file you save in exercises/")
    command("compare", cmd_compare, "your outputs and figures beside the reference's", module=True)
    command("reset", cmd_reset, "restore module N's stub (asks; keeps a backup)", module=True)
    command("stop", cmd_stop, "stop the warm test runner")
    command("verify", cmd_verify, "maintainers: prove the course honest", modules=True)
    command("baselines", cmd_baselines, "maintainers: redraw plots_baseline/ from reference/", modules=True)
    command("stubs", cmd_stubs, "maintainers: regenerate exercises/ from reference/", modules=True)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    return int(args.run(args) or 0)
