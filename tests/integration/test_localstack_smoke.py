"""The LocalStack the suite starts answers the AWS APIs the service uses."""

from __future__ import annotations

from localstack_client.session import Session


def test_localstack_serves_s3_and_scheduler(localstack_endpoint: str) -> None:
    session = Session(localstack_host=localstack_endpoint.removeprefix("http://"))
    s3 = session.client("s3")
    s3.create_bucket(Bucket="smoke-bucket")
    s3.put_object(Bucket="smoke-bucket", Key="a.txt", Body=b"hello")
    assert s3.get_object(Bucket="smoke-bucket", Key="a.txt")["Body"].read() == b"hello"

    scheduler = session.client("scheduler")
    scheduler.create_schedule_group(Name="smoke-group")
    names = [group["Name"] for group in scheduler.list_schedule_groups()["ScheduleGroups"]]
    assert "smoke-group" in names
