// The page's runtime configuration: `config.json` next to the pages. Local mode serves it from
// the local server; a deployed stack's hosting component writes it from the stack's outputs.

/**
 * Load and check config.json.
 * @returns {Promise<{websocketUrl: string, region: string, stack: string,
 *   auth: {kind: "local", tokenUrl: string} | {kind: "cognito", userPoolId: string, clientId: string}}>}
 */
export async function loadConfig(url = new URL("config.json", document.baseURI)) {
  const response = await fetch(url, { cache: "no-store" });
  if (!response.ok) throw new Error(`config.json could not be loaded (HTTP ${response.status})`);
  const config = await response.json();
  if (typeof config.websocketUrl !== "string" || !/^wss?:\/\//.test(config.websocketUrl)) {
    throw new Error("config.json has no valid websocketUrl");
  }
  const kind = config.auth && config.auth.kind;
  if (kind === "local") {
    if (typeof config.auth.tokenUrl !== "string") throw new Error("config.json: auth.tokenUrl missing");
  } else if (kind === "cognito") {
    if (!config.auth.userPoolId || !config.auth.clientId) throw new Error("config.json: Cognito ids missing");
  } else {
    throw new Error(`config.json: unknown auth kind ${JSON.stringify(kind)}`);
  }
  return config;
}
