"""Given code for module 10 (continuous distributions): input checks, the data and the model.

The learner does not write these. Each check returns float64 values (torch
tensors for the Gaussian formulas and the regression, a numpy array for the
samples that get binned) and raises ``ValueError`` with a sentence that says
what was wrong.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from kata.given.checks import check_positive, check_training, check_whole

# The regression data: y = 0.5 + 1.5·x + σ(x)·noise with σ(x) = 0.1·exp(0.55·x), x uniform on [0, 4].
X_RANGE = (0.0, 4.0)
TRUE_INTERCEPT, TRUE_SLOPE = 0.5, 1.5
NOISE_AT_ZERO, NOISE_GROWTH = 0.1, 0.55


def _as_float64(value, name: str) -> torch.Tensor:
    """``value`` (a number, a list, an array or a tensor) as a float64 tensor; NaN is refused."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):  # the common case, without numpy
        if math.isnan(value):
            raise ValueError(f"{name} contains NaN")
        return torch.tensor(float(value), dtype=torch.float64)
    if isinstance(value, torch.Tensor):
        tensor = value.to(torch.float64)
    else:
        try:
            tensor = torch.as_tensor(np.asarray(value, dtype=float))
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be numbers (a float, an array or a tensor), got {type(value).__name__}") from None
    if bool(torch.isnan(tensor.detach()).any()):
        raise ValueError(f"{name} contains NaN")
    return tensor


def _broadcast(named: dict[str, torch.Tensor]) -> tuple[torch.Tensor, ...]:
    try:
        return tuple(torch.broadcast_tensors(*named.values()))
    except RuntimeError:
        shapes = ", ".join(f"{name} {tuple(t.shape)}" for name, t in named.items())
        raise ValueError(f"the shapes do not broadcast: {shapes}") from None


def _finite(tensor: torch.Tensor, name: str) -> torch.Tensor:
    finite = math.isfinite(float(tensor)) if tensor.dim() == 0 else bool(torch.isfinite(tensor.detach()).all())
    if not finite:
        raise ValueError(f"{name} must be finite: it contains an infinity")
    return tensor


def _scale(tensor: torch.Tensor, name: str) -> torch.Tensor:
    """A standard deviation: finite and > 0."""
    _finite(tensor, name)
    low = float(tensor) if tensor.dim() == 0 else float(tensor.detach().min()) if tensor.numel() else 1.0
    if low <= 0:
        raise ValueError(f"{name} is a standard deviation and must be > 0, got {low:.4g}")
    return tensor


def check_points(x, mu, sigma) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Points x (±inf allowed: the density is 0 there) and a Gaussian's (mu, sigma), broadcast together."""
    x = _as_float64(x, "x")
    mu, sigma = _finite(_as_float64(mu, "mu"), "mu"), _scale(_as_float64(sigma, "sigma"), "sigma")
    return _broadcast({"x": x, "mu": mu, "sigma": sigma})


def check_sigma(sigma) -> torch.Tensor:
    """A standard deviation (or several) as a float64 tensor, each finite and > 0."""
    return _scale(_as_float64(sigma, "sigma"), "sigma")


def check_pair(mu_p, sigma_p, mu_q, sigma_q) -> tuple[torch.Tensor, ...]:
    """Two Gaussians p = N(mu_p, sigma_p²) and q = N(mu_q, sigma_q²), all four broadcast together."""
    named = {"mu_p": _finite(_as_float64(mu_p, "mu_p"), "mu_p"),
             "sigma_p": _scale(_as_float64(sigma_p, "sigma_p"), "sigma_p"),
             "mu_q": _finite(_as_float64(mu_q, "mu_q"), "mu_q"),
             "sigma_q": _scale(_as_float64(sigma_q, "sigma_q"), "sigma_q")}
    return _broadcast(named)


def check_scalar_pair(mu_p, sigma_p, mu_q, sigma_q) -> tuple[float, float, float, float]:
    """Two Gaussians given by four single numbers (sigmas > 0), as floats."""
    values = []
    for name, value in (("mu_p", mu_p), ("sigma_p", sigma_p), ("mu_q", mu_q), ("sigma_q", sigma_q)):
        tensor = _as_float64(value, name)
        if tensor.dim() != 0:
            raise ValueError(f"{name} must be a single number here, got shape {tuple(tensor.shape)}")
        values.append(float(tensor))
    for name, value in zip(("mu_p", "mu_q"), values[::2]):
        if not math.isfinite(value):
            raise ValueError(f"{name} must be finite, got {value}")
    check_positive(values[1], "sigma_p")
    check_positive(values[3], "sigma_q")
    return tuple(values)


def check_monte_carlo(n, seed) -> tuple[int, int]:
    """A sample count n >= 2 (a standard error needs two samples) and a seed >= 0."""
    return check_whole(n, "n (the number of samples)", minimum=2), check_whole(seed, "seed", minimum=0)


def check_samples(samples) -> np.ndarray:
    """Samples as a 1-D float64 numpy array with at least one finite value (a tensor is converted)."""
    if isinstance(samples, torch.Tensor):
        samples = samples.detach().cpu().numpy()
    try:
        array = np.asarray(samples, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(f"samples must be numbers, got {type(samples).__name__}") from None
    if array.ndim != 1:
        raise ValueError(f"samples must be a 1-D array of shape (n,), got shape {array.shape}")
    if array.size == 0:
        raise ValueError("samples is empty: there is nothing to bin")
    if not np.isfinite(array).all():
        raise ValueError("samples must be finite: a histogram has no bin for NaN or infinity")
    return array


def check_width(width) -> float:
    """A bin width: a finite number > 0."""
    return check_positive(width, "the bin width")


def check_mse(mse, sigma) -> tuple[torch.Tensor, torch.Tensor]:
    """A mean squared error (>= 0, finite) and a noise standard deviation (> 0), broadcast together."""
    mse = _finite(_as_float64(mse, "mse"), "mse")
    if bool((mse.detach() < 0).any()):
        raise ValueError(f"mse is a mean of squares and cannot be negative, got {float(mse.detach().min()):.4g}")
    return _broadcast({"mse": mse, "sigma": _scale(_as_float64(sigma, "sigma"), "sigma")})


def check_regression_outputs(mean, log_var, y) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Predicted means, predicted log-variances and targets: three finite floating tensors of one shape (N,)."""
    tensors = []
    for name, value in (("mean", mean), ("log_var", log_var), ("y", y)):
        if not isinstance(value, torch.Tensor):
            value = _as_float64(value, name)
        elif not value.is_floating_point():
            value = value.double()
        if value.dim() != 1 or value.shape[0] == 0:
            raise ValueError(f"{name} must have shape (N,) with N >= 1, one value per example, got shape {tuple(value.shape)}")
        if not bool(torch.isfinite(value.detach()).all()):
            raise ValueError(f"{name} must be finite (no NaN or infinity)")
        tensors.append(value)
    if not tensors[0].shape == tensors[1].shape == tensors[2].shape:
        raise ValueError(f"mean, log_var and y must have the same shape, got {tuple(tensors[0].shape)}, "
                         f"{tuple(tensors[1].shape)} and {tuple(tensors[2].shape)}")
    return tuple(tensors)


def check_regression_data(x, y, epochs, lr) -> tuple[torch.Tensor, torch.Tensor]:
    """x and y as (N,) float64 tensors (N >= 2, finite), and the training settings."""
    x, y = _as_float64(x, "x"), _as_float64(y, "y")
    for name, tensor in (("x", x), ("y", y)):
        if tensor.dim() != 1 or tensor.shape[0] < 2:
            raise ValueError(f"{name} must have shape (N,) with N >= 2, got shape {tuple(tensor.shape)}")
        _finite(tensor, name)
    if x.shape != y.shape:
        raise ValueError(f"x and y need one target per input, got shapes {tuple(x.shape)} and {tuple(y.shape)}")
    check_training(lr, epochs)
    return x.detach(), y.detach()


def noise_sd(x):
    """The true noise standard deviation σ(x) = 0.1·exp(0.55·x) of the regression data (numpy or float)."""
    return NOISE_AT_ZERO * np.exp(NOISE_GROWTH * np.asarray(x, dtype=float))


def heteroscedastic_data(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """n points with noise that grows with x: y = 0.5 + 1.5·x + σ(x)·ε, σ(x) = 0.1·exp(0.55·x), ε ~ N(0, 1).

    x is uniform on [0, 4]. Returns x and y, (n,) float64 tensors, drawn from numpy's default_rng(seed).
    """
    rng = np.random.default_rng(seed)
    x = rng.uniform(*X_RANGE, n)
    y = TRUE_INTERCEPT + TRUE_SLOPE * x + noise_sd(x) * rng.standard_normal(n)
    return torch.tensor(x), torch.tensor(y)


class MeanAndLogVariance(nn.Module):
    """Two straight lines in x, one for the mean and one for the log-variance of y given x.

    forward(x) takes x of shape (N,) and returns (mean, log_var), each (N,):
        mean(x)    = a + b·u        log σ²(x) = c + d·u        with u = (x − 2) / 2
    (u runs over [−1, 1] for x in [0, 4], which keeps Adam's steps balanced). float64;
    a, b, c, d all start at 0, so the untrained model predicts mean 0 and variance 1 everywhere.
    Predicting log σ² rather than σ² keeps the variance positive whatever the weights.
    """

    def __init__(self):
        super().__init__()
        self.mean = nn.Linear(1, 1).double()
        self.log_var = nn.Linear(1, 1).double()
        with torch.no_grad():
            for parameter in self.parameters():
                parameter.zero_()

    def forward(self, x):
        u = ((x - 2.0) / 2.0).to(torch.float64)[:, None]
        return self.mean(u).squeeze(-1), self.log_var(u).squeeze(-1)


class Adam:
    """torch.optim.Adam's update (its defaults: betas (0.9, 0.999), eps 1e-8, no weight decay), written out.

    The same numbers as torch.optim.Adam(parameters, lr=lr) on the CPU, step for step, with the
    same two methods, zero_grad() and step(). It exists because torch.optim's first use imports
    PyTorch's compiler, which costs seconds on a small machine: longer than this module's tests.
    Either one is fine in task 10.9.
    """

    def __init__(self, parameters, lr: float, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8):
        self.parameters = list(parameters)
        self.lr, (self.beta1, self.beta2), self.eps = float(lr), betas, eps
        self.steps = 0
        self.first = [torch.zeros_like(p) for p in self.parameters]  # running mean of the gradients
        self.second = [torch.zeros_like(p) for p in self.parameters]  # running mean of their squares

    def zero_grad(self) -> None:
        for parameter in self.parameters:
            parameter.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.steps += 1
        correction1 = 1 - self.beta1**self.steps
        correction2_sqrt = (1 - self.beta2**self.steps) ** 0.5
        for parameter, first, second in zip(self.parameters, self.first, self.second):
            if parameter.grad is None:  # a parameter the loss did not use does not move
                continue
            grad = parameter.grad
            first.lerp_(grad, 1 - self.beta1)
            second.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
            denominator = (second.sqrt() / correction2_sqrt).add_(self.eps)
            parameter.addcdiv_(first, denominator, value=-self.lr / correction1)
