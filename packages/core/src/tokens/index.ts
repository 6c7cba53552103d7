export {
  API_ROLES,
  createApiToken,
  getApiToken,
  listApiTokens,
  parseApiRole,
  parseTokenName,
  revokeApiToken,
  activeTokenIds,
  agentScope,
  verifyApiToken,
  type ApiTokenRecord,
  type CreateApiTokenInput,
  type VerifiedApiToken,
} from "./tokens.js";
export { mintAgentToken, secretAgentTokenIssuer, secretAgentTokenName, type MintAgentTokenInput } from "./agent-tokens.js";
export { ensureBootstrapAdminToken, BOOTSTRAP_TOKEN_NAME, type BootstrapResult } from "./bootstrap.js";
export { AgentTokenPoolRequiredError, AgentTokenWithoutPoolError, ApiTokenNotFoundError, InvalidTokenNameError, InvalidTokenRoleError, TokenPoolNotAllowedError, TokenPoolNotFoundError } from "./errors.js";
