"""Mitigated candidate versions of a model whose audit failed (``governance mitigate``).

``estimators`` holds the small wrapper models that skops saves and loads through the allow-list; ``methods`` builds
candidates with fairlearn; ``run`` saves, registers and audits them and compares them with the original.
"""
