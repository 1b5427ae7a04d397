// Types for region-rule.js (plain JavaScript so that real Cube can load it from cube.js).

export type RegionScope = { mode: 'none' } | { mode: 'path'; dimension: string };
export type RegionScopes = Record<string, RegionScope | undefined>;
export type RegionLevel = 'city' | 'district' | 'town' | 'community';

export interface CallerScope {
  regionCode: string;
  regionLevel: RegionLevel | null;
  cityWide: boolean;
  /** The caller's region path when the context carries one (then the rule filters by prefix). */
  regionPath: string | null;
}

export declare const REGION_LEVELS: RegionLevel[];

export declare class RegionAccessError extends Error {
  readonly status: 403;
  constructor(message: string);
}

export declare function regionScopeOf(meta: unknown): RegionScope | undefined;
export declare function regionScopesFrom(definitions: { name?: unknown; meta?: unknown }[]): RegionScopes;
export declare function readModelFiles(
  modelDir: string,
  parseYaml: (text: string) => unknown
): Promise<{ cubes: unknown[]; views: unknown[] }>;
export declare function loadRegionScopes(modelDir: string, parseYaml: (text: string) => unknown): Promise<RegionScopes>;
export declare function callerScope(securityContext: unknown): CallerScope;
export declare function ownersTouched(query: Record<string, unknown>): Set<string>;
export declare function applyRegionRule<Q extends Record<string, unknown>>(query: Q, securityContext: unknown, scopes: RegionScopes): Q;
export declare function createQueryRewrite(
  scopes: RegionScopes
): <Q extends Record<string, unknown>>(query: Q, securityContext: unknown) => Q;
