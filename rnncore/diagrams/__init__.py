"""Diagrams of the course's ideas, drawn by code at build time (no image files).

Like ``rnncore.viz``, every function draws on matplotlib Axes that the caller made and returns
them; labels use the symbols of the notation page and of the chapters' equations. One module
per family:

- ``topologies``: the shapes of sequence problems (chapter 1);
- ``gradient_paths``: the two gradient paths into a hidden state (chapter 4);
- ``cells``: the LSTM and GRU cells (chapters 6 and 7);
- ``layers``: stacked and bidirectional layers (chapter 8);
- ``padding``: a padded batch, its mask and its packed order (chapter 8).
"""

from rnncore.diagrams.cells import draw_gru_cell, draw_lstm_cell
from rnncore.diagrams.gradient_paths import draw_gradient_paths
from rnncore.diagrams.layers import draw_stacked_and_bidirectional
from rnncore.diagrams.padding import draw_padding_and_packing, packed_order
from rnncore.diagrams.topologies import TOPOLOGY_TITLES, TOPOLOGY_WIDTHS, draw_topologies

__all__ = [
    "TOPOLOGY_TITLES",
    "TOPOLOGY_WIDTHS",
    "draw_gradient_paths",
    "draw_gru_cell",
    "draw_lstm_cell",
    "draw_padding_and_packing",
    "draw_stacked_and_bidirectional",
    "draw_topologies",
    "packed_order",
]
