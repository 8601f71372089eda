"""Everything that talks to a tool or an external service: S3, SQS, SNS, EventBridge Scheduler,
Secrets Manager, CloudFront signing, ffprobe and ffmpeg. Services call these; nothing here holds a
business rule, and boto3 is imported lazily (through :mod:`chalicelib.adapters.aws`) off the cold-start path."""
