"""Optimisers (SGD, momentum, Adam) and gradient clipping, on dicts of NumPy arrays.

``step(params, grads)`` returns a new dict of parameter arrays; the arrays it receives are never
modified, and each optimiser keeps its own state (velocities, moments) keyed by parameter name.
The update rules are PyTorch's (``torch.optim.SGD`` with and without momentum, ``Adam``), so
the two can be compared step by step.
"""

from __future__ import annotations

import numpy as np

from rnncore.shapes import check_float_arrays, check_same_shape

__all__ = ["SGD", "Momentum", "Adam", "clip_grad_norm", "clip_grad_value"]


def _check_positive(name, value):
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ValueError(f"{name} must be a number, got {type(value).__name__}")
    if not value > 0:
        raise ValueError(f"{name} must be positive, got {value!r}")


def _check_fraction(name, value):
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise ValueError(f"{name} must be a number, got {type(value).__name__}")
    if not 0 <= value < 1:
        raise ValueError(f"{name} must lie in [0, 1), got {value!r}")


def _check_grads(grads):
    """Every gradient is a floating-point array; return them as a dict."""
    if not isinstance(grads, dict):
        raise ValueError(f"grads must be a dict of arrays, got {type(grads).__name__}")
    for name, grad in grads.items():
        check_float_arrays(**{f"grads[{name!r}]": grad})
    return grads


def _check_params_and_grads(params, grads):
    """Same keys; each gradient has its parameter's shape and dtype."""
    if not isinstance(params, dict):
        raise ValueError(f"params must be a dict of arrays, got {type(params).__name__}")
    _check_grads(grads)
    if set(params) != set(grads):
        raise ValueError(
            f"params and grads must have the same keys, got {sorted(params)} and {sorted(grads)}"
        )
    for name in params:
        check_float_arrays(**{f"params[{name!r}]": params[name], f"grads[{name!r}]": grads[name]})
        check_same_shape(f"grads[{name!r}]", grads[name], f"params[{name!r}]", params[name])


class SGD:
    """Plain gradient descent.

    .. math::

        \\theta \\leftarrow \\theta - \\eta\\, g

    Parameters
    ----------
    lr : float
        Learning rate :math:`\\eta`.
    """

    def __init__(self, lr):
        _check_positive("lr", lr)
        self.lr = float(lr)

    def step(self, params, grads):
        """Return ``{name: params[name] - lr * grads[name]}``.

        Parameters
        ----------
        params : dict of ndarray
        grads : dict of ndarray, same keys, shapes and dtypes

        Returns
        -------
        dict of ndarray
            New arrays; ``params`` and ``grads`` are not modified.
        """
        _check_params_and_grads(params, grads)
        return {name: params[name] - self.lr * grads[name] for name in params}


class Momentum:
    """Gradient descent with a velocity (heavy ball), as ``torch.optim.SGD(momentum=...)``.

    .. math::

        v \\leftarrow \\mu v + g, \\qquad \\theta \\leftarrow \\theta - \\eta\\, v

    with :math:`v = g` at the first step.

    Parameters
    ----------
    lr : float
        Learning rate :math:`\\eta`.
    momentum : float, default 0.9
        :math:`\\mu` in [0, 1).
    """

    def __init__(self, lr, momentum=0.9):
        _check_positive("lr", lr)
        _check_fraction("momentum", momentum)
        self.lr = float(lr)
        self.momentum = float(momentum)
        self.velocity = {}

    def step(self, params, grads):
        """Update every velocity and return the new parameters (see the class docstring).

        Parameters
        ----------
        params : dict of ndarray
        grads : dict of ndarray, same keys, shapes and dtypes

        Returns
        -------
        dict of ndarray
            New arrays; ``params`` and ``grads`` are not modified.
        """
        _check_params_and_grads(params, grads)
        new_params = {}
        for name, grad in grads.items():
            if name in self.velocity:
                self.velocity[name] = self.momentum * self.velocity[name] + grad
            else:
                self.velocity[name] = grad.copy()
            new_params[name] = params[name] - self.lr * self.velocity[name]
        return new_params


class Adam:
    """Adam (Kingma and Ba, 2015), as ``torch.optim.Adam``.

    At step :math:`k = 1, 2, \\dots`:

    .. math::

        m &\\leftarrow \\beta_1 m + (1 - \\beta_1) g, \\qquad
        v \\leftarrow \\beta_2 v + (1 - \\beta_2) g^2 \\\\
        \\theta &\\leftarrow \\theta - \\eta\\,
        \\frac{m / (1 - \\beta_1^k)}{\\sqrt{v / (1 - \\beta_2^k)} + \\epsilon}

    Parameters
    ----------
    lr : float, default 1e-3
    beta1 : float, default 0.9
    beta2 : float, default 0.999
    eps : float, default 1e-8
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        _check_positive("lr", lr)
        _check_fraction("beta1", beta1)
        _check_fraction("beta2", beta2)
        _check_positive("eps", eps)
        self.lr, self.beta1, self.beta2 = float(lr), float(beta1), float(beta2)
        self.eps = float(eps)
        self.first_moment = {}
        self.second_moment = {}
        self.steps = {}

    def step(self, params, grads):
        """Update the moments and return the new parameters (see the class docstring).

        Parameters
        ----------
        params : dict of ndarray
        grads : dict of ndarray, same keys, shapes and dtypes

        Returns
        -------
        dict of ndarray
            New arrays; ``params`` and ``grads`` are not modified.
        """
        _check_params_and_grads(params, grads)
        new_params = {}
        for name, grad in grads.items():
            m = self.first_moment.get(name, np.zeros_like(grad))
            v = self.second_moment.get(name, np.zeros_like(grad))
            k = self.steps.get(name, 0) + 1
            m = self.beta1 * m + (1 - self.beta1) * grad
            v = self.beta2 * v + (1 - self.beta2) * grad * grad
            self.first_moment[name], self.second_moment[name], self.steps[name] = m, v, k
            m_hat = m / (1 - self.beta1**k)
            v_hat = v / (1 - self.beta2**k)
            new_params[name] = params[name] - self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
        return new_params


def clip_grad_norm(grads, max_norm):
    """Scale all gradients together so that their global L2 norm is at most ``max_norm``.

    .. math::

        \\lVert g \\rVert = \\sqrt{\\textstyle\\sum_{arrays} \\sum g^2}, \\qquad
        g \\leftarrow g \\cdot \\frac{max\\_norm}{\\lVert g \\rVert}
        \\quad \\text{if } \\lVert g \\rVert > max\\_norm

    The direction of the whole gradient is kept; only its length changes.

    Parameters
    ----------
    grads : dict of ndarray
    max_norm : float
        Positive.

    Returns
    -------
    clipped : dict of ndarray
        New arrays (copies even when nothing is clipped).
    total_norm : float
        The global norm before clipping.
    """
    _check_grads(grads)
    _check_positive("max_norm", max_norm)
    total_norm = float(
        np.sqrt(sum(np.sum(grad.astype(np.float64) ** 2) for grad in grads.values()))
    )
    if total_norm > max_norm:
        scale = max_norm / total_norm
        return {name: grad * grad.dtype.type(scale) for name, grad in grads.items()}, total_norm
    return {name: grad.copy() for name, grad in grads.items()}, total_norm


def clip_grad_value(grads, clip_value):
    """Clip every gradient element to ``[-clip_value, clip_value]``.

    .. math::

        g \\leftarrow \\min(\\max(g, -c), c)

    Unlike :func:`clip_grad_norm` this can change the gradient's direction.

    Parameters
    ----------
    grads : dict of ndarray
    clip_value : float
        Positive.

    Returns
    -------
    dict of ndarray
        New arrays.
    """
    _check_grads(grads)
    _check_positive("clip_value", clip_value)
    clip_value = float(clip_value)
    return {name: np.clip(grad, -clip_value, clip_value) for name, grad in grads.items()}
