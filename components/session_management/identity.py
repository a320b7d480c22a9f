"""Cognito user pool and app client for speakers, unless the stack names existing ones."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from components.shared.platform import Platform


class SpeakerIdentity:
    """`user_pool_id` and `client_id`: created here, or taken from `session:cognitoUserPoolId`/`cognitoClientId`."""

    def __init__(self, name: str, platform: Platform, parent: pulumi.Resource) -> None:
        session = platform.config.session
        if session.cognitoUserPoolId:
            self.user_pool_id: pulumi.Input[str] = session.cognitoUserPoolId
            self.client_id: pulumi.Input[str] = session.cognitoClientId
            self.issuer = self._issuer(platform, self.user_pool_id)
            return
        child = pulumi.ResourceOptions(parent=parent)
        pool = aws.cognito.UserPool(
            f"{name}-user-pool",
            name=platform.physical_name("speakers"),
            username_attributes=["email"],
            auto_verified_attributes=["email"],
            password_policy={"minimum_length": 12, "require_lowercase": True, "require_uppercase": True,
                             "require_numbers": True, "require_symbols": False},
            admin_create_user_config={"allow_admin_create_user_only": True},
            opts=child,
        )
        client = aws.cognito.UserPoolClient(
            f"{name}-client",
            name=platform.physical_name("speaker-app"),
            user_pool_id=pool.id,
            generate_secret=False,  # browser and mobile clients cannot keep a secret
            # USER_PASSWORD_AUTH: the web pages and the smoke test sign in with InitiateAuth over
            # HTTPS without an SRP implementation; the password travels only inside TLS.
            explicit_auth_flows=["ALLOW_USER_SRP_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            prevent_user_existence_errors="ENABLED",
            access_token_validity=60,
            id_token_validity=60,
            token_validity_units={"access_token": "minutes", "id_token": "minutes", "refresh_token": "days"},
            opts=child,
        )
        self.user_pool_id = pool.id
        self.client_id = client.id
        self.issuer = self._issuer(platform, self.user_pool_id)

    @staticmethod
    def _issuer(platform: Platform, user_pool_id: pulumi.Input[str]) -> pulumi.Output[str]:
        """The ``iss`` of the pool's tokens: https://cognito-idp.{region}.{partition DNS suffix}/{pool id}
        (a configured pool id such as ``eu-west-1_AbC`` names its own region)."""
        region = user_pool_id.split("_", 1)[0] if isinstance(user_pool_id, str) and "_" in user_pool_id else platform.region
        return pulumi.Output.concat("https://cognito-idp.", region, ".", platform.dns_suffix, "/", user_pool_id)
