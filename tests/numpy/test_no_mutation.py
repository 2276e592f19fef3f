"""No public function modifies its arguments, caches included (backward may run twice)."""

import copy

import numpy as np

import rnncore.numpy as rn


def arrays_in(value):
    """Every ndarray inside nested tuples, lists, dicts and NamedTuples, in a fixed order."""
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, dict):
        return [a for key in sorted(value) for a in arrays_in(value[key])]
    if isinstance(value, tuple | list):
        return [a for item in value for a in arrays_in(item)]
    return []


def test_function_leaves_its_arguments_unchanged(public_call):
    name, build = public_call
    function, args = build(np.float64)
    before = copy.deepcopy(arrays_in(args))
    assert before, f"{name}: the call has no array arguments to watch"
    first = function(*args)
    for original, now in zip(before, arrays_in(args), strict=True):
        np.testing.assert_array_equal(now, original, err_msg=name)
    if name.endswith("_backward"):  # the same cache gives the same gradients again
        for a, b in zip(arrays_in(first), arrays_in(function(*args)), strict=True):
            np.testing.assert_array_equal(a, b, err_msg=name)


def test_outputs_do_not_alias_inputs(public_call):
    """Writing into a returned array must not write into an argument."""
    name, build = public_call
    function, args = build(np.float64)
    inputs = arrays_in(args)
    outputs = arrays_in(function(*args))
    for output in outputs:
        if output.ndim == 0 or any(output is a for a in inputs):
            continue  # caches hold their inputs by design; only fresh results are checked
        for array in inputs:
            assert not np.shares_memory(output, array), name


def test_every_public_function_is_covered(public_call_names):
    """The parametrisation lists every public function (only initialisers are tested apart)."""
    covered = set()
    for name in public_call_names:
        covered.add(name.removesuffix(".step"))
    public = {name for name in rn.__all__ if callable(getattr(rn, name))}
    missing = public - covered - {"init_rnn", "init_lstm", "init_gru"}
    assert not missing, f"add these to _public_calls in conftest.py: {sorted(missing)}"
