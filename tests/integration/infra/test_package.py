"""The deployable package: the ffprobe layer, ``chalice package --merge-template`` and the
merged template's lint and IAM (least privilege) checks."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from chalicelib.adapters import ffprobe
from chalicelib.config import get_settings
from tests.support.media import MediaFiles
from tests.support.paths import ROOT

VENV_BIN = Path(sys.executable).parent
LAMBDA_UNZIPPED_LIMIT = 250 * 1024 * 1024
# AWS offers no resource-level permissions for these actions, so "*" is the only possible resource.
RESOURCE_WILDCARD_ALLOWED = {
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
    "scheduler:ListSchedules",
}
COMMON_SIDS = {"CreateOwnLogGroups", "WriteOwnLogs", "ReadDatabaseSecret", "DecryptEnvironment", "VpcNetworkInterfaces"}
API_FUNCTIONS = {
    "ApiTracking", "ApiVideos", "ApiActions", "ApiUploads", "ApiSchedules", "ApiAnalytics", "ApiPages", "ApiPlayer",
    "ApiPlayback",
}  # fmt: skip
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


@pytest.fixture(scope="session")
def layer_zip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("layer")
    result = subprocess.run(
        ["bash", str(ROOT / "infra/layers/build.sh"), str(out)],
        cwd=ROOT,
        env={**os.environ, "PYTHON": sys.executable},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("unzipped:") == 2 and "MB" in result.stdout  # each layer's size is printed
    return out / "ffprobe-layer-x86_64.zip"


@pytest.fixture(scope="session")
def package_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``make package STAGE=prod`` minus the layer download: render, chalice package, copy the layer zip."""
    work = tmp_path_factory.mktemp("package")
    merge = work / "merge-prod.json"
    env = {
        **os.environ,
        "AWS_DEFAULT_REGION": "us-east-1",
        "MEDIA_QUEUE_PREFIX": "media-api-prod",
    }
    subprocess.run(
        [sys.executable, "-m", "infra.render_template", "--stage", "prod", "--output", str(merge)],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    out = work / "out"
    result = subprocess.run(
        [str(VENV_BIN / "chalice"), "package", "--stage", "prod", "--merge-template", str(merge), str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    subprocess.run(
        [sys.executable, "-m", "infra.api_functions", str(out / "sam.json")],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return out


@pytest.fixture(scope="session")
def template(package_dir: Path) -> dict[str, Any]:
    return json.loads((package_dir / "sam.json").read_text())


def _functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}


def _statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    policies = template["Resources"][role]["Properties"].get("Policies", [])
    return [statement for policy in policies for statement in policy["PolicyDocument"]["Statement"]]


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _actions(statements: list[dict[str, Any]]) -> set[str]:
    return {action for statement in statements for action in _as_list(statement["Action"])}


def test_layers_hold_executable_static_tools_and_every_function_fits(layer_zip: Path, package_dir: Path) -> None:
    from infra.layer_sizes import totals

    for tool in ("ffprobe", "ffmpeg"):
        with zipfile.ZipFile(layer_zip.parent / f"{tool}-layer-x86_64.zip") as archive:
            [entry] = archive.infolist()
            assert entry.filename == f"bin/{tool}"
            assert stat.S_IMODE(entry.external_attr >> 16) == 0o755
    sizes = totals(package_dir / "deployment.zip", layer_zip.parent)
    assert sizes["make_video_thumbnail"][1] == ["FfmpegLayer"] and sizes["ApiVideos"][1] == ["FfprobeLayer"]
    assert sizes["ApiTracking"][1] == [] and "api_handler" not in sizes
    assert max(size for size, _ in sizes.values()) < LAMBDA_UNZIPPED_LIMIT


def test_layer_ffprobe_probes_real_media(
    layer_zip: Path, media_files: MediaFiles, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The layer's ffprobe (7.x, reports rotation as -90) gives the same metadata as the system one."""
    with zipfile.ZipFile(layer_zip) as archive:
        archive.extractall(tmp_path)
    binary = tmp_path / "bin" / "ffprobe"
    binary.chmod(0o755)
    monkeypatch.setenv("FFPROBE_PATH", str(binary))
    get_settings.cache_clear()
    assert ffprobe.probe(str(media_files.rotated)).as_json() == {
        "duration": 2,
        "width": 720,
        "height": 1280,
        "orientation": "V",
        "quality": "HD",
        "hasAudio": True,
    }
    assert ffprobe.probe(str(media_files.landscape)).quality == "FHD"


def test_merged_template_passes_cfn_lint(package_dir: Path) -> None:
    result = subprocess.run(
        [str(VENV_BIN / "cfn-lint"), str(package_dir / "sam.json")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:]


def test_template_has_what_chalice_does_not_create(template: dict[str, Any]) -> None:
    types = {name: resource["Type"] for name, resource in template["Resources"].items()}
    expected = {
        "MediaBucket": "AWS::S3::Bucket",
        "IngestQueue": "AWS::SQS::Queue",
        "IngestDeadLetterQueue": "AWS::SQS::Queue",
        "ScheduleGroup": "AWS::Scheduler::ScheduleGroup",
        "SchedulerInvokeRole": "AWS::IAM::Role",
        "ScheduleDeadLetterQueue": "AWS::SQS::Queue",
        "ScheduleNotificationTopic": "AWS::SNS::Topic",
        "ThumbnailsQueue": "AWS::SQS::Queue",
        "FfmpegLayer": "AWS::Serverless::LayerVersion",
        "StreamDistribution": "AWS::CloudFront::Distribution",
        "DatabaseSecret": "AWS::SecretsManager::Secret",
        "FfprobeLayer": "AWS::Serverless::LayerVersion",
    }
    assert {name: types.get(name) for name in expected} == expected
    assert template["Parameters"]["Stage"]["Default"] == "prod"
    queue = template["Resources"]["IngestQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["IngestDeadLetterQueue", "Arn"]}
    assert queue["VisibilityTimeout"] >= 6 * _functions(template)["IngestUploadedVideo"]["Properties"]["Timeout"]
    notification = template["Resources"]["MediaBucket"]["Properties"]["NotificationConfiguration"]
    assert notification["QueueConfigurations"][0]["Queue"] == {"Fn::GetAtt": ["IngestQueue", "Arn"]}


def test_api_gateways_own_errors_use_the_service_error_shape(template: dict[str, Any]) -> None:
    """An unknown route is 404 ``{"error", "message"}`` like every other error, not API Gateway's 403."""
    responses = {
        resource["Properties"]["ResponseType"]: resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::ApiGateway::GatewayResponse"
    }
    assert set(responses) == {"MISSING_AUTHENTICATION_TOKEN", "DEFAULT_4XX", "DEFAULT_5XX"}
    unknown_route = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert unknown_route["StatusCode"] == "404"
    assert unknown_route["RestApiId"] == {"Ref": "RestAPI"}
    assert json.loads(unknown_route["ResponseTemplates"]["application/json"]) == {
        "error": "NotFound",
        "message": "No such route",
    }
    for properties in responses.values():
        assert set(json.loads(properties["ResponseTemplates"]["application/json"])) == {"error", "message"}


def test_ingest_function_consumes_the_templates_queue(template: dict[str, Any]) -> None:
    ingest = _functions(template)["IngestUploadedVideo"]
    [event] = ingest["Properties"]["Events"].values()
    assert event["Type"] == "SQS" and event["Properties"]["BatchSize"] == 1
    queue_name = template["Resources"]["IngestQueue"]["Properties"]["QueueName"]["Fn::Sub"]
    assert event["Properties"]["Queue"]["Fn::Sub"].endswith(":" + queue_name.replace("${Stage}", "prod"))
    assert "IngestQueue" in ingest["DependsOn"]


def test_layer_and_wiring_of_each_function(template: dict[str, Any]) -> None:
    functions = _functions(template)
    assert {"ApiVideos", "IngestUploadedVideo", "PublishScheduledVideo"} <= set(functions)
    for name, function in functions.items():
        properties = function["Properties"]
        variables = properties["Environment"]["Variables"]
        probes = name in {"ApiVideos", "IngestUploadedVideo", "MakeVideoLadder"}
        frames = name in {"MakeVideoThumbnail", "MakeVideoLadder"}
        assert ({"Ref": "FfprobeLayer"} in properties.get("Layers", [])) is probes, name
        assert ({"Ref": "FfmpegLayer"} in properties.get("Layers", [])) is frames, name
        assert variables["MEDIA_BUCKET"] == {"Ref": "MediaBucket"}, name
        assert variables["DATABASE_URL"] == "" and variables["DATABASE_SECRET_NAME"] == {"Ref": "DatabaseSecret"}
        assert properties["VpcConfig"]["SubnetIds"] == {"Ref": "VpcSubnetIds"}
        assert properties["Architectures"] == ["x86_64"]  # the layer is x86_64-only
        if probes:
            assert variables["FFPROBE_PATH"] == "/opt/bin/ffprobe"
    api = functions["ApiVideos"]["Properties"]["Environment"]["Variables"]
    assert api["VIDEO_SCHEDULE_TARGET_ARN"] == {"Fn::GetAtt": ["PublishScheduledVideo", "Arn"]}
    assert api["VIDEO_SCHEDULE_ROLE_ARN"] == {"Fn::GetAtt": ["SchedulerInvokeRole", "Arn"]}
    assert int(api["FFPROBE_TIMEOUT_SECONDS"]) < 29  # API Gateway's integration timeout
    assert api["VIDEO_STREAM_CDN_DOMAIN"] == {"Fn::GetAtt": ["StreamDistribution", "DomainName"]}
    assert api["VIDEO_STREAM_KEY_PAIR_ID"] == {"Ref": "StreamPublicKey"}
    assert api["VIDEO_STREAM_PRIVATE_KEY_SECRET"] == {"Ref": "StreamSigningKeySecret"}
    thumbnails = functions["MakeVideoThumbnail"]["Properties"]
    assert thumbnails["Environment"]["Variables"]["FFMPEG_PATH"] == "/opt/bin/ffmpeg"
    assert thumbnails["Timeout"] > 4 * int(thumbnails["Environment"]["Variables"]["THUMBNAIL_TIMEOUT_SECONDS"])
    assert "ThumbnailsQueue" in functions["MakeVideoThumbnail"]["DependsOn"]


def test_playback_goes_through_cloudfront_with_signed_urls_and_a_private_bucket(template: dict[str, Any]) -> None:
    resources = template["Resources"]
    config = resources["StreamDistribution"]["Properties"]["DistributionConfig"]
    [origin] = config["Origins"]
    assert origin["OriginAccessControlId"] == {"Fn::GetAtt": ["StreamOriginAccessControl", "Id"]}
    assert origin["DomainName"] == {"Fn::GetAtt": ["MediaBucket", "RegionalDomainName"]}
    behaviour = config["DefaultCacheBehavior"]
    assert behaviour["TrustedKeyGroups"] == [{"Ref": "StreamKeyGroup"}]  # unsigned URLs are refused
    assert behaviour["ViewerProtocolPolicy"] == "https-only"
    assert resources["StreamKeyGroup"]["Properties"]["KeyGroupConfig"]["Items"] == [{"Ref": "StreamPublicKey"}]
    assert resources["StreamSigningKeySecret"]["Properties"]["SecretString"] == {"Ref": "StreamSigningPrivateKey"}
    assert template["Parameters"]["StreamSigningPrivateKey"]["NoEcho"] is True
    access = resources["MediaBucket"]["Properties"]["PublicAccessBlockConfiguration"]
    assert all(access.values())  # the bucket stays private
    statements = resources["MediaBucketTlsOnlyPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    [reads] = [s for s in statements if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}]
    assert reads["Action"] == "s3:GetObject"
    assert "${StreamDistribution}" in reads["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"]
    queue = resources["ThumbnailsQueue"]["Properties"]
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"Fn::GetAtt": ["ThumbnailsDeadLetterQueue", "Arn"]}
    assert queue["VisibilityTimeout"] >= 6 * _functions(template)["MakeVideoThumbnail"]["Properties"]["Timeout"]


def test_scheduler_role_can_only_invoke_the_publish_function(template: dict[str, Any]) -> None:
    role = template["Resources"]["SchedulerInvokeRole"]["Properties"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    statements = _statements(template, "SchedulerInvokeRole")
    assert _actions(statements) == {"lambda:InvokeFunction", "sqs:SendMessage"}
    invoke = next(s for s in statements if s["Action"] == "lambda:InvokeFunction")
    assert {"Fn::GetAtt": ["PublishScheduledVideo", "Arn"]} in invoke["Resource"]


def test_iam_policies_have_no_wildcards_where_an_arn_is_known(template: dict[str, Any]) -> None:
    roles = [name for name, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role"]
    assert len(roles) >= 5
    # API Gateway's logging role carries AWS's managed policy for exactly that, and nothing else.
    logging = template["Resources"]["ApiGatewayLoggingRole"]["Properties"]
    assert [arn["Fn::Sub"].rsplit("/", 1)[-1] for arn in logging["ManagedPolicyArns"]] == [
        "AmazonAPIGatewayPushToCloudWatchLogs"
    ]
    for role in roles:
        for statement in _statements(template, role):
            assert statement["Effect"] == "Allow"
            actions = _as_list(statement["Action"])
            assert all("*" not in action for action in actions), (role, actions)
            for resource in _as_list(statement["Resource"]):
                if resource == "*":
                    assert set(actions) <= RESOURCE_WILDCARD_ALLOWED, (role, actions)
                elif isinstance(resource, str):
                    pytest.fail(f"{role}: literal resource {resource!r} should reference the stack's resources")
                else:
                    rendered = json.dumps(resource)
                    # region, account and service come from the stack, never "*"
                    assert ":*:" not in rendered and "arn:*" not in rendered, (role, rendered)


def common_of(actions: dict[str, set[str]]) -> set[str]:
    """What every function may do (its logs, the database secret, its key, the VPC)."""
    return set.intersection(*actions.values())


def test_each_function_gets_only_the_actions_it_uses(template: dict[str, Any]) -> None:
    functions = _functions(template)
    role_of = {name: f["Properties"]["Role"]["Fn::GetAtt"][0] for name, f in functions.items()}
    actions = {name: _actions(_statements(template, role)) for name, role in role_of.items()}
    assert len(set(role_of.values())) == len(role_of)  # one role per function
    ingest, publish, thumbnails = (
        actions["IngestUploadedVideo"],
        actions["PublishScheduledVideo"],
        actions["MakeVideoThumbnail"],
    )
    assert {"s3:GetObject", "s3:DeleteObject", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:SendMessage"} <= ingest
    assert not any(a.startswith(("scheduler:", "iam:", "sns:")) or a == "s3:PutObject" for a in ingest)
    assert "sns:Publish" in publish and not any(a.startswith(("s3:", "iam:")) for a in publish)
    assert {"s3:GetObject", "s3:PutObject", "sqs:ReceiveMessage", "sqs:DeleteMessage"} <= thumbnails
    assert not any(a.startswith(("scheduler:", "iam:", "sns:")) for a in thumbnails)
    for action in ("s3:PutObject", "s3:DeleteObject"):  # its own frames only (one made for a deleted video goes)
        [grant] = [s for s in _statements(template, role_of["MakeVideoThumbnail"]) if s["Action"] == action]
        assert grant["Resource"] == {"Fn::Sub": "${MediaBucket.Arn}/thumbnails/*"}
    # The ladder: reads originals, writes and removes renditions only, submits jobs as MediaConvert's own role.
    ladder = _statements(template, role_of["MakeVideoLadder"])
    writes = [s for s in ladder if {"s3:PutObject", "s3:DeleteObject"} & set(_as_list(s["Action"]))]
    assert {json.dumps(s["Resource"]) for s in writes} == {json.dumps({"Fn::Sub": "${MediaBucket.Arn}/renditions/*"})}
    [passes] = [s for s in ladder if s["Action"] == "iam:PassRole"]
    assert passes["Resource"] == {"Fn::GetAtt": ["MediaConvertRole", "Arn"]}
    assert passes["Condition"]["StringEquals"]["iam:PassedToService"] == "mediaconvert.amazonaws.com"
    assert "mediaconvert:CreateJob" in actions["MakeVideoLadder"]
    assert not any(a.startswith(("scheduler:", "sns:")) for a in actions["MakeVideoLadder"])
    assert actions["RecordVideoLadder"] - common_of(actions) == {"s3:GetObject", "s3:ListBucket", "s3:DeleteObject",
                                                               "sqs:SendMessage"}  # fmt: skip
    # The API, group by group: the public tracking function can touch nothing but the database.
    common = {
        "logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents", "secretsmanager:GetSecretValue",
        "kms:Decrypt", "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface",
        "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
    }  # fmt: skip
    assert actions["ApiTracking"] == common and actions["ApiAnalytics"] == common
    assert actions["ApiPages"] == common | {"scheduler:GetScheduleGroup"}
    assert actions["ApiUploads"] == common | {"s3:PutObject", "s3:AbortMultipartUpload"}
    assert actions["ApiSchedules"] - common == {
        "scheduler:CreateSchedule", "scheduler:GetSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule",
        "scheduler:GetScheduleGroup", "iam:PassRole",
    }  # fmt: skip
    assert actions["ApiVideos"] - common == {"s3:GetObject", "s3:ListBucket", "s3:DeleteObject", "sqs:SendMessage",
                                             "sqs:GetQueueUrl", "scheduler:DeleteSchedule"}  # fmt: skip
    assert actions["ApiActions"] - common == {"s3:GetObject", "s3:ListBucket", "s3:PutObject",
                                              "s3:AbortMultipartUpload", "s3:DeleteObject", "sqs:SendMessage",
                                              "sqs:GetQueueUrl"}  # fmt: skip
    assert actions["ApiPlayback"] - common == {"s3:GetObject"}  # and the stream signing key (below)
    assert actions["ApiPlayer"] - common == {"s3:GetObject"}  # embed pages sign media URLs, nothing more
    for name in API_FUNCTIONS - {"ApiTracking", "ApiAnalytics", "ApiPages", "ApiUploads", "ApiSchedules"}:
        [key] = [s for s in _statements(template, role_of[name]) if s.get("Sid") == "ReadStreamSigningKey"]
        assert key["Resource"] == {"Ref": "StreamSigningKeySecret"}  # only groups that present videos sign URLs
    queues = [s for s in _statements(template, role_of["ApiVideos"]) if "sqs:SendMessage" in _as_list(s["Action"])]
    assert sorted(q["Resource"]["Fn::GetAtt"][0] for q in queues) == ["LadderQueue", "ThumbnailsQueue"]
    pass_role = next(s for s in _statements(template, role_of["ApiSchedules"]) if s["Action"] == "iam:PassRole")
    assert pass_role["Resource"] == {"Fn::GetAtt": ["SchedulerInvokeRole", "Arn"]}
    assert pass_role["Condition"]["StringEquals"]["iam:PassedToService"] == "scheduler.amazonaws.com"
    uploads = next(s for s in _statements(template, role_of["ApiUploads"]) if "s3:PutObject" in _as_list(s["Action"]))
    assert uploads["Resource"] == {"Fn::Sub": "${MediaBucket.Arn}/videos/*"}
    for name in ("RefreshVideoAnalytics", "AnalyticsRetention", "ReconcileVideoSchedules"):
        assert not any(a.startswith("s3:") for a in actions[name]), name
        assert {s.get("Sid") for s in _statements(template, role_of[name])} >= COMMON_SIDS, name


def test_each_endpoint_group_is_its_own_function_and_every_path_goes_to_its_group(template: dict[str, Any]) -> None:
    from infra.api_functions import GROUPS, group_of_routes

    functions = _functions(template)
    assert "APIHandler" not in functions and set(functions) >= API_FUNCTIONS
    by_function = {group.function: group for group in GROUPS}
    for name in API_FUNCTIONS:
        properties = functions[name]["Properties"]
        group = by_function[name]
        assert (properties["MemorySize"], properties["Timeout"]) == (group.memory, group.timeout)
        assert properties["ReservedConcurrentExecutions"] == group.reserved_concurrency
        permission = template["Resources"][f"{name}InvokePermission"]["Properties"]
        assert permission["FunctionName"] == {"Ref": name} and permission["Principal"] == "apigateway.amazonaws.com"
    assert functions["ApiTracking"]["Properties"]["Handler"] == "chalicelib.entry.tracking.app"
    routes = group_of_routes()
    paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    seen = set()
    for path, operations in paths.items():
        for method, operation in operations.items():
            uri = operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
            expected = routes[path, method.upper()].function
            assert "${" + expected + ".Arn}" in uri, (method, path, uri)
            seen.add(expected)
    assert seen == API_FUNCTIONS
    assert routes["/api/track/heartbeat", "POST"].function == "ApiTracking"
    assert routes["/api/videos/{video_id}/analytics/retention", "GET"].function == "ApiAnalytics"
    assert routes["/api/dashboard", "GET"].function == "ApiPages"
    assert routes["/api/embed/{video_id}", "GET"].function == "ApiPlayer"


def test_reserved_concurrency_fits_the_database_connection_budget(template: dict[str, Any]) -> None:
    from infra.api_functions import CONNECTION_HEADROOM, connections_needed

    reserved = [f["Properties"]["ReservedConcurrentExecutions"] for f in _functions(template).values()]
    assert all(value >= 1 for value in reserved) and len(reserved) == len(_functions(template))
    budget = template["Parameters"]["DatabaseConnectionBudget"]
    assert budget["MinValue"] == sum(reserved) + CONNECTION_HEADROOM == connections_needed()
    assert budget["Default"] >= budget["MinValue"]  # CloudFormation refuses a smaller budget at deploy time


def test_the_template_passes_checkov_with_every_skip_explained(package_dir: Path) -> None:
    assert CHECKOV.exists(), "make test installs Checkov in .venv-checkov"
    result = subprocess.run(
        [str(CHECKOV), "--file", str(package_dir / "sam.json"), "--framework", "cloudformation", "--quiet",
         "--skip-download", "--compact", "--output", "json"],  # --skip-download: no calls to Prisma Cloud
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    report = json.loads(result.stdout)
    report = report[0] if isinstance(report, list) else report
    assert report["summary"]["failed"] == 0, [
        (c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]
    ]
    assert report["summary"]["passed"] > 150
    template = json.loads((package_dir / "sam.json").read_text())
    skips = [
        skip
        for resource in template["Resources"].values()
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    assert skips and all(len(skip["comment"]) > 40 for skip in skips)  # each says why


def test_the_deployment_package_carries_chalices_runtime_but_not_its_cli(package_dir: Path) -> None:
    names = zipfile.ZipFile(package_dir / "deployment.zip").namelist()
    top = {name.split("/")[0] for name in names}
    assert {"chalice", "chalicelib", "app.py", "sqlalchemy", "pg8000", "pydantic"} <= top
    assert "chalice/app.py" in names and "chalice/cli/__init__.py" not in names
    assert not top & {"pip", "setuptools", "wheel", "click", "yaml", "inquirer", "blessed", "wcwidth"}


def test_render_refuses_an_unknown_stage_and_missing_functions() -> None:
    from infra import render_template

    with pytest.raises(SystemExit):
        render_template.render(
            "staging",
            names=["api_handler", "ingest_uploaded_video", "publish_scheduled_video", "make_video_thumbnail"],
        )
    with pytest.raises(SystemExit, match="publish_scheduled_video"):
        render_template.render("prod", names=["api_handler", "ingest_uploaded_video"])


def test_every_path_answers_its_own_cors_preflight_in_the_function(template: dict[str, Any]) -> None:
    """API Gateway's static preflight (a MOCK integration) cannot pick one of several origins."""
    paths = template["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]["paths"]
    assert "/api/track/view" in paths and "/api/videos/{video_id}" in paths
    for path, methods in paths.items():
        assert "options" in methods, path
        for method, operation in methods.items():
            integration = operation["x-amazon-apigateway-integration"]
            assert integration["type"] == "aws_proxy", (path, method)
            headers = [h for r in operation.get("responses", {}).values() for h in r.get("headers", {})]
            assert "Access-Control-Allow-Origin" not in headers, (path, method)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::ApiGateway::GatewayResponse":
            parameters = resource["Properties"].get("ResponseParameters", {})
            assert not [name for name in parameters if "Access-Control" in name]  # an unlisted origin gets none


SCHEDULED_EVENT = {
    "version": "0",
    "id": "4f1b8a3c-0000-4000-8000-000000000000",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "000000000000",
    "time": "2026-11-27T03:15:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:000000000000:rule/media-api-prod-rule"],
    "detail": {},
}
EVENT_FUNCTION_EVENTS: dict[str, dict[str, Any]] = {
    "PublishScheduledVideo": {
        "videoId": 1,
        "action": "publish",
        "scheduledFor": "2030-01-15T08:00:00.000Z",
        "timezone": "UTC",
        "scheduledByUserId": 1,
        "historyId": 999,
    },
    "MakeVideoThumbnail": {
        "Records": [
            {
                "messageId": "m-2",
                "receiptHandle": "r-2",
                "body": '{"videoId": 424242}',
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "0",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:media-api-prod-thumbnails",
                "awsRegion": "us-east-1",
            }
        ]
    },
    "IngestUploadedVideo": {
        "Records": [
            {
                "messageId": "m-1",
                "receiptHandle": "r-1",
                "body": '{"Event": "s3:TestEvent"}',
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "0",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:media-api-prod-ingest",
                "awsRegion": "us-east-1",
            }
        ]
    },
    "MakeVideoLadder": {
        "Records": [
            {
                "messageId": "m-3",
                "receiptHandle": "r-3",
                "body": '{"videoId": 424242}',
                "attributes": {},
                "messageAttributes": {},
                "md5OfBody": "0",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:media-api-prod-ladder",
                "awsRegion": "us-east-1",
            }
        ]
    },
    "RecordVideoLadder": {
        **SCHEDULED_EVENT,
        "detail-type": "MediaConvert Job State Change",
        "source": "aws.mediaconvert",
        "detail": {"status": "ERROR", "jobId": "1-abc", "userMetadata": {"videoId": "424242", "ladderToken": "t"}},
    },
    "SweepVideoMedia": SCHEDULED_EVENT,
    "RefreshVideoAnalytics": SCHEDULED_EVENT,
    "AnalyticsRetention": SCHEDULED_EVENT,
    "ReconcileVideoSchedules": SCHEDULED_EVENT,
}
INVOKE = """
import importlib, json, sys
handler, event = sys.argv[1], json.loads(sys.argv[2])
module_name, name = handler.rsplit(".", 1)
function = getattr(importlib.import_module(module_name), name)
assert "app" not in sys.modules, "the packaged handler must not need app.py"

class Context:
    function_name = "media-api-prod-" + name
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:" + function_name
    aws_request_id = "request-" + name
    log_group_name = "/aws/lambda/" + function_name
    log_stream_name = "stream"

    def get_remaining_time_in_millis(self):
        return 120000

function(event, Context())
"""


def test_event_functions_run_under_their_packaged_handlers_with_log_context_and_metrics(
    template: dict[str, Any], database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``chalice package`` points these handlers at chalicelib.functions.* (aws/chalice#1566), so
    app.py's middleware never runs for them: each must bring its own log context and flush."""
    from scripts.local_aws import ensure_resources, start_moto_server, stop_moto_servers

    handlers = {
        name: f["Properties"]["Handler"] for name, f in _functions(template).items() if name not in API_FUNCTIONS
    }
    assert set(handlers) == set(EVENT_FUNCTION_EVENTS)
    endpoint = start_moto_server()
    try:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
        get_settings.cache_clear()
        aws = ensure_resources()
        env = {
            **os.environ,
            **aws,
            "DATABASE_URL": database_url,
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "POWERTOOLS_METRICS_NAMESPACE": "MediaApi",
        }
        env.pop("POWERTOOLS_METRICS_DISABLED", None)
        for name, handler in sorted(handlers.items()):
            result = subprocess.run(
                [sys.executable, "-c", INVOKE, handler, json.dumps(EVENT_FUNCTION_EVENTS[name])],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert result.returncode == 0, (name, result.stderr[-3000:])
            lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
            finished = [line for line in lines if line.get("message") == "Event function finished"]
            assert finished, (name, result.stdout[-2000:])
            assert finished[-1]["function_request_id"] == "request-" + handler.rsplit(".", 1)[1]
            assert finished[-1]["cold_start"] is True
            if name in {"RefreshVideoAnalytics", "AnalyticsRetention", "PublishScheduledVideo"}:
                assert [line for line in lines if "_aws" in line], (name, "metrics were not flushed")
    finally:
        stop_moto_servers()


def test_the_batch_functions_wait_on_the_database_longer_than_the_api_and_less_than_their_own_timeout(
    template: dict[str, Any],
) -> None:
    """A backlog fold of one day of a 10M library outlasts the API's 10 s read timeout; the refresh
    must not fail on it forever (each run would retry the same day)."""
    functions = _functions(template)
    for name in ("RefreshVideoAnalytics", "AnalyticsRetention"):
        properties = functions[name]["Properties"]
        waits = int(properties["Environment"]["Variables"]["DATABASE_TIMEOUT_SECONDS"])
        assert 10 < waits < properties["Timeout"], name
    assert "DATABASE_TIMEOUT_SECONDS" not in functions["ApiTracking"]["Properties"]["Environment"]["Variables"]
