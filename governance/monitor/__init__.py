"""Monitoring after go-live (``governance monitor``): a version's decision log in time windows, drift and alerts.

Public API: ``monitor(MonitorRequest(...), workspace=...)`` -> ``MonitorOutcome``. ``windows`` cuts the log into
count tables, ``drift`` computes each window's numbers and judges drift. Computes and records; never prints.
"""

from governance.monitor.run import MonitorOutcome, MonitorRequest, monitor

__all__ = ["MonitorOutcome", "MonitorRequest", "monitor"]
