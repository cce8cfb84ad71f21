"""The customer portal: static files in a private bucket, served only through CloudFront.

CloudFront reads the bucket with an origin access control (the bucket stays private and
refuses plain HTTP), viewers reach it over HTTPS only, and every answer carries the security
headers of ``spec.PORTAL_SECURITY_HEADERS`` and the portal's Content-Security-Policy. The files
are copied by a ``BucketDeployment`` (a Lambda function of the CDK, no Docker), together with
the ``config.json`` that names the archive API.
"""

from __future__ import annotations

from aws_cdk import Aws, Duration, Stack
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3_deployment
from constructs import Construct, IConstruct

from infra import spec
from infra.constructs.buckets import private_bucket
from infra.constructs.nag import acknowledge, logical_id

HSTS_SECONDS = 63_072_000
CLOUDFRONT_LOG_EXPIRY = Duration.days(400)
# The archive API's default endpoint; naming the API itself here would make a cycle (the API's
# CORS names this distribution).
API_ORIGINS = f"https://*.execute-api.{Aws.REGION}.amazonaws.com"


class Portal(Construct):
    """Build it before the archive API (whose CORS names ``origin``), then ``deploy_files``."""

    def __init__(self, scope: Construct, construct_id: str, *, access_logs: s3.IBucket) -> None:
        super().__init__(scope, construct_id)
        self.bucket = private_bucket(self, "Files", access_logs=access_logs)
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="the customer portal",
            default_root_object=spec.PORTAL.index_file,
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_GET_HEAD,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=self._security_headers(),
            ),
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            price_class=cloudfront.PriceClass.PRICE_CLASS_100,
            enable_logging=True,
            log_bucket=self._log_bucket(access_logs),
            log_file_prefix="portal/",
        )
        self._acknowledge_distribution()

    @property
    def origin(self) -> str:
        return "https://" + self.distribution.distribution_domain_name

    @property
    def url(self) -> str:
        return self.origin + "/"

    def deploy_files(self, *, api_url: str) -> s3_deployment.BucketDeployment:
        """Copy the portal's files and its config.json naming ``api_url``; a new deployment
        replaces every file (prune) and invalidates CloudFront's copies."""
        deployment = s3_deployment.BucketDeployment(
            self,
            "Deployment",
            sources=[
                s3_deployment.Source.asset(
                    str(spec.PORTAL.source_dir), exclude=[spec.PORTAL.config_file]
                ),
                s3_deployment.Source.json_data(
                    spec.PORTAL.config_file, spec.PORTAL.config(api_url)
                ),
            ],
            destination_bucket=self.bucket,
            distribution=self.distribution,
            distribution_paths=["/*"],
            prune=True,
            memory_limit=256,
        )
        self._acknowledge_deployment(deployment)
        return deployment

    def _security_headers(self) -> cloudfront.ResponseHeadersPolicy:
        """spec.PORTAL_SECURITY_HEADERS (a test compares the two) and the CSP."""
        return cloudfront.ResponseHeadersPolicy(
            self,
            "SecurityHeaders",
            comment="security headers and the content security policy of the customer portal",
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=spec.portal_content_security_policy(API_ORIGINS),
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY,
                    override=True,
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER,
                    override=True,
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.seconds(HSTS_SECONDS),
                    include_subdomains=True,
                    override=True,
                ),
            ),
        )

    def _log_bucket(self, access_logs: s3.IBucket) -> s3.Bucket:
        """CloudFront's standard logs need a bucket with ACLs (object writer ownership)."""
        bucket = s3.Bucket(
            self,
            "CloudFrontLogs",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            object_ownership=s3.ObjectOwnership.OBJECT_WRITER,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="cloudfront-logs/",
            lifecycle_rules=[
                s3.LifecycleRule(id="expire-cloudfront-logs", expiration=CLOUDFRONT_LOG_EXPIRY)
            ],
        )
        return bucket

    def _acknowledge_distribution(self) -> None:
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR1",
            "customers read their invoices from wherever they are; the files hold no data",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR2",
            "the distribution serves only the page's static files; customer data lies behind "
            "the archive API's JWT authorizer and throttling",
        )
        acknowledge(
            self.distribution,
            "AwsSolutions-CFR4",
            "the default cloudfront.net certificate admits older TLS; a custom domain with its "
            "certificate and TLSv1.2_2021 is the operator's choice of name",
        )

    def _acknowledge_deployment(self, deployment: s3_deployment.BucketDeployment) -> None:
        provider = _deployment_provider(self)
        reasons = {
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
            "AWSLambdaBasicExecutionRole]": "the CDK's BucketDeployment provider writes its "
            "own logs with the basic execution role",
            "AwsSolutions-L1": "the CDK chooses the runtime of its BucketDeployment provider",
        }
        for rule, reason in reasons.items():
            acknowledge(provider, rule, reason)
        wildcards = {
            "Action::s3:GetBucket*": "reads the source assets",
            "Action::s3:GetObject*": "reads the source assets",
            "Action::s3:List*": "lists source and destination to copy and prune",
            "Action::s3:Abort*": "aborts its own multipart uploads",
            "Action::s3:DeleteObject*": "prunes files the new deployment no longer has",
            f"Resource::<{logical_id(self.bucket)}.Arn>/*": "writes every file of the portal",
            "Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-"
            "<AWS::Region>/*": "reads the zipped files from the CDK's asset bucket",
            "Resource::*": "CloudFront invalidations take no resource-level permission",
        }
        for finding, what in wildcards.items():
            acknowledge(
                deployment.handler_role,
                f"AwsSolutions-IAM5[{finding}]",
                "the CDK's BucketDeployment provider " + what,
            )


def _deployment_provider(scope: Construct) -> IConstruct:
    """The one Lambda function the CDK shares between all BucketDeployments of a stack."""
    stack = Stack.of(scope)
    for child in stack.node.children:
        if child.node.id.startswith("Custom::CDKBucketDeployment"):
            return child
    raise LookupError("no BucketDeployment provider function in the stack")
