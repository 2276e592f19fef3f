r"""Results and saliency figures of the sentiment chapter, and the numbers behind them.

Computing functions return plain data (floats, lists, dicts, a DataFrame); plotting
functions draw on an ``Axes`` the caller made and return it, or return a new ``Figure``.

* :func:`accuracy_by_length`: accuracy of each model over bins of sentence length,
  keeping only the bins that hold enough sentences.
* :func:`pick_examples`: one short example of each wanted construction, all different.
* :func:`kind_masks`, :func:`share_by_kind`, :func:`fraction_by_kind`,
  :func:`word_share_table`: where saliency or attention goes, by kind of word. For per-word
  weights :math:`a_{bt}` of sentence :math:`b` and the set :math:`K` of the words of one kind,

  .. math:: \text{share}(K) = \frac{1}{B} \sum_{b} \frac{\sum_{t:\, w_{bt} \in K} a_{bt}}
            {\sum_{t} a_{bt}},

  and the share of the tokens, :math:`\frac{1}{B} \sum_b |\{t : w_{bt} \in K\}| / n_b`, is
  what the share would be if every word weighed the same.
* :func:`plot_accuracy_by_construction`, :func:`plot_accuracy_by_length`,
  :func:`plot_saliency_row`, :func:`saliency_figure`: the figures.

Letters: N sentences, B sentences shown, T time steps (tokens, padded), M models.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

__all__ = [
    "NEGATION_WORDS",
    "CONNECTIVE_WORDS",
    "accuracy_by_length",
    "pick_examples",
    "kind_masks",
    "share_by_kind",
    "fraction_by_kind",
    "word_share_table",
    "plot_accuracy_by_construction",
    "plot_accuracy_by_length",
    "plot_saliency_row",
    "saliency_figure",
]

#: Every word of a negation of ``rnncore.data.sentiment`` (not, never, hardly, far from,
#: did not, at all), the verbs excepted.
NEGATION_WORDS = frozenset({"not", "never", "hardly", "far", "from", "did", "at", "all"})
#: The words that join clauses in ``rnncore.data.sentiment``'s templates.
CONNECTIVE_WORDS = frozenset({"but", "although", "even", "though", "and", ","})


def accuracy_by_length(
    lengths: Sequence[int],
    correct: Mapping[str, Sequence[bool]],
    edges: Sequence[int],
    min_count: int = 10,
) -> tuple[list[float], dict[str, list[float]]]:
    """Accuracy of each model over bins of sentence length.

    Bin i holds the sentences with ``edges[i] <= length < edges[i + 1]``; a bin with fewer
    than ``min_count`` sentences is left out (its accuracy would be noise).

    Parameters
    ----------
    lengths : sequence of N ints
        Number of tokens of each sentence.
    correct : dict of str to sequence of N bools
        For each model, whether it got each sentence right.
    edges : sequence of ints, increasing
        Bin edges; the last bin excludes its upper edge.
    min_count : int, default 10
        Fewest sentences a bin must hold to be kept.

    Returns
    -------
    centres : list of float
        The centre of each kept bin, ``(low + high - 1) / 2`` (the mean of its lengths'
        range).
    accuracies : dict of str to list of float
        For each model, its accuracy in each kept bin (same length as ``centres``).

    Raises
    ------
    ValueError
        If an entry of ``correct`` does not have N values, or ``edges`` is not increasing.
    """
    lengths = np.asarray(lengths)
    edges = list(edges)
    if len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"edges must hold at least two increasing values, got {edges}")
    right = {}
    for name, values in correct.items():
        values = np.asarray(values, dtype=bool)
        if values.shape != lengths.shape:
            raise ValueError(
                f"correct[{name!r}] must have one value per sentence ({lengths.shape[0]}), "
                f"got shape {values.shape}"
            )
        right[name] = values
    centres, accuracies = [], {name: [] for name in right}
    for low, high in zip(edges[:-1], edges[1:], strict=True):
        inside = (lengths >= low) & (lengths < high)  # (N,)
        if inside.sum() >= min_count:
            centres.append((low + high - 1) / 2)
            for name, values in right.items():
                accuracies[name].append(float(values[inside].mean()))
    return centres, accuracies


def pick_examples(examples: Sequence, constructions: Sequence[str], max_length: int) -> list:
    """The first example of each wanted construction, at most ``max_length`` tokens long.

    A construction may be asked for more than once; each pick is a sentence not picked
    before (compared by text).

    Parameters
    ----------
    examples : sequence of SentimentExample
        Anything with ``construction``, ``text`` and ``length`` attributes.
    constructions : sequence of str
        The construction of each example to pick, in order.
    max_length : int
        Longest sentence allowed (so that the words stay readable in a figure).

    Returns
    -------
    picked : list of SentimentExample
        One per entry of ``constructions``, in the same order.

    Raises
    ------
    ValueError
        If no unused example of a construction is short enough.
    """
    picked, used = [], set()
    for construction in constructions:
        example = next(
            (
                e
                for e in examples
                if e.construction == construction and e.text not in used and e.length <= max_length
            ),
            None,
        )
        if example is None:
            raise ValueError(
                f"no unused {construction!r} example of at most {max_length} tokens is left"
            )
        used.add(example.text)
        picked.append(example)
    return picked


def kind_masks(
    tokens: Sequence[Sequence[str]], word_kinds: Mapping[str, Collection[str]], steps: int
) -> dict[str, np.ndarray]:
    """Where the words of each kind are in a right-padded batch of sentences.

    Parameters
    ----------
    tokens : sequence of N token sequences
        Each at most ``steps`` long.
    word_kinds : dict of str to collection of str
        The words of each kind (a word may belong to several kinds or to none).
    steps : int
        T, the padded length of the batch.

    Returns
    -------
    masks : dict of str to ndarray of shape (N, T), dtype bool
        True where token t of sentence b belongs to the kind; False on the padding.

    Raises
    ------
    ValueError
        If a sentence is longer than ``steps``.
    """
    masks = {kind: np.zeros((len(tokens), steps), dtype=bool) for kind in word_kinds}
    for b, sentence in enumerate(tokens):
        if len(sentence) > steps:
            raise ValueError(f"sentence {b} has {len(sentence)} tokens, more than steps={steps}")
        for kind, words in word_kinds.items():
            masks[kind][b, : len(sentence)] = [word in words for word in sentence]
    return masks


def share_by_kind(
    weights,
    tokens: Sequence[Sequence[str]],
    word_kinds: Mapping[str, Collection[str]],
    normalise: bool = True,
) -> dict[str, float]:
    """Mean share of each sentence's weight that falls on each kind of word.

    Parameters
    ----------
    weights : array-like of shape (N, T)
        A non-negative weight per token (|saliency|, attention weights), right-padded; the
        padding is ignored.
    tokens : sequence of N token sequences
    word_kinds : dict of str to collection of str
        The words of each kind.
    normalise : bool, default True
        Divide each sentence's weight of a kind by its total weight (for |saliency|). Leave it
        False for weights that already sum to 1 over each sentence (attention), whose shares
        are then the summed weights themselves.

    Returns
    -------
    shares : dict of str to float
        For each kind, the mean over the N sentences of its share.

    Raises
    ------
    ValueError
        If ``weights`` is not 2-D with one row per sentence, or has a negative value.
    """
    weights = np.asarray(weights)
    if weights.ndim != 2 or weights.shape[0] != len(tokens):
        raise ValueError(
            f"weights must have shape (N, T) with N = {len(tokens)} sentences, got {weights.shape}"
        )
    if (weights < 0).any():
        raise ValueError("weights must be non-negative: pass |saliency|, not saliency")
    masks = kind_masks(tokens, word_kinds, weights.shape[1])
    shares = {}
    for kind, mask in masks.items():
        of_kind = (weights * mask).sum(axis=1)  # (N,)
        if normalise:
            of_kind = of_kind / weights.sum(axis=1)
        shares[kind] = float(of_kind.mean())
    return shares


def fraction_by_kind(
    tokens: Sequence[Sequence[str]], word_kinds: Mapping[str, Collection[str]]
) -> dict[str, float]:
    """Mean fraction of each sentence's tokens that are of each kind.

    Parameters
    ----------
    tokens : sequence of N token sequences, none empty
    word_kinds : dict of str to collection of str

    Returns
    -------
    fractions : dict of str to float
        For each kind, the mean over the sentences of (its tokens) / (the sentence's tokens).
    """
    return {
        kind: float(np.mean([sum(word in words for word in s) / len(s) for s in tokens]))
        for kind, words in word_kinds.items()
    }


def word_share_table(shares: Mapping[str, Mapping[str, float]]) -> pd.DataFrame:
    """A table of shares by kind of word, one row per source, with the rest as "other words".

    Parameters
    ----------
    shares : dict of str to dict of str to float
        For each source ("gradient x input", "attention weight"), the share of each kind of
        word (:func:`share_by_kind`); the kinds must not overlap.

    Returns
    -------
    table : pandas.DataFrame
        One row per source, one column per kind, and a last column "other words" holding
        1 minus the row's sum.
    """
    table = pd.DataFrame(shares).T
    table["other words"] = 1 - table.sum(axis=1)
    return table


def plot_accuracy_by_construction(ax: Axes, table: pd.DataFrame, chance: float = 0.5) -> Axes:
    """Grouped bars: one group per column (test set), one bar per row (model).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    table : pandas.DataFrame of shape (M, S)
        Accuracy of M models (rows, the legend) on S sets (columns, the tick labels).
    chance : float, default 0.5
        Accuracy of a coin, drawn as a dashed line.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The same Axes, with M x S bars, a legend and a line at chance.
    """
    x = np.arange(table.shape[1])
    width = 0.8 / table.shape[0]
    for i, (name, row) in enumerate(table.iterrows()):
        offset = (i - (table.shape[0] - 1) / 2) * width
        ax.bar(x + offset, row.to_numpy(dtype=float), width=width, label=name)
    ax.set_xticks(x, [str(column) for column in table.columns], rotation=20)
    ax.axhline(chance, color="grey", lw=0.8, ls="--")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize="small", loc="lower left")
    return ax


def plot_accuracy_by_length(
    ax: Axes,
    centres: Sequence[float],
    accuracies: Mapping[str, Sequence[float]],
    longest_train: int | None = None,
    chance: float = 0.5,
) -> Axes:
    """One line of accuracy against sentence length per model (:func:`accuracy_by_length`).

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    centres : sequence of K floats
        Centre of each length bin.
    accuracies : dict of str to sequence of K floats
        Each model's accuracy in each bin.
    longest_train : int, optional
        Length of the longest training sentence, marked by a dotted line and a note.
    chance : float, default 0.5
        Accuracy of a coin, drawn as a dashed line.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The same Axes, with one line per model and a legend.

    Raises
    ------
    ValueError
        If a model's accuracies are not one per centre.
    """
    for name, values in accuracies.items():
        if len(values) != len(centres):
            raise ValueError(
                f"accuracies[{name!r}] must have one value per centre ({len(centres)}), "
                f"got {len(values)}"
            )
    for name, values in accuracies.items():
        ax.plot(centres, values, "o-", label=name)
    if longest_train is not None:
        ax.axvline(longest_train + 0.5, color="grey", lw=0.8, ls=":")
        ax.text(longest_train + 1, 0.05, "longer than\nany training\nsentence", fontsize="small")
    ax.axhline(chance, color="grey", lw=0.8, ls="--")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("sentence length (tokens)")
    ax.set_ylabel("accuracy")
    ax.legend(fontsize="small", loc="lower left")
    return ax


def plot_saliency_row(
    ax: Axes,
    tokens: Sequence[str],
    saliency,
    attention=None,
    title: str = "",
) -> Axes:
    """One sentence as a row of cells coloured by saliency, each word written in its cell.

    Saliency is scaled by the sentence's largest |value| and coloured blue (towards the
    prediction) to red (against it); the attention weight of each word, if given, is
    written under it.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        Where to draw.
    tokens : sequence of n str
        The sentence's words.
    saliency : array-like of shape (T,), T >= n
        Saliency of each step; steps after the n-th (padding) are ignored.
    attention : array-like of shape (T,), optional
        Attention weight of each step.
    title : str, default ""
        Written above the row, on the left.

    Returns
    -------
    ax : matplotlib.axes.Axes
        The same Axes, with one image, one text per word and one per attention weight.

    Raises
    ------
    ValueError
        If ``saliency`` (or ``attention``) has fewer steps than ``tokens``.
    """
    n = len(tokens)
    values = np.asarray(saliency, dtype=float).reshape(-1)
    if values.shape[0] < n or (attention is not None and np.shape(attention)[-1] < n):
        raise ValueError(f"saliency and attention must have at least {n} steps, one per token")
    values = values[:n]
    scale = np.abs(values).max()
    scale = scale if scale > 0 else 1.0
    ax.imshow(values[None] / scale, cmap="RdBu", vmin=-1, vmax=1, aspect="auto")
    for t, token in enumerate(tokens):
        dark = abs(values[t] / scale) > 0.6
        ax.text(
            t,
            -0.05,
            token,
            ha="center",
            va="center",
            fontsize=8.5,
            color="white" if dark else "black",
        )
        if attention is not None:
            ax.text(
                t,
                0.32,
                f"{float(attention[t]):.2f}",
                ha="center",
                va="center",
                fontsize=6.5,
                color="white" if dark else "dimgrey",
            )
    ax.set_yticks([])
    ax.set_xticks([])
    ax.set_title(title, fontsize=9, loc="left")
    return ax


def saliency_figure(
    tokens: Sequence[Sequence[str]],
    saliency,
    attention=None,
    titles: Sequence[str] | None = None,
) -> Figure:
    """A figure of B sentences, one :func:`plot_saliency_row` each.

    Parameters
    ----------
    tokens : sequence of B token sequences
    saliency : array-like of shape (B, T)
        Saliency per step, right-padded.
    attention : array-like of shape (B, T), optional
        Attention weight per step.
    titles : sequence of B str, optional
        A title per sentence.

    Returns
    -------
    fig : matplotlib.figure.Figure
        B Axes stacked vertically; the caller closes it.

    Raises
    ------
    ValueError
        If ``saliency``, ``attention`` or ``titles`` do not have one entry per sentence.
    """
    count = len(tokens)
    titles = [""] * count if titles is None else list(titles)
    for name, value in (("saliency", saliency), ("attention", attention), ("titles", titles)):
        if value is not None and len(value) != count:
            raise ValueError(f"{name} must have one entry per sentence ({count}), got {len(value)}")
    fig, axes = plt.subplots(count, 1, figsize=(11, 1.25 * count), squeeze=False)
    for b, ax in enumerate(axes[:, 0]):
        plot_saliency_row(
            ax, tokens[b], saliency[b], None if attention is None else attention[b], titles[b]
        )
    fig.tight_layout()
    return fig
