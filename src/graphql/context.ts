import { authenticate, type JwtSettings } from '../auth/authenticate.js';
import type { Principal } from '../auth/principal.js';
import type { Database } from '../db/client.js';
import { createLoaders, type Loaders } from '../loaders/createLoaders.js';

/** Everything a resolver or permission rule may use. Built fresh for every request. */
export interface RequestContext {
  readonly requestId: string;
  readonly principal: Principal;
  readonly db: Database;
  readonly loaders: Loaders;
  readonly clientAddress: string;
}

export interface ContextDeps {
  readonly db: Database;
  readonly jwt: JwtSettings;
}

export interface IncomingRequest {
  readonly requestId: string;
  readonly authorization: string | undefined;
  readonly clientAddress: string;
}

/**
 * Authenticates the request and builds its context, with loaders bound to the caller's tenant.
 *
 * @throws UnauthenticatedError (HTTP 401) when the bearer token is missing or invalid.
 */
export async function createRequestContext(
  deps: ContextDeps,
  request: IncomingRequest,
): Promise<RequestContext> {
  const principal = await authenticate(request.authorization, deps.jwt);
  return {
    requestId: request.requestId,
    principal,
    db: deps.db,
    loaders: createLoaders({ db: deps.db, tenantId: principal.tenantId }),
    clientAddress: request.clientAddress,
  };
}
