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
}

export interface IncomingRequest {
  readonly requestId: string;
  /** The caller, already authenticated by the HTTP layer. */
  readonly principal: Principal;
  readonly clientAddress: string;
}

/** Builds a request's context, with loaders bound to the caller's tenant. */
export function createRequestContext(deps: ContextDeps, request: IncomingRequest): RequestContext {
  const { principal } = request;
  return {
    requestId: request.requestId,
    principal,
    db: deps.db,
    loaders: createLoaders({ db: deps.db, tenantId: principal.tenantId }),
    clientAddress: request.clientAddress,
  };
}
