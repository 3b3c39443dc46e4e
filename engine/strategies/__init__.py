"""Training strategies: one small, readable module each, with its ``SPEC``.

``registry.get(name)`` finds a strategy's spec; ``spec.implementation()`` makes the
object a worker process runs. See ``spec.py`` for the shape every strategy shares.
"""
