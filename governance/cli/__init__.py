"""The ``governance`` command. The only package that imports click."""
