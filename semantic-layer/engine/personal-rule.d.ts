// Types for personal-rule.js (plain JavaScript so that real Cube can load it from cube.js).

/** Member path (`cube.member` or `view.member`) → personal-data kind (id_number, name, phone…). */
export type PersonalMembers = Record<string, string>;

export declare const UNMASK_ROLES: string[];
export declare const PERSONAL_KINDS: string[];

export declare class PersonalDataError extends Error {
  readonly status: 403;
  constructor(message: string);
}

export declare function personalKindOf(meta: unknown): string | undefined;
export declare function mayReadPersonal(securityContext: unknown): boolean;
export declare function personalMembersFrom(cubes: unknown[], views?: unknown[]): PersonalMembers;
export declare function loadPersonalMembers(modelDir: string, parseYaml: (text: string) => unknown): Promise<PersonalMembers>;
export declare function personalMembersTouched(
  query: Record<string, unknown>,
  personal: PersonalMembers
): { selected: string[]; filtered: string[]; ordered: string[] };
export declare function checkPersonalQuery(
  query: Record<string, unknown>,
  securityContext: unknown,
  personal: PersonalMembers
): { unmasked: boolean; selected: string[] };
export declare function applyPersonalRule<Q extends Record<string, unknown>>(
  query: Q,
  securityContext: unknown,
  personal: PersonalMembers
): Q;
