"""The package version (its own module: files record it, and io sits below the package root)."""
__version__ = "0.1.0"
