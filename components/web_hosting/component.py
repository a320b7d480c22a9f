"""Web hosting component: the speaker and listener pages, served over HTTPS by CloudFront.

The bucket is private (all four public-access blocks on, owner-enforced objects, encrypted);
only this stack's CloudFront distribution may read it, through origin access control (SigV4),
so the pages are reachable at the distribution's HTTPS address and nowhere else. Plain HTTP is
redirected to HTTPS. `config.json`, which the pages read at start, is written from the stack's
own outputs (WebSocket URL, region, Cognito ids), so the pages need no per-stack edit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.shared.platform import Platform
from components.web_hosting.site_files import REVALIDATE, SiteFile, site_files

# AWS managed CloudFront policies (fixed ids, the same in every account).
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03"  # HSTS, nosniff, frame-options, XSS, referrer
ORIGIN_ID = "pages"


@dataclass
class WebHostingArgs:
    """The stack facts the pages need: where to connect and how to sign in."""

    platform: Platform
    websocket_url: pulumi.Input[str]
    user_pool_id: pulumi.Input[str]
    user_pool_client_id: pulumi.Input[str]
    files: Optional[list[SiteFile]] = None  # default: everything under web/


def site_config(websocket_url: pulumi.Input[str], region: str, stack: str,
                user_pool_id: pulumi.Input[str], client_id: pulumi.Input[str]) -> pulumi.Output[str]:
    """The pages' config.json for a deployed stack (the local server writes its own)."""
    return pulumi.Output.json_dumps({
        "websocketUrl": websocket_url,
        "region": region,
        "stack": stack,
        "auth": {"kind": "cognito", "userPoolId": user_pool_id, "clientId": client_id},
    })


def _logical(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", key).strip("-")


class WebHosting(pulumi.ComponentResource):
    """Private bucket + CloudFront (OAC, HTTPS only) holding the pages; `url` is where they are."""

    def __init__(self, name: str, args: WebHostingArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("speech-translation:web:WebHosting", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        platform = args.platform
        config = platform.config

        # Bucket names are global: a prefix with project and stack, AWS adds a unique suffix.
        self.bucket = aws.s3.Bucket(f"{name}-bucket", bucket_prefix=f"{platform.physical_name('web')}-",
                                    force_destroy=True, opts=child)
        self.public_access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block", bucket=self.bucket.id,
            block_public_acls=True, block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True,
            opts=child)
        self.ownership = aws.s3.BucketOwnershipControls(
            f"{name}-ownership", bucket=self.bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}, opts=child)
        self.encryption = aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption", bucket=self.bucket.id,
            rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}], opts=child)

        self.origin_access_control = aws.cloudfront.OriginAccessControl(
            f"{name}-oac", name=platform.physical_name("web"), description="CloudFront reads the pages bucket",
            origin_access_control_origin_type="s3", signing_behavior="always", signing_protocol="sigv4", opts=child)

        self.distribution = aws.cloudfront.Distribution(
            f"{name}-distribution",
            enabled=True,
            comment=platform.physical_name("web"),
            default_root_object="index.html",
            price_class=config.web.priceClass,
            http_version="http2and3",
            is_ipv6_enabled=True,
            origins=[{
                "domain_name": self.bucket.bucket_regional_domain_name,
                "origin_id": ORIGIN_ID,
                "origin_access_control_id": self.origin_access_control.id,
            }],
            default_cache_behavior={
                "target_origin_id": ORIGIN_ID,
                "viewer_protocol_policy": "redirect-to-https",
                "allowed_methods": ["GET", "HEAD", "OPTIONS"],
                "cached_methods": ["GET", "HEAD"],
                "compress": True,
                "cache_policy_id": CACHING_OPTIMIZED,
                "response_headers_policy_id": SECURITY_HEADERS,
            },
            # The stack's config must reach the pages as soon as a deploy changes it.
            ordered_cache_behaviors=[{
                "path_pattern": "/config.json",
                "target_origin_id": ORIGIN_ID,
                "viewer_protocol_policy": "redirect-to-https",
                "allowed_methods": ["GET", "HEAD"],
                "cached_methods": ["GET", "HEAD"],
                "compress": True,
                "cache_policy_id": CACHING_DISABLED,
                "response_headers_policy_id": SECURITY_HEADERS,
            }],
            restrictions={"geo_restriction": {"restriction_type": "none"}},
            viewer_certificate={"cloudfront_default_certificate": True},
            opts=child,
        )

        self.bucket_policy = aws.s3.BucketPolicy(
            f"{name}-bucket-policy", bucket=self.bucket.id,
            policy=pulumi.Output.json_dumps({
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "CloudFrontReadsThroughOac",
                        "Effect": "Allow",
                        "Principal": {"Service": platform.service_principal("cloudfront")},
                        "Action": "s3:GetObject",
                        "Resource": pulumi.Output.concat(self.bucket.arn, "/*"),
                        "Condition": {"StringEquals": {"AWS:SourceArn": self.distribution.arn}},
                    },
                    {
                        "Sid": "DenyWithoutTls",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [self.bucket.arn, pulumi.Output.concat(self.bucket.arn, "/*")],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    },
                ],
            }),
            # A policy naming a principal is refused while the block is being applied.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.public_access_block]),
        )

        files = args.files if args.files is not None else site_files()
        self.objects = [
            aws.s3.BucketObjectv2(
                f"{name}-file-{_logical(f.key)}", bucket=self.bucket.id, key=f.key,
                source=pulumi.FileAsset(str(f.path)), content_type=f.content_type, cache_control=f.cache_control,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.ownership]))
            for f in files
        ]
        self.config_object = aws.s3.BucketObjectv2(
            f"{name}-config", bucket=self.bucket.id, key="config.json",
            content=site_config(args.websocket_url, platform.region, config.stack,
                                args.user_pool_id, args.user_pool_client_id),
            content_type="application/json", cache_control=REVALIDATE,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.ownership]))

        self.url = pulumi.Output.concat("https://", self.distribution.domain_name, "/")
        self.register_outputs({"url": self.url, "bucket": self.bucket.id, "distribution_id": self.distribution.id})
