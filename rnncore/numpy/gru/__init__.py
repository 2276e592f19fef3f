"""GRU in its two published forms: one step and a whole sequence, forward and backward.

One module per form: :mod:`~rnncore.numpy.gru.reset_before` (``gru_*``) and
:mod:`~rnncore.numpy.gru.reset_after` (``gru_reset_after_*``); :mod:`~rnncore.numpy.gru.common`
holds the gate order, the argument checks, the initialisation and :func:`flip_update_gate`.
Everything is importable from ``rnncore.numpy.gru``.

Letters: B batch, T time steps, D input features, H hidden units. The three gates are stacked
along the last axis in PyTorch's order ``GRU_GATES = ("r", "z", "n")``: ``Wx`` (D, 3H),
``Wh`` (H, 3H), ``b`` (3H,). Both forms share the reset and update gates

.. math::

    r_t = \\sigma(x_t W_x^r + h_{t-1} W_h^r + b^r), \\qquad
    z_t = \\sigma(x_t W_x^z + h_{t-1} W_h^z + b^z)

and differ in where the reset gate acts and in which way the update gate points.

**Reset before the product** (the seed's equations; this update-gate sign is Chung et al.
2014's, while Cho et al. 2014 wrote :math:`h_t = z_t h_{t-1} + (1 - z_t) \\tilde h_t`), ``gru_*``:

.. math::

    \\tilde h_t = \\tanh\\left(x_t W_x^n + (r_t \\odot h_{t-1}) W_h^n + b^n\\right), \\qquad
    h_t = (1 - z_t) \\odot h_{t-1} + z_t \\odot \\tilde h_t

**Reset after the product** (PyTorch and cuDNN), ``gru_reset_after_*``, with a separate
hidden bias ``b_hn`` (H,) that cannot be folded into ``b`` because it is multiplied by r:

.. math::

    n_t = \\tanh\\left(x_t W_x^n + b^n + r_t \\odot (h_{t-1} W_h^n + b_{hn})\\right), \\qquad
    h_t = (1 - z_t) \\odot n_t + z_t \\odot h_{t-1}

Mapping to ``torch.nn.GRU``: ``Wx = weight_ih.T``, ``Wh = weight_hh.T``,
``b[:2H] = b_ih[:2H] + b_hh[:2H]``, ``b[2H:] = b_ih[2H:]``, ``b_hn = b_hh[2H:]``.

The update gates point in opposite directions; :func:`flip_update_gate` converts exactly.
The reset placements are different functions: :math:`(r \\odot h) W = h\\,\\mathrm{diag}(r) W`
but :math:`r \\odot (h W) = h W \\mathrm{diag}(r)`, equal for every r only when W is diagonal.
"""

from rnncore.numpy.gru.common import GRU_GATES, flip_update_gate, init_gru
from rnncore.numpy.gru.reset_after import (
    GRUResetAfterCache,
    GRUResetAfterStepCache,
    gru_reset_after_backward,
    gru_reset_after_forward,
    gru_reset_after_step_backward,
    gru_reset_after_step_forward,
)
from rnncore.numpy.gru.reset_before import (
    GRUCache,
    GRUStepCache,
    gru_backward,
    gru_forward,
    gru_step_backward,
    gru_step_forward,
)

__all__ = [
    "GRU_GATES",
    "GRUStepCache",
    "GRUCache",
    "GRUResetAfterStepCache",
    "GRUResetAfterCache",
    "gru_step_forward",
    "gru_step_backward",
    "gru_forward",
    "gru_backward",
    "gru_reset_after_step_forward",
    "gru_reset_after_step_backward",
    "gru_reset_after_forward",
    "gru_reset_after_backward",
    "init_gru",
    "flip_update_gate",
]
