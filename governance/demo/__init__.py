"""The bundled demo: the whole job (audit, register, approval, site) on the German credit data.

It sits on top of every other layer, so it lives in its own package rather than beside the modules it drives.
"""

from __future__ import annotations

from governance.demo.run import DemoReport, demo_workspace, run_demo

__all__ = ["DemoReport", "demo_workspace", "run_demo"]
