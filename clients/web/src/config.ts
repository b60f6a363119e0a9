// What the server tells its pages at GET /config.json: where its gRPC-Web
// endpoint is, and how people sign in.

/**
 * - `off`: the server runs without authentication; a customer only says
 *   who they are (used as customer_id), no token is sent.
 * - `development`: the server has the development HS256 secret; the page
 *   gets a token for a named customer, or for the warehouse, at POST
 *   /dev/token.
 * - `required`: tokens come from an identity provider; a person pastes one.
 */
export type AuthMode = "off" | "development" | "required";

export interface WebConfig {
  grpcWebUrl: string;
  auth: AuthMode;
}

export async function loadConfig(): Promise<WebConfig> {
  let response: Response;
  try {
    response = await fetch("/config.json", { cache: "no-store" });
  } catch {
    throw new Error("The page could not reach the server to read its settings. Check your connection and reload.");
  }
  if (!response.ok) {
    throw new Error(`The server did not hand out the page's settings (/config.json answered ${response.status}).`);
  }
  const config = (await response.json()) as Partial<WebConfig>;
  const modes: AuthMode[] = ["off", "development", "required"];
  if (typeof config.grpcWebUrl !== "string" || !modes.includes(config.auth as AuthMode)) {
    throw new Error("The server's settings for this page (/config.json) are not what the page understands.");
  }
  return { grpcWebUrl: config.grpcWebUrl, auth: config.auth as AuthMode };
}
