"""Run the real `__main__.py` under Pulumi mocks for one stack and collect what it registers.

    deployment = run_stack("prod")
    deployment.of_type("aws:lambda/function:Function")

The stack's config is what the Pulumi CLI would give the program: the project defaults in
`Pulumi.yaml` overlaid with `Pulumi.<stack>.yaml`, plus any overrides a test passes (the same
thing `pulumi config set` does). Inputs are recorded as the engine sees them (camelCase names,
numbers as floats).
"""

from __future__ import annotations

import json
import runpy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import pulumi
import yaml
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

PROJECT_ROOT = Path(__file__).resolve().parents[1]
MAIN = PROJECT_ROOT / "__main__.py"
PROJECT = yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text())["name"]
STACKS = ("dev", "staging", "prod")
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"


def _as_config_string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def stack_config(stack: str, overrides: Optional[Mapping[str, Any]] = None) -> dict[str, str]:
    """The config the CLI would hand the program: Pulumi.yaml defaults, then the stack file, then overrides."""
    project_file = yaml.safe_load((PROJECT_ROOT / "Pulumi.yaml").read_text())
    merged: dict[str, str] = {}
    for key, declared in (project_file.get("config") or {}).items():
        value = declared.get("value", declared.get("default")) if isinstance(declared, dict) else declared
        if value is not None:
            merged[key if ":" in key else f"{PROJECT}:{key}"] = _as_config_string(value)
    stack_file = yaml.safe_load((PROJECT_ROOT / f"Pulumi.{stack}.yaml").read_text()) or {}
    for key, value in (stack_file.get("config") or {}).items():
        merged[key if ":" in key else f"{PROJECT}:{key}"] = _as_config_string(value)
    for key, value in (overrides or {}).items():
        merged[key] = _as_config_string(value)
    return merged


@dataclass
class RegisteredResource:
    """One resource the program registered."""

    type: str
    name: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    urn: str = ""

    @property
    def physical_name(self) -> Optional[str]:
        """The name AWS will see, for resources that take one."""
        for key in ("name", "functionName", "layerName", "dashboardName", "alarmName", "tableName", "userPoolName"):
            if isinstance(self.inputs.get(key), str):
                return self.inputs[key]
        return None


@dataclass
class Deployment:
    """Everything one mocked run registered."""

    stack: str
    resources: list[RegisteredResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[RegisteredResource]:
        """Resources of one Pulumi type token, e.g. 'aws:lambda/function:Function'."""
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str) -> RegisteredResource:
        """The resource with this logical name."""
        matches = [r for r in self.resources if r.name == name]
        assert len(matches) == 1, f"{len(matches)} resources named {name!r}"
        return matches[0]

    def find(self, predicate: Callable[[RegisteredResource], bool]) -> list[RegisteredResource]:
        """Resources matching a predicate."""
        return [r for r in self.resources if predicate(r)]

    def function(self, name_suffix: str) -> RegisteredResource:
        """The one Lambda function whose physical name ends with `name_suffix`."""
        matches = self.find(lambda r: r.type == "aws:lambda/function:Function" and r.inputs["name"].endswith(name_suffix))
        assert len(matches) == 1, f"{len(matches)} functions end with {name_suffix!r}"
        return matches[0]

    def policy_statements(self, function: RegisteredResource) -> list[dict[str, Any]]:
        """The IAM statements of a function's inline role policy."""
        [policy] = self.find(lambda r: r.type == "aws:iam/rolePolicy:RolePolicy"
                             and r.inputs["name"] == f"{function.inputs['name']}-inline")
        return json.loads(policy.inputs["policy"])["Statement"]


_ARN_SERVICE = {
    "lambda": "lambda", "iam": "iam", "sns": "sns", "sqs": "sqs", "dynamodb": "dynamodb", "cloudwatch": "cloudwatch",
    "apigatewayv2": "execute-api", "ssm": "ssm", "cognito": "cognito-idp", "s3": "s3",
}


class RecordingMocks(pulumi.runtime.Mocks):
    """Mocks that record every resource and answer with plausible AWS outputs.

    `call_answers` maps an invoke token to a function of its arguments, for invokes a test wants
    answered (or failed, by raising) its own way.
    """

    call_answers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}

    def __init__(self, stack: str) -> None:
        self.stack = stack
        self.resources: list[RegisteredResource] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        module = args.typ.split(":")[1].split("/")[0] if args.typ.count(":") == 2 else ""
        physical = next((args.inputs[k] for k in ("name", "functionName", "layerName", "tableName")
                         if isinstance(args.inputs.get(k), str)), f"{args.name}-{self.stack}")
        arn = f"arn:aws:{_ARN_SERVICE.get(module, module)}:{REGION}:{ACCOUNT_ID}:{physical}"
        outputs = {**args.inputs, "arn": arn, "name": args.inputs.get("name", physical)}
        if args.typ == "aws:lambda/function:Function":
            arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{physical}"
            outputs.update(arn=arn, invokeArn=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}/invocations",
                           version="1" if args.inputs.get("publish") else "$LATEST")
        elif args.typ == "aws:lambda/alias:Alias":
            function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{args.inputs['functionName']}"
            arn = f"{function_arn}:{args.inputs['name']}"
            outputs.update(arn=arn, invokeArn=f"arn:aws:apigateway:{REGION}:lambda:path/2015-03-31/functions/{arn}/invocations")
        elif args.typ == "aws:lambda/layerVersion:LayerVersion":
            outputs["arn"] = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:layer:{physical}:1"
        elif args.typ == "aws:sqs/queue:Queue":
            outputs["url"] = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/{physical}"
        elif args.typ == "aws:apigatewayv2/api:Api":
            outputs.update(apiEndpoint=f"wss://{args.name}.execute-api.{REGION}.amazonaws.com",
                           executionArn=f"arn:aws:execute-api:{REGION}:{ACCOUNT_ID}:{args.name}")
        elif args.typ == "aws:dynamodb/table:Table":
            outputs["streamArn"] = f"{arn}/stream/1"
        elif args.typ == "aws:s3/bucket:Bucket":
            # A bucket's id is its name; a prefix gets a suffix, as AWS would give it.
            bucket = args.inputs.get("bucket") or f"{args.inputs.get('bucketPrefix', args.name)}0001"
            outputs.update(bucket=bucket, arn=f"arn:aws:s3:::{bucket}", bucketRegionalDomainName=f"{bucket}.s3.{REGION}.amazonaws.com")
            self.resources.append(RegisteredResource(args.typ, args.name, dict(args.inputs), outputs))
            return bucket, outputs
        elif args.typ == "aws:cloudfront/distribution:Distribution":
            outputs.update(arn=f"arn:aws:cloudfront::{ACCOUNT_ID}:distribution/E{args.name.upper()}",
                           domainName=f"d{len(args.name)}abcdef.cloudfront.net")
        self.resources.append(RegisteredResource(args.typ, args.name, dict(args.inputs), outputs))
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs):
        if args.token in self.call_answers:
            return self.call_answers[args.token](dict(args.args))
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {"accountId": ACCOUNT_ID, "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/test", "userId": "test", "id": ACCOUNT_ID}
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": REGION, "region": REGION, "id": REGION}
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": "aws", "dnsSuffix": "amazonaws.com", "id": "aws"}
        if args.token == "aws:index/getServicePrincipal:getServicePrincipal":
            service = args.args["serviceName"]
            return {"name": f"{service}.amazonaws.com", "serviceName": service, "suffix": "amazonaws.com",
                    "region": args.args.get("region", REGION), "id": service}
        if args.token == "aws:iam/getRoles:getRoles":
            # A role asked for by exact name (`^name$`) exists, under the asked path (an account where API
            # Gateway's logging role is already set up).
            name, path = args.args.get("nameRegex", "").strip("^$"), args.args.get("pathPrefix", "/")
            return {"arns": [f"arn:aws:iam::{ACCOUNT_ID}:role{path}{name}"], "names": [name], "id": name}
        return {}


def run_stack(stack: str, overrides: Optional[Mapping[str, Any]] = None, main: Path = MAIN) -> Deployment:
    """Run the Pulumi program for `stack` under mocks and return what it registered.

    Errors the program raises (a `pulumi.RunError` from the config loader, say) propagate.
    """
    # Pulumi's runtime needs a current event loop; an earlier asyncio.run() in the same process
    # (the stream worker's tests) leaves none behind.
    _ensure_event_loop()
    runtime_settings.reset_options(project=PROJECT, stack=stack, preview=False)
    pulumi.runtime.set_all_config(stack_config(stack, overrides))
    mocks = RecordingMocks(stack)
    # set_mocks must come before the program runs; preview=False so outputs are known.
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False)
    deployment = Deployment(stack=stack, resources=mocks.resources)

    def program() -> None:
        runpy.run_path(str(main), run_name="__main__")
        root = runtime_settings.get_root_resource()
        outputs = getattr(root, "outputs", {}) or {}
        for key, value in outputs.items():
            deployment.outputs[key] = _sync_await(pulumi.Output.from_input(value).future())

    _sync_await(run_pulumi_func(program))
    return deployment
