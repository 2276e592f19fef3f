"""The production path: the equations of :mod:`rnncore.numpy` in PyTorch, on CPU and CUDA.

Modules, each one concept:

* :mod:`~rnncore.torch.cells` one time step of the RNN, LSTM and GRU (both GRU conventions);
* :mod:`~rnncore.torch.layers` batch-first sequence layers ``RNN``, ``LSTM``, ``GRU``, drop-ins
  for ``torch.nn.RNN/LSTM/GRU(batch_first=True)``;
* :mod:`~rnncore.torch.fast` one autograd.Function per cell with a hand-written backward, the
  layers' ``fast=True`` path;
* :mod:`~rnncore.torch.padding` lengths, masks and last valid states of padded batches;
* :mod:`~rnncore.torch.benchmark` readable, fast and torch.nn paths timed in one run;
* :mod:`~rnncore.torch.interop` weights to and from torch.nn's modules;
* :mod:`~rnncore.torch.models` the small models the applications use;
* :mod:`~rnncore.torch.train` seeding, device choice and the one training loop;
* :mod:`~rnncore.torch.decode` sampling (temperature, top-k, nucleus), greedy and beam search,
  CTC greedy decoding.

The applications add:

* :mod:`~rnncore.torch.char_lm` the pieces of a character language model (streams, chunks,
  detached states, one training step, sampling, bits per character), Assignment 5's reference;
* :mod:`~rnncore.torch.tbptt` chapter 9's truncated-BPTT training loop built on them;
* :mod:`~rnncore.torch.lm_analysis` exposure bias, tempered likelihoods, per-character states;
* :mod:`~rnncore.torch.pooling` padding a batch and pooling a padded sequence of states (last
  valid, mean, max, attention), Assignment 6's reference;
* :mod:`~rnncore.torch.sentence_classifier` an embedding, a packed torch.nn recurrent layer and
  a pooling, the classifier of chapter 10; :mod:`~rnncore.torch.sentiment` its training glue;
* :mod:`~rnncore.torch.saliency` gradient times input over embeddings;
* :mod:`~rnncore.torch.speech_model` chapter 12's CTC recogniser;
  :mod:`~rnncore.torch.ctc_prefix_beam` CTC prefix beam search;
* :mod:`~rnncore.torch.attention` additive and multiplicative attention over a padded batch;
* :mod:`~rnncore.torch.seq2seq` chapter 13's GRU encoder–decoder, with or without attention;
* :mod:`~rnncore.torch.captioner` chapter 14's column encoder and attending GRU decoder.

This package is named ``rnncore.torch``; it imports PyTorch with absolute imports
(``import torch``), which always finds the real PyTorch.
"""

from rnncore.torch import cells, decode, interop, layers, models, train
from rnncore.torch.layers import GRU, LSTM, RNN
from rnncore.torch.models import CharLanguageModel, SequenceClassifier, SequenceRegressor
from rnncore.torch.train import choose_device, seed_everything

__all__ = [
    "cells",
    "decode",
    "interop",
    "layers",
    "models",
    "train",
    "RNN",
    "LSTM",
    "GRU",
    "CharLanguageModel",
    "SequenceClassifier",
    "SequenceRegressor",
    "choose_device",
    "seed_everything",
]
