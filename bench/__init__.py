"""Speed benchmarks of rnncore against torch.nn, run by ``make bench`` (never by the tests)."""
