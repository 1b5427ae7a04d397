// Public surface of the embedded Cube-compatible engine.
export {
  createSemanticEngine,
  errorResponse,
  personalMembersOf,
  type SemanticEngine,
  type SemanticEngineOptions,
  type ResultObject,
  type MultiResponse,
  type SqlResponse,
  type LoadOptions,
  type PersonalDataEvent,
  type PersonalDataHook
} from './engine.ts';
export { loadModel, type SemanticModel } from './model.ts';
export { normalizeQuery, type NormalizedQuery } from './query.ts';
export { planQuery, type Plan } from './planner.ts';
export { signToken, verifyToken, type SecurityContext } from './auth.ts';
export { UserError, ForbiddenError, ModelError } from './errors.ts';
export {
  applyRegionRule,
  callerScope,
  createQueryRewrite,
  regionScopeOf,
  RegionAccessError,
  type RegionScope,
  type RegionScopes,
  type CallerScope
} from './region-rule.js';
export {
  applyPersonalRule,
  checkPersonalQuery,
  mayReadPersonal,
  personalMembersFrom,
  PersonalDataError,
  UNMASK_ROLES,
  type PersonalMembers
} from './personal-rule.js';
