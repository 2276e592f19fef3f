"""Checks for the attention exercise (a08): attention, greedy decoding and beam search, in NumPy.

Each check is called from an nbgrader test cell with the student's function::

    check_additive_attention(additive_attention)
    check_dot_attention(dot_attention, cases="hidden")
    check_greedy_decode(greedy_decode)
    check_beam_search(beam_search, cases="brute_force")   # against every sequence, enumerated
    check_beam_search(beam_search, cases="beam_of_one")   # beam_size=1 against greedy

and runs the three steps of :mod:`rnncore.grading` for every case: draw the inputs, run the
student's function on copies (:func:`~rnncore.grading.student_run.run_student`), and judge the
result against :mod:`rnncore.numpy.attention` and :mod:`rnncore.numpy.search` (or brute-force
enumeration), naming the known mistakes of :mod:`~rnncore.grading.attention_mistakes`.

Attention inputs always have padding in some row and a full first row (so that a softmax over
the batch axis has a real position in every column). The searches run on a random language
model, :class:`TableModel`, whose state is the prefix; every drawn model is redrawn (from the
same seed, deterministically) until each named mistake of its case set changes the result, so
that a mistake is caught on every draw, not on most.

Letters: B batch, S source positions, Hq, Hk, A, Dv sizes (Dv is "E" in shape messages),
V vocabulary.
"""

from __future__ import annotations

import itertools

import numpy as np

from rnncore.grading import attention_mistakes as known
from rnncore.grading import judge, mistakes
from rnncore.grading.inputs import Case, case_rng, new_seed
from rnncore.grading.judge import Tolerance
from rnncore.grading.student_run import run_student
from rnncore.numpy import attention as reference_attention
from rnncore.numpy import search as reference_search

__all__ = [
    "TableModel",
    "attention_cases",
    "greedy_cases",
    "beam_cases",
    "every_sequence",
    "check_additive_attention",
    "check_dot_attention",
    "check_greedy_decode",
    "check_beam_search",
]

_SCORE_TOLERANCE = Tolerance(rtol=1e-9, atol=1e-12)


def _unknown(function_name, cases, names) -> ValueError:
    listed = ", ".join(repr(name) for name in names)
    return ValueError(f"{function_name} has no case set {cases!r}; choose one of {listed}")


def _known(mistake) -> str:
    return f"\n    Known mistake: {mistake[0]}. {mistake[1]}"


# --- attention -----------------------------------------------------------------------------

# (name, B, S, Hq, Hk, A, Dv, padded); Hq = Hk for dot attention, whose "Hk" is ignored.
_ATTENTION_SHAPES = {
    "shapes": [("B=3, S=5", 3, 5, 4, 6, 3, 2, True)],
    "visible": [
        ("padded batch", 4, 6, 5, 3, 4, 2, True),
        ("Hq != Hk != Dv", 3, 5, 2, 6, 3, 4, True),
    ],
    "hidden": [
        ("B = 1, no padding", 1, 4, 3, 5, 2, 3, False),
        ("S = 1", 3, 1, 4, 4, 3, 2, False),
        ("one real position in a row", 2, 7, 3, 3, 5, 1, True),
        ("large scores", 3, 6, 4, 5, 3, 2, True),
    ],
    "no_mutation": [("no mutation", 2, 4, 3, 3, 2, 2, True)],
}


def attention_cases(function: str, cases: str, seed: int | None = None) -> list[Case]:
    """Cases for ``additive_attention`` or ``dot_attention`` (its arrays without the weights)."""
    if cases not in _ATTENTION_SHAPES:
        raise _unknown(function, cases, _ATTENTION_SHAPES)
    seed = new_seed() if seed is None else seed
    drawn = []
    for index, (name, B, S, Hq, Hk, A, Dv, padded) in enumerate(_ATTENTION_SHAPES[cases]):
        rng = case_rng(seed, index)
        Hk = Hq if function == "dot_attention" else Hk
        lengths = np.full(B, S)
        if padded:
            # Row 0 is full, every other row is padded, so padding always shows.
            lengths[1:] = rng.integers(1, S, size=B - 1)
            if name == "one real position in a row":
                lengths[-1] = 1
        mask = np.arange(S)[None, :] < lengths[:, None]  # (B, S)
        spread = 3.0 if name == "large scores" else 1.0
        arrays = {
            "query": spread * rng.standard_normal((B, Hq)),
            "keys": rng.standard_normal((B, S, Hk)) / np.sqrt(Hk) * (10.0 if spread > 1 else 1),
            "values": rng.standard_normal((B, S, Dv)),
            "mask": mask,
        }
        if function == "additive_attention":
            arrays["Wq"] = rng.standard_normal((Hq, A)) / np.sqrt(Hq)
            arrays["Wk"] = rng.standard_normal((Hk, A)) / np.sqrt(Hk)
            arrays["v"] = 2.0 * spread * rng.standard_normal(A)
        dims = {"B": B, "S": S, "E": Dv}  # E: the values' size Dv
        judged = cases if cases in ("shapes", "no_mutation") else "values"
        drawn.append(Case(name, arrays, dims, judged, seed, {}))
    return drawn


def _judge_attention(name, case, run, reference, catalogue) -> None:
    judge.judge_reference_calls(name, case, run.reference_calls)
    judge.judge_error(name, case, run.error)
    if case.judge == "no_mutation":
        judge.judge_modified(name, case, run.modified)
    result = judge.unpack(name, case, run.result, ("context", "weights"))
    nan_hint = (
        " A row whose every score is -inf gives NaN; every row here has a real position, so "
        "look for a softmax over the wrong axis or a mask that removes real positions."
    )
    judge.judge_array(name, case, "context", result["context"], "B, E", case.dims, nan_hint)
    judge.judge_array(name, case, "weights", result["weights"], "B, S", case.dims, nan_hint)
    if case.judge != "values":
        return
    context, weights = reference(**case.arrays)
    expected = {"context": context, "weights": weights}
    tolerance = judge.tolerance_for(result["context"].dtype, result["weights"].dtype)
    wrong = judge.wrong_outputs(result, expected, tolerance)
    if not wrong:
        return
    found = mistakes.recognise(catalogue, case.arrays, case.extra, result, expected, tolerance)
    fault = (
        "weights = softmax over S of the scores, with -inf on the padding (mask False) before "
        "the softmax; context = sum over s of weights[:, s, None] * values[:, s]."
    )
    judge.fail(name, case, judge.values_message(wrong, list(result), found, fault))


@judge.student_facing
def check_additive_attention(additive_attention, cases="visible", seed=None) -> None:
    """Check ``additive_attention(query, keys, values, mask, Wq, Wk, v) -> (context, weights)``.

    Parameters
    ----------
    additive_attention : callable
        The student's function.
    cases : {"shapes", "visible", "hidden", "no_mutation"}
        Which case set to run.
    seed : int, optional
        Replays the inputs of an earlier run (every failure message prints its seed).

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    for case in attention_cases("additive_attention", cases, seed):  # step 1
        run = run_student(additive_attention, case.arrays, (reference_attention,))  # step 2
        _judge_attention(  # step 3
            "additive_attention",
            case,
            run,
            reference_attention.additive_attention,
            known.ADDITIVE_ATTENTION_MISTAKES,
        )


@judge.student_facing
def check_dot_attention(dot_attention, cases="visible", seed=None) -> None:
    """Check ``dot_attention(query, keys, values, mask) -> (context, weights)`` (unscaled).

    Parameters
    ----------
    dot_attention : callable
        The student's function.
    cases : {"shapes", "visible", "hidden", "no_mutation"}
        Which case set to run.
    seed : int, optional
        Replays the inputs of an earlier run.

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    for case in attention_cases("dot_attention", cases, seed):  # step 1
        run = run_student(dot_attention, case.arrays, (reference_attention,))  # step 2
        _judge_attention(  # step 3
            "dot_attention",
            case,
            run,
            reference_attention.dot_attention,
            known.DOT_ATTENTION_MISTAKES,
        )


# --- a random language model ---------------------------------------------------------------


class TableModel:
    """``step_fn(token, prefix) -> (log_probs (V,), prefix + (token,))``: a random model.

    The log-probabilities after a prefix are a log-softmax of logits drawn from a generator
    seeded by ``(seed, *prefix)``, so the model is the same on every call and in every copy.
    ``eos_bias[d]`` is added to eos's logit after ``d`` produced tokens (0 beyond its end).
    """

    def __init__(self, seed: int, V: int, eos: int, eos_bias=(), spread: float = 1.5):
        self.seed, self.V, self.eos = seed, V, eos
        self.eos_bias, self.spread = tuple(eos_bias), spread

    def __call__(self, token, prefix):
        prefix = tuple(prefix) + (int(token),)
        rng = np.random.default_rng([self.seed, *prefix])
        logits = self.spread * rng.standard_normal(self.V)  # (V,)
        depth = len(prefix) - 1  # tokens produced so far (bos is not one)
        if depth < len(self.eos_bias):
            logits[self.eos] += self.eos_bias[depth]
        return logits - np.logaddexp.reduce(logits), prefix  # (V,)

    def __repr__(self) -> str:
        return f"TableModel(seed={self.seed}, V={self.V})"


def every_sequence(step_fn, start_state, bos, eos, V, max_len, length_penalty) -> list:
    """Every sequence a search can return, by enumeration, as (tokens, score), best first."""
    found = []
    for n in range(1, max_len + 1):
        for tokens in itertools.product(range(V), repeat=n):
            if eos in tokens[:-1] or (n < max_len and tokens[-1] != eos):
                continue
            state, token, log_prob = start_state, bos, 0.0
            for following in tokens:
                log_probs, state = step_fn(token, state)
                log_prob, token = log_prob + float(log_probs[following]), following
            found.append((list(tokens), log_prob / n**length_penalty))
    return sorted(found, key=lambda pair: pair[1], reverse=True)


# --- greedy decoding -----------------------------------------------------------------------

# (name, V, max_len, stop depth (eos forced there) or None (eos never likely))
_GREEDY_SHAPES = {
    "visible": [("eos reached", 5, 8, 4), ("eos reached early", 4, 6, 2)],
    "hidden": [
        ("max_len reached before eos", 5, 5, None),
        ("eos first", 4, 5, 0),
        ("max_len = 1", 3, 1, None),
        ("V = 2", 2, 7, 5),
    ],
}


def greedy_cases(cases: str, seed: int | None = None) -> list[Case]:
    """Cases for ``greedy_decode(step_fn, start_state, bos, eos, max_len)``."""
    if cases not in _GREEDY_SHAPES:
        raise _unknown("greedy_decode", cases, _GREEDY_SHAPES)
    seed = new_seed() if seed is None else seed
    drawn = []
    for index, (name, V, max_len, stop) in enumerate(_GREEDY_SHAPES[cases]):
        rng = case_rng(seed, index)
        eos, bos = int(rng.integers(0, V)), int(rng.integers(0, V))
        # eos is pushed down before the stop depth and up at it; models are redrawn until
        # greedy decoding stops exactly there (or never stops), so the case is what it says.
        bias = [-8.0] * max_len if stop is None else [-8.0] * stop + [8.0]
        for _ in range(100):
            model = TableModel(int(rng.integers(2**31)), V, eos, bias)
            arrays = {
                "step_fn": model,
                "start_state": (),
                "bos": bos,
                "eos": eos,
                "max_len": max_len,
            }
            tokens, _ = reference_search.greedy_decode(**arrays)
            if len(tokens) == (max_len if stop is None else stop + 1) and (
                (stop is None) == (eos not in tokens)
            ):
                break
        drawn.append(Case(name, arrays, {"V": V, "max_len": max_len}, "values", seed, {}))
    return drawn


def _judge_tokens(name, case, tokens, what="tokens") -> list:
    if isinstance(tokens, np.ndarray) and tokens.ndim == 1:
        tokens = tokens.tolist()
    if not isinstance(tokens, list | tuple):
        judge.fail(name, case, f"{what} must be a list of ints, got {type(tokens).__name__}.")
    for token in tokens:
        if isinstance(token, bool) or not isinstance(token, int | np.integer):
            judge.fail(
                name,
                case,
                f"{what} must be a list of ints, found {token!r} of type "
                f"{type(token).__name__}. Use int(...) on each token.",
            )
    return [int(token) for token in tokens]


def _judge_score(name, case, value, what) -> float:
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        judge.fail(name, case, f"{what} must be a number, got {type(value).__name__}.")
    if not np.isfinite(value):
        judge.fail(name, case, f"{what} is {value}, expected a finite log-probability.")
    return float(value)


def _close(a: float, b: float) -> bool:
    return judge.compare(np.float64(a), np.float64(b), _SCORE_TOLERANCE) is None


def _same_result(result, expected) -> bool:
    return len(result) == len(expected) and all(
        tokens == tokens_e and _close(score, score_e)
        for (tokens, score), (tokens_e, score_e) in zip(result, expected, strict=True)
    )


def _judge_greedy(case, run) -> None:
    name = "greedy_decode"
    judge.judge_reference_calls(name, case, run.reference_calls)
    judge.judge_error(name, case, run.error)
    result = judge.unpack(name, case, run.result, ("tokens", "log_prob"))
    tokens = _judge_tokens(name, case, result["tokens"])
    log_prob = _judge_score(name, case, result["log_prob"], "log_prob")
    expected = reference_search.greedy_decode(**case.arrays)
    if _same_result([(tokens, log_prob)], [expected]):
        return
    predicted = {
        m: [m.predict(case.arrays, case.extra)["result"]] for m in known.GREEDY_DECODE_MISTAKES
    }
    found = [
        mistake
        for mistake, prediction in predicted.items()
        if not _same_result(prediction, [expected])
        and _same_result(prediction, [(tokens, log_prob)])
    ]
    message = (
        f"it returned ({tokens}, {log_prob:.6g}), expected ({expected[0]}, {expected[1]:.6g}) "
        f"(eos = {case.arrays['eos']}, max_len = {case.arrays['max_len']})."
    )
    message += "".join(_known(mistake) for mistake in found)
    if not found:
        message += (
            "\n    At each step feed the last token (bos first), take the argmax of log_probs, "
            "add its log-probability, append it, and stop after eos or max_len tokens."
        )
    judge.fail(name, case, message)


@judge.student_facing
def check_greedy_decode(greedy_decode, cases="visible", seed=None) -> None:
    """Check ``greedy_decode(step_fn, start_state, bos, eos, max_len) -> (tokens, log_prob)``.

    Parameters
    ----------
    greedy_decode : callable
        The student's function.
    cases : {"visible", "hidden"}
        Which case set to run.
    seed : int, optional
        Replays the inputs of an earlier run.

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    for case in greedy_cases(cases, seed):  # step 1
        run = run_student(greedy_decode, case.arrays, (reference_search,))  # step 2
        _judge_greedy(case, run)  # step 3


# --- beam search ---------------------------------------------------------------------------

_ALL = tuple(mistake.name for mistake in known.BEAM_SEARCH_MISTAKES)
_NO_PENALTY = tuple(name for name in _ALL if "length penalty" not in name)
# With one hypothesis nothing is dropped; these two still change greedy's result.
_ONE = ("beam scored by the last step", "finished hypotheses extended")

# (name, V, beam_size, max_len, length_penalty, mistakes that must show, against)
_BEAM_SHAPES = {
    "visible": [
        ("beam 3, alpha 0.7", 5, 3, 6, 0.7, _ALL, "reference"),
        ("beam 2, alpha 1", 4, 2, 5, 1.0, _ALL, "reference"),
    ],
    "brute_force": [
        ("beam >= every sequence, V = 3, max_len 4", 3, 31, 4, 0.6, _ALL, "enumeration"),
        ("beam 4, V = 3, max_len 4, alpha 0", 3, 4, 4, 0.0, _NO_PENALTY, "reference"),
    ],
    "beam_of_one": [
        ("beam 1, alpha 0.8", 5, 1, 6, 0.8, _ONE, "greedy"),
        ("beam 1, alpha 0", 4, 1, 5, 0.0, _ONE, "greedy"),
    ],
    "hidden": [
        ("alpha 0", 4, 3, 5, 0.0, _NO_PENALTY, "reference"),
        ("beam wider than V", 3, 5, 4, 0.5, _ALL, "reference"),
        ("max_len = 1", 4, 2, 1, 0.7, (), "reference"),
        ("V = 2, beam 2", 2, 2, 6, 1.0, _NO_PENALTY, "reference"),
    ],
}


def _visible(arrays, names) -> bool:
    """Whether every named mistake, and an unsorted result, would change these results."""
    expected = reference_search.beam_search(**arrays)
    scores = [score for _, score in expected]
    if len(expected) >= 2 and np.allclose(scores, scores[0]):
        return False
    for mistake in known.BEAM_SEARCH_MISTAKES:
        if mistake.name in names:
            if _same_result(mistake.predict(arrays, {})["result"], expected):
                return False
    return True


def beam_cases(cases: str, seed: int | None = None) -> list[Case]:
    """Cases for ``beam_search(step_fn, start_state, bos, eos, beam_size, max_len,
    length_penalty)``; models are redrawn until every named mistake shows."""
    if cases not in _BEAM_SHAPES:
        raise _unknown("beam_search", cases, _BEAM_SHAPES)
    seed = new_seed() if seed is None else seed
    drawn = []
    for index, (name, V, beam, max_len, alpha, names, against) in enumerate(_BEAM_SHAPES[cases]):
        rng = case_rng(seed, index)
        for _ in range(500):
            eos, bos = int(rng.integers(0, V)), int(rng.integers(0, V))
            bias = rng.uniform(-1.0, 1.5, size=max_len)  # eos moderately likely at each step
            model = TableModel(int(rng.integers(2**31)), V, eos, bias)
            arrays = {
                "step_fn": model,
                "start_state": (),
                "bos": bos,
                "eos": eos,
                "beam_size": beam,
                "max_len": max_len,
                "length_penalty": alpha,
            }
            if _visible(arrays, names):
                break
        else:  # pragma: no cover - the tests of the checks run many seeds
            raise RuntimeError(f"no model shows every mistake for case {name!r}, seed {seed}")
        dims = {"V": V, "beam_size": beam, "max_len": max_len}
        drawn.append(Case(name, arrays, dims, "values", seed, {"against": against}))
    return drawn


def _describe(result) -> str:
    return "[" + ", ".join(f"({tokens}, {score:.6g})" for tokens, score in result) + "]"


def _judge_beam(case, run) -> None:
    name = "beam_search"
    judge.judge_reference_calls(name, case, run.reference_calls)
    judge.judge_error(name, case, run.error)
    result = run.result
    if not isinstance(result, list | tuple):
        judge.fail(
            name, case, f"it must return a list of (tokens, score), got {type(result).__name__}."
        )
    checked = []
    for k, pair in enumerate(result):
        if not isinstance(pair, list | tuple) or len(pair) != 2:
            judge.fail(name, case, f"item {k} of the result must be a pair (tokens, score).")
        tokens = _judge_tokens(name, case, pair[0], f"the tokens of item {k}")
        checked.append((tokens, _judge_score(name, case, pair[1], f"the score of item {k}")))
    arrays = case.arrays
    if case.extra["against"] == "greedy":
        tokens, log_prob = reference_search.greedy_decode(
            arrays["step_fn"], arrays["start_state"], arrays["bos"], arrays["eos"],
            arrays["max_len"],
        )  # fmt: skip
        expected = [(tokens, log_prob / len(tokens) ** arrays["length_penalty"])]
        against = "greedy decoding"
    elif case.extra["against"] == "enumeration":
        expected = every_sequence(
            arrays["step_fn"], arrays["start_state"], arrays["bos"], arrays["eos"],
            case.dims["V"], arrays["max_len"], arrays["length_penalty"],
        )[: arrays["beam_size"]]  # fmt: skip
        against = "brute-force enumeration of every sequence"
    else:
        expected = reference_search.beam_search(**arrays)
        against = "the reference"
    if _same_result(checked, expected):
        return
    scores = [score for _, score in checked]
    if any(a < b - 1e-12 * max(1.0, abs(b)) for a, b in zip(scores, scores[1:], strict=False)):
        message = f"the scores {scores} are not in decreasing order."
        judge.fail(name, case, message + _known(known.UNSORTED))
    found = [
        mistake
        for mistake in known.BEAM_SEARCH_MISTAKES
        if _same_result(mistake.predict(arrays, case.extra)["result"], checked)
    ]
    message = (
        f"it returned {_describe(checked)}, expected {_describe(expected)} (compared with "
        f"{against}; eos = {arrays['eos']})."
    )
    message += "".join(_known(mistake) for mistake in found)
    if case.extra["against"] == "greedy" and not found:
        message += _known(known.NOT_GREEDY)
    elif not found:
        message += (
            "\n    Each step: extend every unfinished hypothesis by every token, keep finished "
            "ones unchanged, rank all by cumulative log p / n ** length_penalty and keep the "
            "beam_size best; return them best first."
        )
    judge.fail(name, case, message)


@judge.student_facing
def check_beam_search(beam_search, cases="visible", seed=None) -> None:
    """Check ``beam_search(step_fn, start_state, bos, eos, beam_size, max_len, length_penalty)
    -> [(tokens, score), ...]``, best first, with score = log p / n ** length_penalty.

    Parameters
    ----------
    beam_search : callable
        The student's function.
    cases : {"visible", "brute_force", "beam_of_one", "hidden"}
        Which case set to run: ``"brute_force"`` compares with every sequence enumerated,
        ``"beam_of_one"`` compares ``beam_size=1`` with greedy decoding.
    seed : int, optional
        Replays the inputs of an earlier run.

    Raises
    ------
    AssertionError
        With a message naming what is wrong.
    """
    for case in beam_cases(cases, seed):  # step 1
        run = run_student(beam_search, case.arrays, (reference_search,))  # step 2
        _judge_beam(case, run)  # step 3
