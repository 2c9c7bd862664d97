"""genbench: a benchmark and evaluation suite for generative models."""

__version__ = "0.1.0"
