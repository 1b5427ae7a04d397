import { describe, expect, it } from 'vitest';
import { buildWeight } from './indexes.ts';

describe('buildWeight (the order deferred indexes are rebuilt in)', () => {
  it('puts the unique key first, wider B-trees before narrower ones, one-pass kinds last', () => {
    const defs = [
      'CREATE INDEX payments_loaded_brin ON public.payments USING brin (loaded_at)',
      'CREATE INDEX payments_account ON public.payments USING btree (account_no)',
      "CREATE INDEX payments_person_scheme_period ON public.payments USING btree (id_number, scheme_code, period) WITH (deduplicate_items='off')",
      'CREATE UNIQUE INDEX payments_key ON public.payments USING btree (payment_id)',
      'CREATE INDEX x_hash ON public.payments USING hash (account_no)',
      "CREATE INDEX x_partial ON public.payments USING btree (id_number, period) WHERE (status = 'paid'::text)"
    ];
    const order = [...defs].sort((a, b) => buildWeight(b) - buildWeight(a)).map((d) => d.split(' ')[d.startsWith('CREATE UNIQUE') ? 3 : 2]);
    expect(order).toEqual([
      'payments_key',
      'payments_person_scheme_period',
      'x_partial',
      'payments_account',
      'payments_loaded_brin',
      'x_hash'
    ]);
  });
});
