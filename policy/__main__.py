"""Policy pack: `pulumi preview --policy-pack policy` fails on any resource that breaks a deploy-time rule."""

from pulumi_policy import PolicyPack
from rules import POLICIES

PolicyPack(name="speech-translation-deploy-safety", policies=POLICIES)
