"""Benchmark for module 8: peak memory of the naive vs the chunked loss, forward + backward.

At N = 2048 tokens, H = 256, V = 32768 (float32), each method runs once in a
fresh Python process (kata.given.module08.measure_peak): on Linux the kernel's
high-water mark of resident memory is reset just before the run, and the peak
extra memory is that mark minus the resident memory before the run, the most
memory resident at any one moment of the run (glibc is told to return freed
large blocks at once, MALLOC_MMAP_THRESHOLD_=131072). hidden.grad and
weight.grad (34 MiB here) are inside the chunked peak, allocated when its
backward pass starts; the naive loss allocates them after its peak, once its
(N, V) matrices are freed. So the formula predicts: naive 3·N·V·4 bytes,
chunked its blocks + the 34 MiB.

The target (COURSE.md, "Measured targets"): chunked peak <= 1/8 of naive, with
equal loss and gradients, checked here in float32 at the same sizes, relative
to the naive: loss within 1e-5, each gradient within 1e-4 of its largest entry.

    .venv/bin/python bench/module08_memory.py                 # the reference
    .venv/bin/python bench/module08_memory.py --target exercises --chunk-size 512
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kata.given.module08 import LESSON, make_inputs, measure_peak  # noqa: E402

MIB = 2 ** 20
LOSS_RTOL = 1e-5  # |chunked - naive| / |naive|, float32
GRAD_RTOL = 1e-4  # max |chunked - naive| / max |naive|, for each gradient, float32


def equality(lesson, n, h, v, chunk_size) -> tuple[float, float, float, float, float]:
    """Relative differences (loss, grad_hidden, grad_weight) of chunked vs naive, and both times, float32."""
    hidden, weight, targets = make_inputs(n, h, v)
    start = time.perf_counter()
    naive = lesson.naive_cross_entropy(hidden, weight, targets)
    naive.backward()
    naive_time = time.perf_counter() - start
    grads = hidden.grad, weight.grad
    hidden.grad = weight.grad = None
    start = time.perf_counter()
    chunked = lesson.chunked_cross_entropy(hidden, weight, targets, chunk_size)
    chunked.backward()
    chunked_time = time.perf_counter() - start

    def relative(a, b):
        return float((a - b).abs().max() / b.abs().max())

    return (abs(chunked.item() - naive.item()) / abs(naive.item()), relative(hidden.grad, grads[0]),
            relative(weight.grad, grads[1]), naive_time, chunked_time)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=2048)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--vocab", type=int, default=32768)
    parser.add_argument("--chunk-size", type=int, default=1024)
    parser.add_argument("--target", default="reference", choices=("reference", "exercises"))
    args = parser.parse_args()
    n, h, v, c = args.tokens, args.hidden, args.vocab, args.chunk_size
    lesson = importlib.import_module(f"{args.target}.{LESSON}")

    print(f"module 8 memory benchmark: N={n}, H={h}, V={v}, chunk_size={c}, float32, {args.target}/")
    loss_rel, gh_rel, gw_rel, naive_time, chunked_time = equality(lesson, n, h, v, c)
    print(f"equality (float32, relative to naive): loss {loss_rel:.1e}, grad_hidden {gh_rel:.1e}, grad_weight {gw_rel:.1e}")
    print(f"time of forward + backward: naive {naive_time:.2f} s, chunked {chunked_time:.2f} s")
    grads = (n * h + v * h) * 4
    print("peak extra resident memory of forward + backward, each in a fresh process:")
    results = {}
    for method in ("naive", "chunked"):
        results[method] = measure_peak(method, n, h, v, c, "float32", args.target)
        formula = lesson.loss_memory_bytes(n, v, None if method == "naive" else c)
        extra = results[method]["peak_extra_bytes"]
        if method == "naive":
            expected, how = formula, f"the formula {formula / MIB:.1f} MiB (hidden.grad and weight.grad come after the peak)"
        else:
            expected, how = formula + grads, (f"the formula {formula / MIB:.1f} MiB + {grads / MIB:.1f} MiB of hidden.grad "
                                              "and weight.grad (alive at the peak)")
        print(f"  {method:8s} measured {extra / MIB:6.1f} MiB   expected {expected / MIB:6.1f} MiB = {how}")
    ratio = results["chunked"]["peak_extra_bytes"] / results["naive"]["peak_extra_bytes"]
    memory_ok = ratio <= 1 / 8
    equal_ok = loss_rel <= LOSS_RTOL and max(gh_rel, gw_rel) <= GRAD_RTOL
    print(f"chunked / naive = {ratio:.3f} (target <= 0.125): {'ok' if memory_ok else 'too much'}; "
          f"measured with {results['chunked']['how']}")
    print(f"equality: loss {loss_rel:.1e} (bound {LOSS_RTOL:g}), gradients {max(gh_rel, gw_rel):.1e} "
          f"(bound {GRAD_RTOL:g}): {'ok' if equal_ok else 'not equal'}")
    ok = memory_ok and equal_ok
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
