"""Web hosting: private bucket, CloudFront with origin access control, HTTPS only, the stack's config injected."""

from __future__ import annotations

import json

import pytest

from components.config import ConfigError
from components.web_hosting import site_files
from components.web_hosting.component import CACHING_DISABLED
from tests.harness import run_stack
from tests.infra.policy_check import violations_of

BUCKET = "aws:s3/bucket:Bucket"
OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2"
DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
OAC = "aws:cloudfront/originAccessControl:OriginAccessControl"


@pytest.fixture(scope="module")
def prod(deployments):
    return deployments["prod"]


@pytest.fixture(scope="module")
def without_web(built_artifacts):
    return run_stack("dev", {"web:enabled": False})


def one(deployment, type_):
    [resource] = deployment.of_type(type_)
    return resource


def test_bucket_blocks_every_kind_of_public_access(prod):
    bucket = one(prod, BUCKET)
    block = one(prod, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert block.inputs["bucket"] == bucket.outputs["bucket"]
    assert all(block.inputs[k] is True for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"))
    assert one(prod, "aws:s3/bucketOwnershipControls:BucketOwnershipControls").inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    # No ACLs, no website hosting: S3 itself never serves the pages.
    assert not prod.of_type("aws:s3/bucketAcl:BucketAcl") and not prod.of_type("aws:s3/bucketAclV2:BucketAclV2")
    assert not prod.of_type("aws:s3/bucketWebsiteConfiguration:BucketWebsiteConfiguration")
    assert "acl" not in bucket.inputs and "website" not in bucket.inputs
    assert bucket.inputs["bucketPrefix"].startswith("speech-translation-prod-web")


def test_bucket_policy_lets_only_this_distribution_read(prod):
    distribution = one(prod, DISTRIBUTION)
    bucket = one(prod, BUCKET)
    policy = json.loads(one(prod, "aws:s3/bucketPolicy:BucketPolicy").inputs["policy"])
    allows = [s for s in policy["Statement"] if s["Effect"] == "Allow"]
    assert allows == [{
        "Sid": "CloudFrontReadsThroughOac", "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject",
        "Resource": f"{bucket.outputs['arn']}/*",
        "Condition": {"StringEquals": {"AWS:SourceArn": distribution.outputs["arn"]}},
    }]
    [deny] = [s for s in policy["Statement"] if s["Effect"] == "Deny"]
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_distribution_reads_the_bucket_through_origin_access_control(prod):
    oac = one(prod, OAC)
    assert (oac.inputs["originAccessControlOriginType"], oac.inputs["signingBehavior"], oac.inputs["signingProtocol"]) == ("s3", "always", "sigv4")
    [origin] = one(prod, DISTRIBUTION).inputs["origins"]
    assert origin["originAccessControlId"] == "web-oac-id"
    assert origin["domainName"] == one(prod, BUCKET).outputs["bucketRegionalDomainName"]
    assert "customOriginConfig" not in origin and "s3OriginConfig" not in origin  # no website endpoint, no legacy OAI
    assert not prod.of_type("aws:cloudfront/originAccessIdentity:OriginAccessIdentity")


def test_distribution_serves_https_only(prod):
    distribution = one(prod, DISTRIBUTION).inputs
    behaviors = [distribution["defaultCacheBehavior"], *distribution.get("orderedCacheBehaviors", [])]
    assert {b["viewerProtocolPolicy"] for b in behaviors} == {"redirect-to-https"}
    assert distribution["defaultRootObject"] == "index.html"
    assert distribution["enabled"] is True
    assert distribution["priceClass"] == "PriceClass_All"  # prod's own setting
    config_behavior = next(b for b in behaviors if b.get("pathPattern") == "/config.json")
    assert config_behavior["cachePolicyId"] == CACHING_DISABLED


def test_config_json_carries_the_stacks_websocket_url_region_and_cognito_ids(prod):
    config_object = next(r for r in prod.of_type(OBJECT) if r.inputs["key"] == "config.json")
    assert config_object.inputs["contentType"] == "application/json"
    config = json.loads(config_object.inputs["content"])
    assert config == {
        "websocketUrl": prod.outputs["websocket_url"],
        "region": "us-east-1",
        "stack": "prod",
        "auth": {"kind": "cognito", "userPoolId": prod.outputs["user_pool_id"], "clientId": prod.outputs["user_pool_client_id"]},
    }
    assert config["websocketUrl"].startswith("wss://")


def test_every_page_file_is_uploaded_with_its_content_type(prod):
    uploaded = {r.inputs["key"]: r.inputs for r in prod.of_type(OBJECT)}
    expected = {f.key: f for f in site_files()}
    assert set(uploaded) == set(expected) | {"config.json"}
    for key in ("index.html", "speaker.html", "listener.html", "js/speaker.js", "js/pcm-worklet.js", "js/listener.js"):
        assert key in uploaded
    assert uploaded["speaker.html"]["contentType"].startswith("text/html")
    # Browsers refuse ES modules and worklets served as anything but JavaScript.
    assert all(uploaded[k]["contentType"].startswith("text/javascript") for k in uploaded if k.endswith((".js", ".mjs")))
    bucket = one(prod, BUCKET).outputs["bucket"]
    assert {inputs["bucket"] for inputs in uploaded.values()} == {bucket}


def test_web_url_is_the_distributions_https_address(prod):
    assert prod.outputs["web_url"] == f"https://{one(prod, DISTRIBUTION).outputs['domainName']}/"


def test_switch_leaves_the_pages_out(without_web):
    assert "web_url" not in without_web.outputs
    assert not [r for r in without_web.resources if r.type.startswith(("aws:s3/", "aws:cloudfront/"))]
    assert without_web.outputs["websocket_url"]  # the rest of the stack is unchanged


def test_switch_must_be_a_boolean(built_artifacts):
    with pytest.raises(ConfigError, match="web:enabled"):
        run_stack("dev", {"web:enabled": "sometimes"})


def test_policy_pack_accepts_the_web_resources(prod):
    web = [r for r in prod.resources if r.type.startswith(("aws:s3/", "aws:cloudfront/"))]
    assert web and violations_of(web) == []


def test_site_files_refuse_a_type_they_cannot_serve(tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html>")
    (tmp_path / "notes.docx").write_bytes(b"x")
    with pytest.raises(ValueError, match="notes.docx"):
        site_files(tmp_path)


def test_site_files_skip_hidden_files_and_a_local_config(tmp_path):
    (tmp_path / "index.html").write_text("<!doctype html>")
    (tmp_path / ".DS_Store").write_bytes(b"x")
    (tmp_path / "config.json").write_text("{}")
    assert [f.key for f in site_files(tmp_path)] == ["index.html"]
