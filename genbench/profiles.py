"""The training/evaluation profiles, defined once: suites select them, baselines size configs by them.

``quick`` fits a 2-core CPU in minutes; ``full`` is the paper-sized run for a GPU.
"""

PROFILES = ("quick", "full")
DEFAULT_PROFILE = "quick"
