import { describe, expect, it } from 'vitest';
import { DEFAULT_RULES } from '../reference/rules.ts';
import { addMonths, decideCertification, followUpDates, type Timeline, type TimelineEvidence } from './certification-rules.ts';

const cfg = DEFAULT_RULES.certification;
const asOf = '2025-06-30';
const strong = (id: string, date: string, source = 'HEALTH_HIS'): TimelineEvidence => ({
  evidence_id: id,
  source,
  kind: 'outpatient_visit',
  strength: 'strong',
  date
});
const weak = (id: string, date: string, source: string): TimelineEvidence => ({
  evidence_id: id,
  source,
  kind: 'bus_swipe',
  strength: 'weak',
  date
});
const decide = (t: Omit<Timeline, 'asOf'>) => decideCertification({ asOf, ...t }, cfg);

describe('silent certification decisions (docs/rules.md 1–8)', () => {
  it('certifies silently on one strong record in the last 12 months, valid 12 months from it', () => {
    const d = decide({ evidence: [strong('e1', '2025-01-15')] });
    expect(d).toMatchObject({
      status: 'certified',
      method: 'silent',
      certified_at: '2025-01-15',
      valid_until: '2026-01-15',
      rule: 'strong_evidence',
      evidence_ids: ['e1']
    });
  });

  it('lets strong evidence older than 12 months lapse (expired, with the lapsed validity kept)', () => {
    const d = decide({ evidence: [strong('e1', '2024-05-01')] });
    expect(d).toMatchObject({ status: 'not_certified', rule: 'expired', method: null, certified_at: null, last_valid_until: '2025-05-01' });
    expect(decide({})).toMatchObject({ status: 'not_certified', rule: 'never_certified' });
  });

  it('on the same day a silent basis beats an explicit one; a later explicit one wins', () => {
    const same = decide({
      evidence: [strong('e1', '2025-03-01')],
      certifications: [{ certification_id: 'c1', method: 'counter', date: '2025-03-01', result: 'pass' }]
    });
    expect(same).toMatchObject({ method: 'silent', certified_at: '2025-03-01', rule: 'strong_evidence' });
    const later = decide({
      evidence: [strong('e1', '2025-03-01')],
      certifications: [{ certification_id: 'c1', method: 'kiosk', date: '2025-03-02', result: 'pass' }]
    });
    expect(later).toMatchObject({ method: 'kiosk', certified_at: '2025-03-02', rule: 'explicit_certification', evidence_ids: ['c1'] });
    const failed = decide({
      evidence: [strong('e1', '2025-03-01')],
      certifications: [{ certification_id: 'c1', method: 'kiosk', date: '2025-03-02', result: 'fail' }]
    });
    expect(failed).toMatchObject({ method: 'silent', certified_at: '2025-03-01' });
  });

  it('does not corroborate weak records from the same source', () => {
    expect(
      decide({
        evidence: [
          weak('w1', '2025-03-01', 'TRANSIT_CARD'),
          weak('w2', '2025-03-20', 'TRANSIT_CARD'),
          weak('w3', '2025-04-20', 'TRANSIT_CARD')
        ]
      })
    ).toMatchObject({ status: 'not_certified', rule: 'never_certified' });
  });

  it('does not corroborate weak records from two sources more than 90 days apart', () => {
    expect(decide({ evidence: [weak('w1', '2025-01-01', 'TRANSIT_CARD'), weak('w2', '2025-04-02', 'TELECOM')] })).toMatchObject({
      status: 'not_certified'
    });
  });

  it('corroborates two weak sources within 90 days, valid from the earlier record', () => {
    const d = decide({ evidence: [weak('w1', '2025-01-01', 'TRANSIT_CARD'), weak('w2', '2025-03-31', 'TELECOM')] });
    expect(d).toMatchObject({
      status: 'certified',
      method: 'silent',
      rule: 'weak_corroboration',
      certified_at: '2025-01-01',
      valid_until: '2026-01-01',
      evidence_ids: ['w1', 'w2']
    });
  });

  it('prefers the most recent basis: a newer weak pair over older strong evidence', () => {
    const d = decide({
      evidence: [strong('e1', '2024-09-01'), weak('w1', '2025-02-01', 'UTILITY'), weak('w2', '2025-02-10', 'PHARMACY_NET')]
    });
    expect(d).toMatchObject({ rule: 'weak_corroboration', certified_at: '2025-02-01' });
  });

  it('never certifies a dead person; evidence after death is post-death activity', () => {
    const d = decide({
      evidence: [strong('e1', '2025-05-01'), weak('w1', '2025-05-02', 'TELECOM')],
      deaths: [{ record_id: 'd1', death_date: '2025-04-10' }]
    });
    expect(d).toMatchObject({ status: 'negative', rule: 'negative_death', method: null, certified_at: null, evidence_ids: ['d1'] });
    expect(d.post_death_ids).toEqual(['e1', 'w1']);
  });

  it('ongoing custody is negative; after an ended custody only later evidence counts', () => {
    expect(
      decide({ evidence: [strong('e1', '2025-05-01')], imprisonments: [{ record_id: 'i1', start_date: '2025-01-01', end_date: null }] })
    ).toMatchObject({ status: 'negative', rule: 'negative_custody' });
    expect(
      decide({
        evidence: [strong('e1', '2025-05-01')],
        imprisonments: [{ record_id: 'i1', start_date: '2025-01-01', end_date: '2025-08-01' }]
      })
    ).toMatchObject({ status: 'negative', rule: 'negative_custody' });
    expect(
      decide({
        evidence: [strong('e1', '2025-05-01')],
        imprisonments: [{ record_id: 'i1', start_date: '2024-10-01', end_date: '2025-02-01' }]
      })
    ).toMatchObject({ status: 'certified', certified_at: '2025-05-01' });
    expect(
      decide({
        evidence: [strong('e1', '2024-09-01')],
        imprisonments: [{ record_id: 'i1', start_date: '2024-10-01', end_date: '2025-02-01' }]
      })
    ).toMatchObject({ status: 'not_certified' });
  });

  it('ignores facts not yet known on the as-of date', () => {
    expect(decide({ evidence: [strong('e1', '2025-07-01')] })).toMatchObject({ status: 'not_certified' });
    expect(
      decide({ evidence: [strong('e1', '2025-05-01')], deaths: [{ record_id: 'd1', death_date: '2025-06-01', recorded_on: '2025-07-15' }] })
    ).toMatchObject({ status: 'certified' });
  });

  it('is deterministic: the same timeline in any order gives the same decision', () => {
    const ev = [
      strong('b', '2025-03-01'),
      strong('a', '2025-03-01'),
      weak('w1', '2025-01-01', 'UTILITY'),
      weak('w2', '2025-01-05', 'TELECOM')
    ];
    expect(decide({ evidence: ev })).toEqual(decide({ evidence: [...ev].reverse() }));
    expect(decide({ evidence: ev }).evidence_ids).toEqual(['a', 'b']);
  });

  it('dates the follow-up steps from the lapse', () => {
    expect(followUpDates('2025-05-01', cfg)).toEqual({
      reminder: '2025-04-02',
      lapse: '2025-05-02',
      fieldTask: '2025-05-02',
      suspension: '2025-07-01'
    });
    expect(addMonths('2024-02-29', 12)).toBe('2025-02-28');
    expect(addMonths('2025-03-31', -1)).toBe('2025-02-28');
  });
});
