"""nbgrader settings of the course; every other setting keeps nbgrader's default.

Run nbgrader from this folder (the Makefile does): `make release`, `make grade`.
"""

import os

c = get_config()  # noqa: F821 (nbgrader provides get_config when it reads this file)

# The course root is this file's folder, wherever the repository is checked out.
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"

# Seconds a cell may run when validating or grading before it is interrupted and scored 0
# (a student's infinite loop). Override on the command line: --Execute.timeout=10
c.Execute.timeout = 60

# Warnings on stderr would make nbgrader score a passing test cell 0. Drop stderr outputs with
# PyTorch's C++ warnings ("[W1125 20:38:12.123 NNPACK.cpp:64] Could not initialize ...") and
# Python warnings ("file.py:12: UserWarning: ..."); errors are separate outputs and still count.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"(?m)^\[W[^\]\n]*\] |^[^\n]*:\d+: \w*Warning: "
