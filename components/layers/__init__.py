"""Lambda layers built by scripts/build_artifacts.py for Lambda's platform."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi
import pulumi_aws as aws

from components.config import StackConfig
from components.shared import artifacts

LAYER_DESCRIPTIONS = {
    "common": "aws-lambda-powertools, aws-xray-sdk, PyJWT (every function)",
    "transcribe": "amazon-transcribe and awscrt (stream worker)",
    "audio": "numpy and soundfile (emotion dynamics, audio quality)",
}


@dataclass
class LambdaLayersArgs:
    """Stack config; the layer zips come from the build."""

    config: StackConfig


class LambdaLayers(pulumi.ComponentResource):
    """One LayerVersion per entry of `artifacts.LAYERS`; `arns` maps layer name to ARN."""

    def __init__(self, name: str, args: LambdaLayersArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__("speech-translation:layers:LambdaLayers", name, None, opts)
        self.arns: dict[str, pulumi.Output[str]] = {}
        for layer in artifacts.LAYERS:
            layer_zip = artifacts.require_artifact(artifacts.layer_zip_path(layer))
            version = aws.lambda_.LayerVersion(
                f"{name}-{layer}",
                layer_name=f"{args.config.name_prefix}-{layer}",
                description=LAYER_DESCRIPTIONS[layer],
                code=pulumi.FileArchive(str(layer_zip)),
                source_code_hash=artifacts.source_code_hash(layer_zip),
                compatible_runtimes=[artifacts.LAMBDA_RUNTIME],
                compatible_architectures=[artifacts.LAMBDA_ARCHITECTURE],
                opts=pulumi.ResourceOptions(parent=self),
            )
            self.arns[layer] = version.arn
        self.register_outputs({"arns": self.arns})
