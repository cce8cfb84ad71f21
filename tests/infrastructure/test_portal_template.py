"""The customer portal on AWS: a private bucket behind CloudFront, and CORS on the archive API."""

from __future__ import annotations

from typing import Any

import pytest

from infra import spec
from infra.constructs.portal import HSTS_SECONDS
from tests.infrastructure.conftest import CDK_DEPLOYMENT_PROVIDER, Synthesized
from tests.infrastructure.test_template import actions_of

pytestmark = pytest.mark.xdist_group("cdk")


def one(synthesized: Synthesized, resource_type: str, prefix: str = "Portal") -> tuple[str, Any]:
    (found,) = [
        (logical_id, resource["Properties"])
        for logical_id, resource in synthesized.resources(resource_type).items()
        if logical_id.startswith(prefix)
    ]
    return found


def portal_bucket(synthesized: Synthesized) -> str:
    return synthesized.stack.get_logical_id(
        synthesized.stack.portal.bucket.node.default_child  # type: ignore[arg-type]
    )


def distribution(synthesized: Synthesized) -> tuple[str, dict[str, Any]]:
    logical_id, properties = one(synthesized, "AWS::CloudFront::Distribution")
    return logical_id, properties["DistributionConfig"]


def test_the_bucket_is_private_and_only_cloudfront_of_this_distribution_reads_it(
    synthesized: Synthesized,
) -> None:
    bucket = portal_bucket(synthesized)
    distribution_id, _ = distribution(synthesized)
    properties = synthesized.template["Resources"][bucket]["Properties"]
    policies = [
        policy
        for policy in synthesized.resources("AWS::S3::BucketPolicy").values()
        if policy["Properties"]["Bucket"] == {"Ref": bucket}
    ]

    assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
    (policy,) = policies
    allowed = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
    ]
    assert [statement["Principal"] for statement in allowed] == [
        {"Service": "cloudfront.amazonaws.com"}
    ]
    (statement,) = allowed
    assert actions_of(statement) == ["s3:GetObject"]
    source = statement["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Join"][1]
    assert {"Ref": distribution_id} in source
    denied = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"
    ]
    assert {"Bool": {"aws:SecureTransport": "false"}} in [s["Condition"] for s in denied]


def test_viewers_reach_it_over_https_only_through_an_origin_access_control(
    synthesized: Synthesized,
) -> None:
    _, config = distribution(synthesized)
    _, control = one(synthesized, "AWS::CloudFront::OriginAccessControl")

    behavior = config["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "https-only"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert config["DefaultRootObject"] == spec.PORTAL.index_file
    (origin,) = config["Origins"]
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}
    assert "OriginAccessControlId" in origin
    assert control["OriginAccessControlConfig"]["SigningBehavior"] == "always"
    assert control["OriginAccessControlConfig"]["SigningProtocol"] == "sigv4"
    assert config["Logging"]["Prefix"] == "portal/"


def test_every_answer_carries_the_security_headers_and_the_csp(synthesized: Synthesized) -> None:
    policy_id, policy = one(synthesized, "AWS::CloudFront::ResponseHeadersPolicy")
    _, config = distribution(synthesized)
    headers = policy["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    expected = spec.PORTAL_SECURITY_HEADERS

    assert config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == {"Ref": policy_id}
    assert headers["FrameOptions"] == {"FrameOption": expected["x-frame-options"], "Override": True}
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == expected["referrer-policy"]
    assert headers["ContentTypeOptions"] == {"Override": True}
    hsts = headers["StrictTransportSecurity"]
    assert (
        f"max-age={hsts['AccessControlMaxAgeSec']}; includeSubDomains"
        == (expected["strict-transport-security"])
    )
    assert hsts["AccessControlMaxAgeSec"] == HSTS_SECONDS
    csp_parts = headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]["Fn::Join"][1]
    csp = "".join(part if isinstance(part, str) else "REGION" for part in csp_parts)
    assert csp == spec.portal_content_security_policy("https://*.execute-api.REGION.amazonaws.com")


def test_the_files_and_the_config_naming_the_api_are_deployed_by_bucket_deployment(
    synthesized: Synthesized,
) -> None:
    _, deployment = one(synthesized, "Custom::CDKBucketDeployment")
    distribution_id, _ = distribution(synthesized)
    api_id = synthesized.stack.get_logical_id(
        synthesized.stack.archive_api.api.node.default_child  # type: ignore[arg-type]
    )

    assert deployment["DestinationBucketName"] == {"Ref": portal_bucket(synthesized)}
    assert deployment["Prune"] is True
    assert deployment["DistributionId"] == {"Ref": distribution_id}
    assert deployment["DistributionPaths"] == ["/*"]
    assert len(deployment["SourceObjectKeys"]) == 2
    markers = [marker for marker in deployment["SourceMarkers"] if marker]
    (config_marker,) = markers
    (api_url,) = config_marker.values()
    assert {"Ref": api_id} in api_url["Fn::Join"][1]


def test_the_deployment_provider_is_the_one_function_beside_spec_and_writes_only_the_portal(
    synthesized: Synthesized,
) -> None:
    functions = synthesized.resources("AWS::Lambda::Function")
    providers = [key for key in functions if key.startswith(CDK_DEPLOYMENT_PROVIDER)]
    (policy,) = [
        policy["Properties"]["PolicyDocument"]["Statement"]
        for logical_id, policy in synthesized.resources("AWS::IAM::Policy").items()
        if logical_id.startswith(CDK_DEPLOYMENT_PROVIDER)
    ]

    assert len(providers) == 1
    assert len(functions) == len(spec.FUNCTIONS) + 1
    written = [
        statement["Resource"]
        for statement in policy
        if any(action.startswith(("s3:Put", "s3:Delete")) for action in actions_of(statement))
    ]
    bucket = portal_bucket(synthesized)
    assert written
    for resources in written:
        assert {"Fn::GetAtt": [bucket, "Arn"]} in resources
    wildcard_actions = {a for s in policy for a in actions_of(s) if a.endswith("*")}
    assert all(action.startswith("s3:") for action in wildcard_actions)


def test_the_archive_api_answers_cors_for_the_portals_origin(synthesized: Synthesized) -> None:
    distribution_id, _ = distribution(synthesized)
    (cors,) = [
        api["Properties"]["CorsConfiguration"]
        for api in synthesized.resources("AWS::ApiGatewayV2::Api").values()
        if "CorsConfiguration" in api["Properties"]
    ]

    assert cors["AllowOrigins"] == [
        {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}]]}
    ]
    assert cors["AllowMethods"] == list(spec.PORTAL.cors_allow_methods)
    assert cors["AllowHeaders"] == list(spec.PORTAL.cors_allow_headers)
    assert cors["ExposeHeaders"] == list(spec.PORTAL.cors_expose_headers)
    assert cors["MaxAge"] == spec.PORTAL.cors_max_age_seconds
    assert cors["AllowCredentials"] is False


def test_the_portal_url_is_an_output(synthesized: Synthesized) -> None:
    distribution_id, _ = distribution(synthesized)
    output = synthesized.template["Outputs"]["PortalUrl"]["Value"]["Fn::Join"][1]

    assert output == ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}, "/"]
