"""check_numerical_gradient and check_clip_grad_norm: honest students pass, wrong ones fail."""

import re

import numpy as np
import pytest

from rnncore.grading import (
    check_clip_grad_norm,
    check_gradient_check,
    check_numerical_gradient,
    mistakes,
)

# --- numerical_gradient --------------------------------------------------------------------


def numerical_gradient(f, x, dout, eps=1e-6):
    """Perturbs x itself and restores each element exactly."""
    grad = np.zeros_like(x)
    iterator = np.nditer(x, flags=["multi_index"])
    while not iterator.finished:
        index = iterator.multi_index
        old = x[index]
        x[index] = old + eps
        plus = np.sum(f(x) * dout)
        x[index] = old - eps
        minus = np.sum(f(x) * dout)
        x[index] = old
        grad[index] = (plus - minus) / (2 * eps)
        iterator.iternext()
    return grad


def numerical_gradient_flat(f, x, dout, eps=1e-5):
    """Another structure: a flat copy, a different default eps."""
    flat = x.astype(np.float64).ravel()
    grad = np.empty_like(flat)
    for k in range(flat.size):
        step = np.zeros_like(flat)
        step[k] = eps
        plus = f((flat + step).reshape(x.shape))
        minus = f((flat - step).reshape(x.shape))
        grad[k] = np.sum((plus - minus) * dout) / (2 * eps)
    return grad.reshape(x.shape)


NUMERICAL_CASES = ["shapes", "visible", "centred", "hidden", "no_mutation"]


@pytest.mark.parametrize("student", [numerical_gradient, numerical_gradient_flat])
@pytest.mark.parametrize("cases", NUMERICAL_CASES)
def test_numerical_gradient_passes_honest_students(student, cases):
    assert check_numerical_gradient(student, cases=cases) is None


def test_gradient_check_is_the_same_check():
    assert check_gradient_check is check_numerical_gradient


def one_sided(f, x, dout, eps=1e-6):
    grad = np.zeros_like(x)
    base = np.sum(f(x) * dout)
    for index in np.ndindex(x.shape):
        point = x.copy()
        point[index] += eps
        grad[index] = (np.sum(f(point) * dout) - base) / eps
    return grad


def without_dout(f, x, dout, eps=1e-6):
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += eps
        minus[index] -= eps
        grad[index] = (np.sum(f(plus)) - np.sum(f(minus))) / (2 * eps)
    return grad


def divided_by_eps(f, x, dout, eps=1e-6):
    return 2 * numerical_gradient_flat(f, x, dout, eps)


WRONG_NUMERICAL = {
    "one-sided difference": one_sided,
    "dout ignored": without_dout,
    "divided by eps instead of 2 eps": divided_by_eps,
}


def test_every_numerical_gradient_mistake_has_a_wrong_student():
    names = sorted(mistake.name for mistake in mistakes.NUMERICAL_GRADIENT_MISTAKES)
    assert sorted(WRONG_NUMERICAL) == names


@pytest.mark.parametrize("name", sorted(WRONG_NUMERICAL))
def test_numerical_gradient_names_each_mistake(name):
    # The one-sided difference is only told apart with a large eps: the "centred" cases.
    cases = "centred" if name == "one-sided difference" else "visible"
    with pytest.raises(AssertionError, match=re.escape(f"Known mistake: {name}")):
        check_numerical_gradient(WRONG_NUMERICAL[name], cases=cases)


def test_one_sided_difference_passes_the_derivative_cases():
    # Its error, about eps = 1e-6, is within the tolerance of the derivative cases: only the
    # "centred" test cell takes points for it.
    check_numerical_gradient(one_sided, cases="visible")
    check_numerical_gradient(one_sided, cases="hidden")


def test_not_restoring_x_is_a_mutation():
    def forgets_to_restore(f, x, dout, eps=1e-6):
        grad = np.zeros_like(x)
        for index in np.ndindex(x.shape):
            x[index] += eps
            plus = np.sum(f(x) * dout)
            x[index] -= 2 * eps
            minus = np.sum(f(x) * dout)
            grad[index] = (plus - minus) / (2 * eps)
        return grad

    with pytest.raises(AssertionError, match="modifies its argument x in place"):
        check_numerical_gradient(forgets_to_restore, cases="no_mutation")


def test_one_dimensional_only_is_a_clear_error():
    def only_1d(f, x, dout, eps=1e-6):
        grad = np.zeros(len(x))
        for i in range(len(x)):
            plus, minus = x.copy(), x.copy()
            plus[i] += eps
            minus[i] -= eps
            grad[i] = np.sum((f(plus) - f(minus)) * dout) / (2 * eps)
        return grad

    message = re.escape("the gradient has shape (2,), expected the shape of x, (2, 3)")
    with pytest.raises(AssertionError, match=message):
        check_numerical_gradient(only_1d, cases="shapes")


def test_calling_the_course_numerical_gradient_is_detected():
    from rnncore.numpy.gradcheck import numerical_gradient as reference

    with pytest.raises(AssertionError, match="rnncore.numpy.gradcheck.numerical_gradient"):
        check_numerical_gradient(lambda f, x, dout, eps=1e-6: reference(f, x, dout, eps))


# --- clip_grad_norm ------------------------------------------------------------------------


def clip_grad_norm(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g.astype(np.float64) ** 2) for g in grads.values())))
    scale = max_norm / total if total > max_norm else 1.0
    return {name: g * g.dtype.type(scale) for name, g in grads.items()}, total


def clip_grad_norm_concatenated(grads, max_norm):
    """Another structure: one long vector, np.linalg.norm, a PyTorch-style epsilon."""
    flat = np.concatenate([g.ravel() for g in grads.values()])
    total = np.linalg.norm(flat)
    factor = min(1.0, max_norm / (total + 1e-6))
    return {name: (g * factor).astype(g.dtype) for name, g in grads.items()}, total


CLIP_CASES = ["shapes", "visible", "small_norm", "hidden", "no_mutation"]


@pytest.mark.parametrize("student", [clip_grad_norm, clip_grad_norm_concatenated])
@pytest.mark.parametrize("cases", CLIP_CASES)
def test_clip_passes_honest_students(student, cases):
    assert check_clip_grad_norm(student, cases=cases) is None


def _norm(g):
    return float(np.sqrt(np.sum(g**2)))


def _global(grads):
    return float(np.sqrt(sum(np.sum(g**2) for g in grads.values())))


def clip_each_array(grads, max_norm):
    clipped = {k: g * (max_norm / _norm(g)) if _norm(g) > max_norm else g for k, g in grads.items()}
    return clipped, _global(grads)


def clip_by_value(grads, max_norm):
    return {k: np.clip(g, -max_norm, max_norm) for k, g in grads.items()}, _global(grads)


def clip_always(grads, max_norm):
    total = _global(grads)
    return {k: g * (max_norm / total) for k, g in grads.items()}, total


def clip_returns_new_norm(grads, max_norm):
    clipped, _ = clip_grad_norm(grads, max_norm)
    return clipped, _global(clipped)


def clip_without_sqrt(grads, max_norm):
    squared = sum(np.sum(g**2) for g in grads.values())
    return clip_grad_norm(grads, max_norm)[0], squared


def clip_sum_of_norms(grads, max_norm):
    total = sum(_norm(g) for g in grads.values())
    scale = max_norm / total if total > max_norm else 1.0
    return {k: g * scale for k, g in grads.items()}, total


WRONG_CLIP = {
    "each array clipped on its own": (clip_each_array, "visible"),
    "clipped by value": (clip_by_value, "visible"),
    "rescaled even when the norm is small": (clip_always, "small_norm"),
    "norm after clipping returned": (clip_returns_new_norm, "visible"),
    "square root missing": (clip_without_sqrt, "visible"),
    "norms of the arrays added": (clip_sum_of_norms, "visible"),
}


def test_every_clip_mistake_has_a_wrong_student():
    names = sorted(mistake.name for mistake in mistakes.CLIP_GRAD_NORM_MISTAKES)
    assert sorted(WRONG_CLIP) == names


@pytest.mark.parametrize("name", sorted(WRONG_CLIP))
def test_clip_names_each_mistake(name):
    student, cases = WRONG_CLIP[name]
    with pytest.raises(AssertionError, match=re.escape(f"Known mistake: {name}")):
        check_clip_grad_norm(student, cases=cases)


def test_clip_says_which_array_is_wrong():
    with pytest.raises(AssertionError) as failure:
        check_clip_grad_norm(clip_returns_new_norm)
    assert str(failure.value).startswith("clip_grad_norm: total_norm is wrong")
    assert "clipped['dWx'], clipped['dWh'] and clipped['db'] are right" in str(failure.value)


def test_clip_in_place_is_a_mutation():
    def in_place(grads, max_norm):
        total = _global(grads)
        if total > max_norm:
            for g in grads.values():
                g *= max_norm / total
        return grads, total

    check_clip_grad_norm(in_place, cases="visible")
    with pytest.raises(AssertionError, match="modifies its argument grads in place"):
        check_clip_grad_norm(in_place, cases="no_mutation")


def test_clip_divides_by_zero_norm():
    def divides(grads, max_norm):
        total = _global(grads)
        return {
            k: g * min(1.0, max_norm / total) if total else g / total for k, g in grads.items()
        }, total

    with np.errstate(all="ignore"), pytest.raises(AssertionError, match="dividing by it"):
        check_clip_grad_norm(divides, cases="hidden")


def test_clip_wrong_structure():
    with pytest.raises(AssertionError, match=re.escape("clipped must have the keys of grads")):
        check_clip_grad_norm(lambda grads, m: ({"W": 1}, 1.0), cases="shapes")
    with pytest.raises(AssertionError, match="total_norm must be a number"):
        check_clip_grad_norm(lambda grads, m: (dict(grads), [1.0]), cases="shapes")
    with pytest.raises(
        AssertionError, match=re.escape("must return a tuple (clipped, total_norm)")
    ):
        check_clip_grad_norm(lambda grads, m: dict(grads), cases="shapes")


def test_calling_the_course_clip_is_detected():
    import rnncore.numpy as rn

    with pytest.raises(AssertionError, match="rnncore.numpy.optim.clip_grad_norm"):
        check_clip_grad_norm(lambda grads, max_norm: rn.clip_grad_norm(grads, max_norm))
