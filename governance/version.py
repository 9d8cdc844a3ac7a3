"""The toolkit's version, in one place (the packaging reads it from here too)."""

__version__ = "0.1.0"
