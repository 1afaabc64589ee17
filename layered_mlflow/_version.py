"""The package's version: its own module, so that what needs it imports nothing else."""

__version__ = "0.1.0"
