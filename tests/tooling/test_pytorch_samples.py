"""PyTorch's own sample inputs for its cross-entropy losses, fed to the course's reference functions.

PyTorch tests each operator on the sample inputs of its OpInfo
(``torch.testing._internal.common_methods_invocations.op_db``): every layout,
target kind and keyword its tests care about. Here each sample of
``nn.functional.cross_entropy``, ``nn.functional.nll_loss`` and
``nn.functional.binary_cross_entropy_with_logits`` goes, on CPU and in float64,
over several seeds, to the course's rebuild of it (module 5's
``cross_entropy_manual`` and ``nll_loss_manual``, module 6's ``bce_with_logits``),
and the values and the gradients must be torch's (rtol 1e-7). Error inputs (what
torch itself refuses) are out of scope. The course's functions warn where torch
computes silently something rarely meant (a LossInputWarning): here that is
expected, since PyTorch's samples are random numbers, not log-probabilities.

Each mismatch gets one line: the seed, the sample, what differed.
"""

from __future__ import annotations

import functools
import inspect
import random
import warnings

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.timeout(300)  # importing PyTorch's op database takes seconds

SEEDS = range(5)
RTOL, ATOL = 1e-7, 1e-10
OPERATORS = ("nn.functional.cross_entropy", "nn.functional.nll_loss",
             "nn.functional.binary_cross_entropy_with_logits")


@functools.cache
def operator_infos() -> dict:
    try:
        from torch.testing._internal.common_methods_invocations import op_db
    except ImportError as error:  # expecttest, most likely
        pytest.fail(f"PyTorch's op database cannot be imported ({error}): install the dev extra, "
                    "pip install -e '.[dev]' (make verify does)", pytrace=False)
    return {op.name: op for op in op_db if op.name in OPERATORS and not op.variant_test_name}


def as_float64(value):
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return value.detach().to(torch.float64).requires_grad_(value.requires_grad)
    return value


@functools.cache
def samples(name: str, seed: int) -> tuple:
    """PyTorch's samples for one operator and seed, in float64: ((input, args, kwargs), ...)."""
    torch.manual_seed(seed)
    random.seed(seed)  # sample_inputs_cross_entropy draws with random.sample too
    found = []
    for sample in operator_infos()[name].sample_inputs("cpu", torch.float64, requires_grad=True):
        found.append((as_float64(sample.input), tuple(as_float64(a) for a in sample.args),
                      {k: as_float64(v) for k, v in sample.kwargs.items()}))
    return tuple(found)


def fresh(value):
    """A leaf copy, so that torch's run and the course's each get their own gradients."""
    if isinstance(value, torch.Tensor):
        copy = value.detach().clone()
        return copy.requires_grad_(value.requires_grad)
    return value


def describe(x, args, kwargs) -> str:
    def text(v):
        if isinstance(v, torch.Tensor):
            kind = "" if v.is_floating_point() else f" {str(v.dtype).replace('torch.', '')}"
            return f"{tuple(v.shape)}{kind}"
        return repr(v)

    words = [text(x)] + [text(a) for a in args] + [f"{k}={text(v)}" for k, v in kwargs.items()]
    return ", ".join(words)


def cotangent(out: torch.Tensor) -> torch.Tensor:
    """A fixed, uneven weighting of the outputs, so a vector-Jacobian product checks every output's gradient."""
    return torch.linspace(0.5, 1.5, max(out.numel(), 1), dtype=torch.float64)[: out.numel()].reshape(out.shape)


def torch_result(name, x, args, kwargs):
    import torch.nn.functional as F

    function = getattr(F, name.rsplit(".", 1)[1])
    x, args = fresh(x), tuple(fresh(a) for a in args)
    out = function(x, *args, **kwargs)
    leaves = [t for t in (x, *args) if isinstance(t, torch.Tensor) and t.requires_grad]
    grads = torch.autograd.grad((out * cotangent(out)).sum(), leaves, allow_unused=True) if leaves else ()
    return out.detach(), [None if g is None else g.detach() for g in grads]


# --- the course's functions, adapted to torch's call ----------------------------------------------


def module05():
    from reference import module05_torch_classifier

    return module05_torch_classifier


def autograd_result(function, x, args, kwargs):
    x, args = fresh(x), tuple(fresh(a) for a in args)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # LossInputWarning: PyTorch's samples are random numbers
        out = function(x, *args, **kwargs)
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"returned {type(out).__name__}, not a tensor")
    leaves = [t for t in (x, *args) if isinstance(t, torch.Tensor) and t.requires_grad]
    if leaves and not out.requires_grad:
        raise TypeError("lost the graph (no grad_fn)")
    grads = torch.autograd.grad((out * cotangent(out)).sum(), leaves, allow_unused=True) if leaves else ()
    return out.detach(), [None if g is None else g.detach() for g in grads]


def course_cross_entropy(x, args, kwargs):
    return autograd_result(module05().cross_entropy_manual, x, args, kwargs)


def course_nll_loss(x, args, kwargs):
    return autograd_result(module05().nll_loss_manual, x, args, kwargs)


BCE_ARGUMENTS = ("weight", "pos_weight", "reduction")


class Pending(Exception):
    """The course's function does not take this sample's arguments yet."""


def course_bce_with_logits(x, args, kwargs):
    """Module 6's numpy bce_with_logits: numpy in, numpy out; gradients by central differences."""
    from reference import module06_stability

    bce = module06_stability.bce_with_logits
    accepted = inspect.signature(bce).parameters
    missing = [k for k in kwargs if k not in accepted]
    if missing:
        raise Pending(f"bce_with_logits has no {', '.join(missing)} argument yet")
    z, (y,) = x, args
    fixed = {k: (v.detach().numpy() if isinstance(v, torch.Tensor) else v) for k, v in kwargs.items()}

    def value(z_np, y_np):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return np.asarray(bce(z_np, y_np, **fixed), dtype=np.float64)

    z_np, y_np = z.detach().numpy().copy(), y.detach().numpy().copy()
    out = value(z_np, y_np)
    v = cotangent(torch.as_tensor(out)).numpy()
    grads = []
    for array, leaf in ((z_np, z), (y_np, y)):
        if not leaf.requires_grad:
            continue
        grad = np.zeros_like(array)
        for index in np.ndindex(array.shape):
            h = 1e-6 * max(1.0, abs(float(array[index])))
            saved = array[index]
            array[index] = saved + h
            up = float((value(z_np, y_np) * v).sum())
            array[index] = saved - h
            down = float((value(z_np, y_np) * v).sum())
            array[index] = saved
            grad[index] = (up - down) / (2 * h)
        grads.append(torch.as_tensor(grad))
    return torch.as_tensor(out), grads


COURSE = {"nn.functional.cross_entropy": course_cross_entropy, "nn.functional.nll_loss": course_nll_loss,
          "nn.functional.binary_cross_entropy_with_logits": course_bce_with_logits}
# Central differences are good to about 1e-9 relative here, not to float64's last digits.
GRADIENT_TOLERANCE = {"nn.functional.binary_cross_entropy_with_logits": (1e-6, 1e-8)}


def close(got, expected, rtol, atol) -> bool:
    return got.shape == expected.shape and torch.allclose(got.double(), expected.double(), rtol=rtol, atol=atol,
                                                          equal_nan=True)


def compare(name: str, seed: int, index: int, course=None) -> str | None:
    """None when the course's function matches torch on this sample, else one line saying how it does not."""
    x, args, kwargs = samples(name, seed)[index]
    where = f"{name.rsplit('.', 1)[1]} seed {seed} sample {index} ({describe(x, args, kwargs)})"
    expected, expected_grads = torch_result(name, x, args, kwargs)
    try:
        got, got_grads = (course or COURSE[name])(x, args, kwargs)
    except Pending as pending:
        return f"{where}: pending, {pending}"
    except Exception as error:  # noqa: BLE001 - each refusal or crash is one line of the report
        return f"{where}: raised {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    if tuple(got.shape) != tuple(expected.shape):
        return f"{where}: returned shape {tuple(got.shape)}, torch {tuple(expected.shape)}"
    if not close(got, expected, RTOL, ATOL):
        return f"{where}: value {got.flatten()[:4].tolist()} against torch's {expected.flatten()[:4].tolist()}"
    rtol, atol = GRADIENT_TOLERANCE.get(name, (RTOL, ATOL))
    for which, (mine, theirs) in enumerate(zip(got_grads, expected_grads)):
        if theirs is None:
            continue
        if mine is None or not close(mine, theirs, rtol, atol):
            gap = "no gradient" if mine is None else f"largest gap {(mine - theirs).abs().max().item():.2e}"
            return f"{where}: the gradient with respect to {'the input' if which == 0 else 'the target'} " \
                   f"differs from torch's ({gap})"
    return None


def mismatches(name: str, course=None) -> tuple[int, list[str]]:
    """(number of samples, one line per sample that does not match) over every seed."""
    total, lines = 0, []
    for seed in SEEDS:
        for index in range(len(samples(name, seed))):
            total += 1
            line = compare(name, seed, index, course)
            if line is not None:
                lines.append(line)
    return total, lines


@pytest.mark.parametrize("name", OPERATORS)
def test_course_matches_pytorch_on_its_own_samples(name):
    total, lines = mismatches(name)
    assert total >= 20 * len(SEEDS), f"only {total} samples of {name}: has PyTorch's OpInfo changed?"
    if lines:
        # one line per mismatch; the separator keeps them apart when the plugin folds the message into one line
        shown = ";\n".join(lines[:25]) + (f";\n... and {len(lines) - 25} more" if len(lines) > 25 else "")
        pytest.fail(f"{len(lines)} of {total} PyTorch samples of {name} do not match:\n{shown}", pytrace=False)
