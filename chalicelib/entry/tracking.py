"""The tracking function's handler (``chalicelib.entry.tracking.app``): the public beacons only.

Most requests are beacons, so this is the cold start that matters: it imports the
tracking routes and the prepared-statement path to PostgreSQL, never boto3 (the
tracking function calls no AWS service) nor the SQLAlchemy ORM.
"""

from chalicelib.adapters import user_agents
from chalicelib.entry import build_api
from chalicelib.routes import tracking

app = build_api(tracking.bp)
user_agents.warm_up()  # at the init phase of a cold start, not in its first request
