"""Every IAM statement a function of the stack may be granted, by statement id.

A function's role is :data:`COMMON` plus the ids its declaration names (an event
function's ``grants`` in ``chalicelib/functions/*``, an endpoint group's in
``infra/api_functions.py``), plus, for a queue-fed function, consuming its own queue and,
for an asynchronously invoked one, sending to the event functions' dead-letter queue.
Every resource is the stack's own ARN; ``"*"`` only where AWS has no resource-level permission.
"""

from __future__ import annotations

import copy
from typing import Any

_SCHEDULES = {"Fn::Sub": "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule/${ScheduleGroup}/*"}
_SCHEDULE_GROUP = "arn:${AWS::Partition}:scheduler:${AWS::Region}:${AWS::AccountId}:schedule-group/${ScheduleGroup}"
_LOG_GROUPS = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/${AWS::StackName}-*"

STATEMENTS: dict[str, dict[str, Any]] = {
    # Every function: its logs, the database URL, its encrypted environment, the VPC (RDS Proxy).
    "CreateOwnLogGroups": {"Action": "logs:CreateLogGroup", "Resource": {"Fn::Sub": _LOG_GROUPS}},
    "WriteOwnLogs": {
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": {"Fn::Sub": _LOG_GROUPS + ":*"},
    },
    "ReadDatabaseSecret": {"Action": "secretsmanager:GetSecretValue", "Resource": {"Ref": "DatabaseSecret"}},
    "DecryptEnvironment": {"Action": "kms:Decrypt", "Resource": {"Fn::GetAtt": ["MediaApiKey", "Arn"]}},
    "VpcNetworkInterfaces": {
        "Action": [
            "ec2:CreateNetworkInterface",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DeleteNetworkInterface",
            "ec2:AssignPrivateIpAddresses",
            "ec2:UnassignPrivateIpAddresses",
        ],
        "Resource": "*",
    },
    # The media bucket, prefix by prefix.
    "ReadMedia": {"Action": "s3:GetObject", "Resource": {"Fn::Sub": "${MediaBucket.Arn}/*"}},
    "ListMediaBucket": {"Action": "s3:ListBucket", "Resource": {"Fn::GetAtt": ["MediaBucket", "Arn"]}},
    "WriteVideos": {
        "Action": ["s3:PutObject", "s3:AbortMultipartUpload"],
        "Resource": {"Fn::Sub": "${MediaBucket.Arn}/videos/*"},
    },
    "DeleteVideos": {"Action": "s3:DeleteObject", "Resource": {"Fn::Sub": "${MediaBucket.Arn}/videos/*"}},
    "WriteThumbnails": {"Action": "s3:PutObject", "Resource": {"Fn::Sub": "${MediaBucket.Arn}/thumbnails/*"}},
    "DeleteThumbnails": {"Action": "s3:DeleteObject", "Resource": {"Fn::Sub": "${MediaBucket.Arn}/thumbnails/*"}},
    "WriteRenditions": {
        "Action": ["s3:PutObject", "s3:AbortMultipartUpload"],
        "Resource": {"Fn::Sub": "${MediaBucket.Arn}/renditions/*"},
    },
    "DeleteRenditions": {"Action": "s3:DeleteObject", "Resource": {"Fn::Sub": "${MediaBucket.Arn}/renditions/*"}},
    "ReadStreamSigningKey": {"Action": "secretsmanager:GetSecretValue", "Resource": {"Ref": "StreamSigningKeySecret"}},
    # Work for the event functions.
    "QueueThumbnails": {
        "Action": ["sqs:SendMessage", "sqs:GetQueueUrl"],
        "Resource": {"Fn::GetAtt": ["ThumbnailsQueue", "Arn"]},
    },
    "QueueLadders": {
        "Action": ["sqs:SendMessage", "sqs:GetQueueUrl"],
        "Resource": {"Fn::GetAtt": ["LadderQueue", "Arn"]},
    },
    # MediaConvert: a job on the account's default queue, run as the role the stack gives it.
    "SubmitTranscodeJobs": {
        "Action": "mediaconvert:CreateJob",
        "Resource": [
            {"Fn::Sub": "arn:${AWS::Partition}:mediaconvert:${AWS::Region}:${AWS::AccountId}:queues/Default"},
            {"Fn::Sub": "arn:${AWS::Partition}:mediaconvert:${AWS::Region}:${AWS::AccountId}:presets/*"},
        ],
    },
    "PassMediaConvertRole": {
        "Action": "iam:PassRole",
        "Resource": {"Fn::GetAtt": ["MediaConvertRole", "Arn"]},
        "Condition": {"StringEquals": {"iam:PassedToService": "mediaconvert.amazonaws.com"}},
    },
    # Scheduled publishing.
    "ManageVideoSchedules": {
        "Action": [
            "scheduler:CreateSchedule",
            "scheduler:GetSchedule",
            "scheduler:UpdateSchedule",
            "scheduler:DeleteSchedule",
        ],
        "Resource": _SCHEDULES,
    },
    "CleanUpOwnSchedule": {"Action": ["scheduler:GetSchedule", "scheduler:DeleteSchedule"], "Resource": _SCHEDULES},
    "DeleteVideoSchedules": {"Action": "scheduler:DeleteSchedule", "Resource": _SCHEDULES},
    "ReadScheduleGroup": {
        "Action": "scheduler:GetScheduleGroup",
        "Resource": {"Fn::Sub": _SCHEDULE_GROUP},
    },
    "ListVideoSchedules": {"Action": "scheduler:ListSchedules", "Resource": "*"},
    "PassSchedulerRole": {
        "Action": "iam:PassRole",
        "Resource": {"Fn::GetAtt": ["SchedulerInvokeRole", "Arn"]},
        "Condition": {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
    },
    "PublishScheduleNotifications": {"Action": "sns:Publish", "Resource": {"Ref": "ScheduleNotificationTopic"}},
    "SendToEventDeadLetterQueue": {
        "Action": "sqs:SendMessage",
        "Resource": {"Fn::GetAtt": ["EventFunctionDeadLetterQueue", "Arn"]},
    },
}
UNSCOPABLE_WRITES = (
    "The only unscoped writes are the VPC network-interface actions Lambda needs in a VPC (and, for reconcile, "
    "scheduler:ListSchedules), which AWS offers with no resource-level permissions; every other statement "
    "names its ARN."
)
COMMON = ("CreateOwnLogGroups", "WriteOwnLogs", "ReadDatabaseSecret", "DecryptEnvironment", "VpcNetworkInterfaces")


def statement(sid: str) -> dict[str, Any]:
    """The statement ``sid`` as a policy holds it; :class:`SystemExit` naming an unknown id."""
    if sid not in STATEMENTS:
        raise SystemExit(f"infra/iam_statements.py has no statement {sid!r}")
    return {"Sid": sid, "Effect": "Allow", **copy.deepcopy(STATEMENTS[sid])}


def consume_queue(queue_resource: str) -> dict[str, Any]:
    """What Lambda's event source mapping needs to read a function's own queue."""
    return {
        "Sid": "ConsumeOwnQueue",
        "Effect": "Allow",
        "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes", "sqs:ChangeMessageVisibility"],
        "Resource": {"Fn::GetAtt": [queue_resource, "Arn"]},
    }


def role(logical_id: str, sids: tuple[str, ...], extra: tuple[dict[str, Any], ...] = ()) -> dict[str, Any]:
    """A Lambda execution role holding exactly :data:`COMMON`, ``sids`` and ``extra``."""
    statements = [statement(sid) for sid in dict.fromkeys((*COMMON, *sids))] + list(extra)
    return {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
                ],
            },
            "Policies": [
                {
                    "PolicyName": f"{logical_id}Policy",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                }
            ],
        },
        "Metadata": {"checkov": {"skip": [{"id": "CKV_AWS_111", "comment": UNSCOPABLE_WRITES}]}},
    }
