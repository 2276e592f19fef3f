"""rnncore: the tested reference package of the open RNN course.

Subpackages
-----------
rnncore.numpy
    The reference path students re-derive: RNN, LSTM and GRU forward and backward (BPTT).
rnncore.torch
    The same equations in PyTorch, on the CPU and on CUDA, with weight interop to torch.nn.
rnncore.grading
    The checks that grade the course's exercises.
rnncore.data
    Offline datasets.
rnncore.long_range
    The long-range experiments that chapters 6 and 7 share: the adding problem and a
    one-symbol copy probe (RNN, LSTM, GRU by sequence length), one module a job (runner,
    adding, copy_probe, verdicts, rankings, trace_story).
rnncore.gradient_decay
    The geometric factor per step by which a gradient's norm decays (chapters 5 and 6).
rnncore.keras_interop
    Keras 3 (torch backend) SimpleRNN, LSTM and GRU weights to and from rnncore's.
rnncore.timing
    Alternated, median-of-runs timing used by the benchmarks and chapter 8.
rnncore.memory_trace
    How far apart the copy probe's final states are while a probe run trains (chapter 7).
rnncore.ngram
    Add-k and Kneser-Ney character n-gram models, the baselines of chapters 3, 4 and 9.
rnncore.shapes
    Shape checks whose errors name the array, the expected and the actual shape.
rnncore.viz
    Plotting helpers that draw on a given matplotlib Axes.
rnncore.diagrams
    The course's diagrams, drawn at build time: topologies, gradient paths, LSTM and GRU
    cells, stacked and bidirectional layers, padding and packing.

The applications (Part III) add:

rnncore.text_features, rnncore.diversity, rnncore.subwords
    Chapter 9: per-character features of a text, distinct n-grams, a small BPE.
rnncore.sentiment_baselines, rnncore.sentiment_figures
    Chapter 10: bag-of-words and lexicon baselines, and the chapter's figures.
rnncore.forecast
    Chapter 11: forecasting baselines, MAE and MASE, recursive and direct forecasts,
    quantile (pinball) loss.
rnncore.error_rates
    Chapter 12: digit error rate and whole-string accuracy.
rnncore.translation_metrics
    Chapter 13: exact match, and BLEU and chrF from sacrebleu.
rnncore.captioning_baselines
    Chapter 14: a per-digit logistic regression on the true cuts of a strip.
rnncore.music_render, rnncore.music_audio, rnncore.music_theory
    Chapter 15: melodies engraved with verovio, synthesised to audio, checked against theory.

Their data live in :mod:`rnncore.data` and their models in :mod:`rnncore.torch`.
"""

__version__ = "0.1.0"
