"""Powertools Logger and Metrics shared by every module (one instance each per container)."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

SERVICE_NAME = "media-api"
METRICS_NAMESPACE = "MediaApi"

logger = Logger(service=SERVICE_NAME)
metrics = Metrics(namespace=METRICS_NAMESPACE, service=SERVICE_NAME)
