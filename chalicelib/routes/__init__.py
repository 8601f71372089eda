"""HTTP entry layer: one Chalice Blueprint per endpoint group, registered under ``/api``
by ``app.py``. Views parse the request, call a service and present its answer."""
