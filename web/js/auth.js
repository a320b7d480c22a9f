// Sign-in: the local issuer in local mode, Amazon Cognito's user pool for a deployed stack.
// Cognito is called directly with fetch (InitiateAuth, USER_PASSWORD_AUTH then
// REFRESH_TOKEN_AUTH): no SDK, so the pages need no build step.

const REFRESH_MARGIN_MS = 5 * 60 * 1000;

/** A sign-in failure with a message for people. */
export class SignInError extends Error {}

/**
 * Holds the signed-in user's tokens and hands out a valid access token (the only kind the
 * stack's authorizer accepts), renewing it before expiry.
 */
export class Session {
  constructor(config) {
    this.config = config;
    this.username = null;
    this.accessToken = null;
    this.refreshToken = null;
    this.expiresAt = 0;
  }

  get signedIn() {
    return Boolean(this.accessToken);
  }

  /** Sign in; throws SignInError with a readable message. */
  async signIn(username, password) {
    if (!username) throw new SignInError("Enter a user name.");
    this.username = username;
    if (this.config.auth.kind === "local") {
      await this.#localToken();
    } else {
      if (!password) throw new SignInError("Enter your password.");
      await this.#cognito("USER_PASSWORD_AUTH", { USERNAME: username, PASSWORD: password });
    }
  }

  /** A token valid for at least a few more minutes (renewed when needed). */
  async token() {
    if (!this.accessToken) throw new SignInError("Not signed in.");
    if (Date.now() < this.expiresAt - REFRESH_MARGIN_MS) return this.accessToken;
    if (this.config.auth.kind === "local") {
      await this.#localToken();
    } else if (this.refreshToken) {
      await this.#cognito("REFRESH_TOKEN_AUTH", { REFRESH_TOKEN: this.refreshToken });
    }
    return this.accessToken;
  }

  async #localToken() {
    const url = new URL(this.config.auth.tokenUrl, document.baseURI);
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username: this.username }),
      });
    } catch (error) {
      throw new SignInError(`The local sign-in service cannot be reached (${error.message}).`);
    }
    if (!response.ok) throw new SignInError(`Local sign-in refused (HTTP ${response.status}).`);
    const body = await response.json();
    this.#store(body.accessToken, body.expiresIn, null);
  }

  async #cognito(flow, parameters) {
    const { region, auth } = this.config;
    let response;
    try {
      // `endpoint` is for tests against a Cognito stand-in; deployed stacks leave it out.
      response = await fetch(auth.endpoint || `https://cognito-idp.${region}.amazonaws.com/`, {
        method: "POST",
        headers: {
          "Content-Type": "application/x-amz-json-1.1",
          "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
        },
        body: JSON.stringify({ AuthFlow: flow, ClientId: auth.clientId, AuthParameters: parameters }),
      });
    } catch (error) {
      throw new SignInError(`Amazon Cognito cannot be reached (${error.message}).`);
    }
    const body = await response.json().catch(() => ({}));
    if (!response.ok) {
      const kind = String(body.__type || "").split("#").pop();
      const messages = {
        NotAuthorizedException: "Wrong user name or password.",
        UserNotFoundException: "Wrong user name or password.",
        PasswordResetRequiredException: "Your password must be reset before you can sign in.",
        UserNotConfirmedException: "This account is not confirmed yet.",
        TooManyRequestsException: "Too many sign-in attempts; wait a moment.",
      };
      throw new SignInError(messages[kind] || body.message || `Sign-in failed (HTTP ${response.status}).`);
    }
    if (body.ChallengeName) {
      throw new SignInError(body.ChallengeName === "NEW_PASSWORD_REQUIRED"
        ? "This account must set a new password first (ask your administrator)."
        : `Sign-in needs a step this page does not support (${body.ChallengeName}).`);
    }
    const result = body.AuthenticationResult;
    this.#store(result.AccessToken, result.ExpiresIn, result.RefreshToken || this.refreshToken);
  }

  #store(accessToken, expiresInSeconds, refreshToken) {
    if (!accessToken) throw new SignInError("Sign-in answered without a token.");
    this.accessToken = accessToken;
    this.expiresAt = Date.now() + (Number(expiresInSeconds) || 3600) * 1000;
    this.refreshToken = refreshToken;
  }
}
